package auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/devidp"
)

// clientToken gets an access token for the partner system (client
// credentials, agency emb-vn, role liaison) from the provider.
func (e *env) clientToken() string {
	e.t.Helper()
	cc := clientcredentials.Config{ClientID: partnerID, ClientSecret: partnerSecret, TokenURL: e.idp.Issuer() + "/oauth2/token"}
	tok, err := cc.Token(e.t.Context())
	if err != nil {
		e.t.Fatalf("client credentials: %v", err)
	}
	return tok.AccessToken
}

// signingKey reads the provider's current private key from its key file, so
// a test can forge tokens that differ from a valid one in one way only.
func (e *env) signingKey() crypto.Signer {
	e.t.Helper()
	data, err := os.ReadFile(e.keyFile)
	if err != nil {
		e.t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		e.t.Fatal(err)
	}
	return key.(crypto.Signer)
}

// claims is a valid set of access-token claims for the partner system.
func (e *env) claims() map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": e.idp.Issuer(), "sub": "crafted-partner", "aud": []string{"casebridge"},
		"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(), "nbf": now.Unix(), "jti": "t1",
		"agency": "emb-vn", "roles": []string{"liaison"}, "name": "Crafted partner",
	}
}

func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

// Bearer tokens: a valid one is accepted; every kind of invalid one gets
// 401 with WWW-Authenticate: Bearer error="invalid_token". The forged tokens
// are signed with the provider's own key (read from its key file) and differ
// from the accepted control token in one respect each, so each refusal is
// for the stated reason.
func TestBearerTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	key := e.signingKey()
	kid := e.idp.KeyID()
	valid := e.claims()
	now := time.Now()

	t.Run("provider token", func(t *testing.T) {
		resp, body := e.bearer(e.clientToken())
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"code":"emb-vn"`) || !strings.Contains(body, `"roles":["liaison"]`) {
			t.Fatalf("valid token: %d %s", resp.StatusCode, body)
		}
		if strings.Contains(body, "csrf_token") {
			t.Error("a bearer caller got a CSRF token")
		}
	})
	t.Run("forged control", func(t *testing.T) {
		resp, body := e.bearer(sign(t, jose.RS256, key, kid, valid))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("the control token is refused, so the cases below prove nothing: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("expired within the skew", func(t *testing.T) {
		c := with(valid, "exp", now.Add(-10*time.Second).Unix())
		if resp, body := e.bearer(sign(t, jose.RS256, key, kid, c)); resp.StatusCode != http.StatusOK {
			t.Errorf("a token expired 10s ago (skew 30s) is refused: %d %s", resp.StatusCode, body)
		}
	})

	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	good := sign(t, jose.RS256, key, kid, valid)
	parts := strings.Split(good, ".")

	hs256 := func(secret []byte) string {
		head := b64(map[string]string{"alg": "HS256", "typ": "JWT", "kid": kid})
		in := head + "." + b64(valid)
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[len(sig)/2] ^= 0x01

	bad := map[string]string{
		"expired":                   sign(t, jose.RS256, key, kid, with(valid, "exp", now.Add(-2*time.Minute).Unix())),
		"not yet valid":             sign(t, jose.RS256, key, kid, with(valid, "nbf", now.Add(2*time.Minute).Unix())),
		"wrong issuer":              sign(t, jose.RS256, key, kid, with(valid, "iss", "http://127.0.0.1:1")),
		"wrong audience":            sign(t, jose.RS256, key, kid, with(valid, "aud", []string{"another-api"})),
		"id token audience":         sign(t, jose.RS256, key, kid, with(valid, "aud", []string{portalID})),
		"alg none":                  b64(map[string]string{"alg": "none", "typ": "JWT", "kid": kid}) + "." + b64(valid) + ".",
		"HS256 with the public key": hs256(pubPEM),
		"bad signature":             parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig),
		"other claims, same sig":    parts[0] + "." + b64(with(valid, "roles", []string{"liaison", "admin"})) + "." + parts[2],
		"signed by another key":     sign(t, jose.RS256, otherRSA, kid, valid),
		"unknown kid":               sign(t, jose.RS256, otherRSA, "no-such-kid", valid),
		"garbage":                   "not-a-jwt",
	}
	if ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err == nil {
		bad["ES256 by another key"] = sign(t, jose.ES256, ecKey, kid, valid)
	}
	for name, tok := range bad {
		t.Run(name, func(t *testing.T) {
			resp, body := e.bearer(tok)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", resp.StatusCode, body)
			}
			if wa := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(wa, "Bearer ") || !strings.Contains(wa, `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate %q", wa)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
		})
	}

	t.Run("no credentials", func(t *testing.T) {
		resp, _ := e.request("GET", "/api/v1/me", nil, "")
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("anonymous: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	})
	t.Run("not a bearer scheme", func(t *testing.T) {
		resp, _ := e.request("GET", "/api/v1/me", map[string]string{"Authorization": "Basic Zm9vOmJhcg=="}, "")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Basic: %d", resp.StatusCode)
		}
	})
	t.Run("unknown agency", func(t *testing.T) {
		resp, body := e.bearer(sign(t, jose.RS256, key, kid, with(valid, "agency", "emb-zz")))
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "not registered") {
			t.Errorf("unknown agency: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("disabled agency", func(t *testing.T) {
		if err := e.owner.Exec(`UPDATE agencies SET enabled = false WHERE code = 'emb-us'`).Error; err != nil {
			t.Fatal(err)
		}
		resp, body := e.bearer(sign(t, jose.RS256, key, kid, with(valid, "agency", "emb-us")))
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "disabled") {
			t.Errorf("disabled agency: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("no CSRF for bearer", func(t *testing.T) {
		// A bearer request cannot be forged by another site: no CSRF token
		// needed. (Unrouted, so 404 rather than 403 proves the point.)
		resp, _ := e.request("POST", "/api/v1/nothing-here", map[string]string{"Authorization": "Bearer " + e.clientToken()}, "")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("bearer POST: %d, want 404", resp.StatusCode)
		}
	})
}

// The provider rotates its signing key: tokens signed with the new key are
// accepted without restarting the portal (the JWKS is fetched again for the
// unknown kid); once the old key leaves the JWKS its tokens are refused.
func TestKeyRotationPickedUp(t *testing.T) {
	t.Parallel()
	// Fetches for an unknown kid are at most one per interval: a short one
	// here, so the second rotation right after the first is picked up.
	e := newEnv(t, envOptions{config: func(c *config.Config) { c.Auth.JWKSRefreshInterval = time.Millisecond }})
	before := e.clientToken()
	if resp, _ := e.bearer(before); resp.StatusCode != http.StatusOK {
		t.Fatalf("before rotation: %d", resp.StatusCode)
	}
	if _, err := e.idp.RotateKey(true); err != nil {
		t.Fatal(err)
	}
	after := e.clientToken()
	if resp, body := e.bearer(after); resp.StatusCode != http.StatusOK {
		t.Errorf("token signed with the rotated key: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.bearer(before); resp.StatusCode != http.StatusOK {
		t.Errorf("token signed with the old key, still published: %d", resp.StatusCode)
	}
	// Browsers too: the ID token is signed with the new key.
	b := e.browser()
	b.mustSignIn("gdi-officer")

	if _, err := e.idp.RotateKey(false); err != nil {
		t.Fatal(err)
	}
	if resp, body := e.bearer(e.clientToken()); resp.StatusCode != http.StatusOK {
		t.Errorf("token after the second rotation: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.bearer(before); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token of a key no longer published: %d", resp.StatusCode)
	}
}

// A token minted for a demo account the way `casebridge dev token` does is a
// user token the portal accepts.
func TestDevToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := newEnv(t, envOptions{idp: devidp.Config{DataDir: dir}})
	tok, err := devidp.MintToken(t.Context(), dir, "gdi-supervisor")
	if err != nil {
		t.Fatal(err)
	}
	resp, body := e.bearer(tok)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"code":"gdi"`) || !strings.Contains(body, `"roles":["supervisor"]`) ||
		!strings.Contains(body, `"name":"Dara Sok"`) {
		t.Errorf("dev token: %d %s", resp.StatusCode, body)
	}
	// The same person as after a browser sign-in.
	b := e.browser()
	b.mustSignIn("gdi-supervisor")
	m, _ := b.me()
	if !strings.Contains(body, `"id":"`+m.User.ID+`"`) {
		t.Errorf("dev token user differs from the browser user %s: %s", m.User.ID, body)
	}
}
