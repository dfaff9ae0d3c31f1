package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// jwksServer serves a key set and counts its fetches.
type jwksServer struct {
	*httptest.Server
	hits atomic.Int64
	mu   sync.Mutex
	set  jose.JSONWebKeySet
}

func newJWKSServer(t *testing.T) *jwksServer {
	s := &jwksServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		_ = json.NewEncoder(w).Encode(s.set)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) publish(keys ...*ecdsa.PrivateKey) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set.Keys = nil
	var kids []string
	for i, k := range keys {
		kid := "k" + string(rune('a'+i)) + k.X.Text(16)[:8]
		s.set.Keys = append(s.set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"})
		kids = append(kids, kid)
	}
	return kids
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func signES256(t *testing.T, k *ecdsa.PrivateKey, kid, payload string) string {
	opts := (&jose.SignerOptions{}).WithHeader("kid", kid).WithType("JWT")
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, opts)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := sig.Sign([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Found 4: a token with a bad signature under a key the portal holds never
// makes it fetch the provider's key set again; a token naming an unknown
// kid makes it fetch at most once per interval; a rotation is picked up
// once the interval has passed.
func TestJWKSRefetchPolicy(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t)
	good, attacker := ecKey(t), ecKey(t)
	kids := srv.publish(good)
	ks := newKeySet(srv.URL, func() *http.Client { return srv.Client() }, time.Hour, []string{"ES256", "RS256"})
	ctx := t.Context()

	if _, err := ks.VerifySignature(ctx, signES256(t, good, kids[0], `{"sub":"a"}`)); err != nil {
		t.Fatalf("good token: %v", err)
	}
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("first verification fetched %d times, want 1", n)
	}
	// 50 forged tokens naming the known kid: refused, no fetch.
	for i := range 50 {
		if _, err := ks.VerifySignature(ctx, signES256(t, attacker, kids[0], `{"sub":"forged"}`)); err == nil {
			t.Fatalf("forged token %d accepted", i)
		}
	}
	// A tampered payload under the known kid: refused, no fetch.
	tok := signES256(t, good, kids[0], `{"sub":"a"}`)
	parts := strings.Split(tok, ".")
	parts[1] = "eyJzdWIiOiJhZG1pbiJ9"
	if _, err := ks.VerifySignature(ctx, strings.Join(parts, ".")); err == nil {
		t.Fatal("tampered token accepted")
	}
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("bad signatures under a known kid fetched the key set: %d fetches, want 1", n)
	}
	// 50 tokens naming unknown kids within the interval: no fetch.
	for i := range 50 {
		_, err := ks.VerifySignature(ctx, signES256(t, attacker, "unknown-"+string(rune('a'+i%26)), `{}`))
		if !errors.Is(err, errUnknownKey) {
			t.Fatalf("unknown kid %d: %v", i, err)
		}
	}
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("unknown kids within the interval fetched %d times, want 1 in all", n)
	}

	// With a short interval: a rotation is picked up, and a burst of
	// unknown kids costs at most one fetch per interval.
	ks2 := newKeySet(srv.URL, func() *http.Client { return srv.Client() }, 200*time.Millisecond, []string{"ES256"})
	if _, err := ks2.VerifySignature(ctx, signES256(t, good, kids[0], `{}`)); err != nil {
		t.Fatal(err)
	}
	base := srv.hits.Load()
	time.Sleep(250 * time.Millisecond)
	rotated := ecKey(t)
	kids2 := srv.publish(good, rotated)
	if _, err := ks2.VerifySignature(ctx, signES256(t, rotated, kids2[1], `{}`)); err != nil {
		t.Fatalf("token of the rotated key: %v", err)
	}
	if n := srv.hits.Load() - base; n != 1 {
		t.Fatalf("rotation: %d fetches, want 1", n)
	}
	start := time.Now()
	for range 200 {
		_, _ = ks2.VerifySignature(ctx, signES256(t, attacker, "nope", `{}`))
	}
	elapsed := time.Since(start)
	allowed := int64(elapsed/(200*time.Millisecond)) + 1
	if n := srv.hits.Load() - base - 1; n > allowed {
		t.Fatalf("200 unknown-kid tokens in %v fetched %d times, at most %d allowed", elapsed, n, allowed)
	}
}

// A provider whose key set cannot be fetched is unavailable, not a bad
// token.
func TestJWKSUnavailable(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t)
	url := srv.URL
	srv.Close()
	ks := newKeySet(url, func() *http.Client { return http.DefaultClient }, time.Hour, []string{"ES256"})
	_, err := ks.VerifySignature(t.Context(), signES256(t, ecKey(t), "k", `{}`))
	if !errors.Is(err, ErrUnavailable) || ks.unavailable() == nil {
		t.Fatalf("err %v, unavailable %v", err, ks.unavailable())
	}
}
