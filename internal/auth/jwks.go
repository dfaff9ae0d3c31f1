package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// keySet is the provider's JWKS as the verifiers use it (it implements
// go-oidc's KeySet). Unlike go-oidc's remote key set, which fetches the JWKS
// again after every failed verification, it fetches only when a token
// names a key id it does not hold, and then at most once per interval:
// a token with a bad signature under a known key is refused without any
// traffic to the provider, so nobody without credentials can drive
// requests at the agency's identity provider. A key rotation is still
// picked up: the first token signed with the new key fetches the set
// (once the interval since the last fetch has passed).
type keySet struct {
	url      string
	client   func() *http.Client
	interval time.Duration
	algs     map[string]bool

	mu        sync.Mutex
	keys      []jose.JSONWebKey
	fetchedAt time.Time // last attempt, successful or not
	fetches   int
	gen       uint64 // counts successful fetches: a verified-token cache entry is as old as its generation
	lastErr   error  // of the last fetch; nil once one succeeded
}

// errUnknownKey: the token names no key of the provider's set.
var errUnknownKey = errors.New("the token is signed by a key the identity provider does not publish")

func newKeySet(url string, client func() *http.Client, interval time.Duration, algs []string) *keySet {
	ks := &keySet{url: url, client: client, interval: interval, algs: map[string]bool{}}
	for _, a := range algs {
		ks.algs[a] = true
	}
	return ks
}

// VerifySignature verifies the JWS and returns its payload.
func (ks *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	algs := make([]jose.SignatureAlgorithm, 0, len(ks.algs))
	for a := range ks.algs {
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	jws, err := jose.ParseSignedCompact(raw, algs)
	if err != nil {
		return nil, fmt.Errorf("malformed jwt: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("the token must carry exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	keys, err := ks.keysFor(ctx, kid)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if payload, err := jws.Verify(k.Key); err == nil {
			return payload, nil
		}
	}
	return nil, errors.New("failed to verify signature")
}

// keysFor returns the keys that may have signed a token with kid (every
// key for a token without kid), fetching the set when kid is unknown and
// the interval allows.
func (ks *keySet) keysFor(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if m := match(ks.keys, kid); len(m) > 0 {
		return m, nil
	}
	if !ks.fetchedAt.IsZero() && time.Since(ks.fetchedAt) < ks.interval {
		return nil, errUnknownKey
	}
	keys, err := ks.fetch(context.WithoutCancel(ctx))
	ks.fetchedAt = time.Now()
	ks.fetches++
	ks.lastErr = err
	if err != nil {
		return nil, fmt.Errorf("%w: fetch keys: %w", ErrUnavailable, err)
	}
	ks.keys = keys
	ks.gen++
	if m := match(ks.keys, kid); len(m) > 0 {
		return m, nil
	}
	return nil, errUnknownKey
}

func match(keys []jose.JSONWebKey, kid string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range keys {
		if kid == "" || k.KeyID == kid {
			out = append(out, k)
		}
	}
	return out
}

func (ks *keySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ks.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := ks.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", ks.url, resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("decode %s: %w", ks.url, err)
	}
	var keys []jose.JSONWebKey
	for _, k := range set.Keys {
		if k.Use == "" || k.Use == "sig" {
			keys = append(keys, k.Public())
		}
	}
	return keys, nil
}

// Fetches reports how many times the key set was fetched (for tests and
// metrics).
func (ks *keySet) Fetches() int {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.fetches
}

// generation counts the successful fetches of the set.
func (ks *keySet) generation() uint64 {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.gen
}

// unavailable reports why no token can be verified: the key set was never
// fetched successfully and the last attempt failed.
func (ks *keySet) unavailable() error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if len(ks.keys) == 0 && ks.lastErr != nil {
		return ks.lastErr
	}
	return nil
}
