package auth

import (
	"crypto/sha256"
	"strings"
	"sync"
	"time"

	"github.com/casebridge/casebridge/internal/access"
)

// Bearer requests come in thousands per minute from one partner system with
// the same token, so two things are kept in memory, both bounded in size and
// time:
//
//   - tokens: a verified token by its SHA-256, until its exp, so the
//     signature is checked once per token and not once per request. An
//     entry remembers the key set it was verified against: after the set
//     is fetched again (a rotation), the token is verified again, so a
//     token whose key was withdrawn is refused.
//   - principals: the principal resolved for an identity, keyed by every
//     claim it was built from, so a request does not call cb_sign_in_user
//     (a write) when nothing changed. The agency row is still read on every
//     request (principalFor): disabling an agency refuses its users at once.

// lru is a small bounded map with expiry: when full, expired entries go
// first, then the oldest inserted.
type lru[V any] struct {
	mu    sync.Mutex
	max   int
	m     map[[32]byte]lruEntry[V]
	order [][32]byte // insertion order, for eviction
}

type lruEntry[V any] struct {
	v       V
	expires time.Time
}

func newLRU[V any](max int) *lru[V] {
	if max <= 0 {
		return nil
	}
	return &lru[V]{max: max, m: make(map[[32]byte]lruEntry[V])}
}

func (c *lru[V]) get(k [32]byte, now time.Time) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return zero, false
	}
	if !now.Before(e.expires) {
		delete(c.m, k)
		return zero, false
	}
	return e.v, true
}

func (c *lru[V]) put(k [32]byte, v V, expires time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok {
		for len(c.m) >= c.max && len(c.order) > 0 {
			old := c.order[0]
			c.order = c.order[1:]
			delete(c.m, old)
		}
		c.order = append(c.order, k)
	}
	c.m[k] = lruEntry[V]{v: v, expires: expires}
	// Keys deleted on expiry stay in order until evicted; keep order from
	// growing past twice the bound.
	if len(c.order) > 2*c.max {
		kept := c.order[:0]
		for _, o := range c.order {
			if _, ok := c.m[o]; ok {
				kept = append(kept, o)
			}
		}
		c.order = kept
	}
}

func (c *lru[V]) remove(k [32]byte) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}

// verifiedToken is what a verified bearer token said.
type verifiedToken struct {
	id     identity
	keyGen uint64 // the key set's generation it was verified against
}

// cachedPrincipal is a resolved principal with the agency row it was
// resolved against; a request reuses it only while the agency row is
// unchanged and enabled.
type cachedPrincipal struct {
	p      access.Principal
	agency agencyRow
}

func tokenKey(raw string) [32]byte { return sha256.Sum256([]byte(raw)) }

// identityKey hashes every claim a principal is built from.
func identityKey(id identity) [32]byte {
	var b strings.Builder
	for _, s := range []string{id.Issuer, id.Subject, id.Agency, id.Name, id.Username, id.Email} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	for _, r := range id.Roles {
		b.WriteString(r)
		b.WriteByte(1)
	}
	return sha256.Sum256([]byte(b.String()))
}
