// Package devidp is the development OpenID provider: a small OpenID Connect
// provider built on github.com/ory/fosite that runs under `casebridge dev` and
// in tests, so the portal can be exercised over real HTTP against a real
// provider without Keycloak.
//
// It serves discovery, a JWKS, the authorization code flow with PKCE (S256
// only) behind a password-less sign-in page that lists the demo accounts, the
// token endpoint (authorization_code, refresh_token, client_credentials),
// userinfo and RP-initiated logout. Access tokens are JWTs signed with the
// same key as ID tokens (RS256 or ES256), so a relying party verifies bearer
// tokens against the JWKS; they carry iss, sub, aud (the configured
// audience), exp, iat, nbf, jti, the agency claim and the roles claim at a
// configurable dotted path ("roles", or "realm_access.roles" as Keycloak
// does).
//
// The provider listens on loopback addresses only and never asks for a
// password: it is a development tool, not a product feature.
package devidp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/token/jwt"
	"golang.org/x/crypto/bcrypt"
)

// Config configures a development provider. The zero value of every field
// has a usable default.
type Config struct {
	// Addr is the listen address; it must be a loopback address.
	// Default "127.0.0.1:0" (a free port).
	Addr string
	// Algorithm signs ID and access tokens: RS256 (default) or ES256.
	Algorithm string
	// RolesClaim is the dotted path where roles go in ID and access tokens:
	// "roles" (default) or e.g. "realm_access.roles".
	RolesClaim string
	// AgencyClaim is the dotted path of the agency code claim. Default "agency".
	AgencyClaim string
	// Audience is the aud of access tokens. Default "casebridge".
	Audience string
	// Accounts may sign in. Default: the demo accounts of
	// configs/demo-accounts.yaml.
	Accounts []Account
	// Clients are the registered OAuth 2.0 clients: the portal (a
	// confidential client with redirect URIs) and partner systems (client
	// credentials bound to an agency and roles). More can be added later with
	// RegisterClient.
	Clients []Client
	// KeyFile, when set, keeps the signing key (PKCS#8 PEM) across restarts;
	// it is created if missing and rewritten by RotateKey.
	KeyFile string
	// DataDir, when set, makes the provider write DataDir/devidp.json (mode
	// 0600) with its issuer and a fresh random dev secret, and register one
	// client-credentials client per account ("dev-token.<username>") whose
	// secret is that dev secret. MintToken uses them; see devtoken.go.
	DataDir string
	// AccessTokenLifespan defaults to one hour, IDTokenLifespan to one hour,
	// RefreshTokenLifespan to a day.
	AccessTokenLifespan  time.Duration
	IDTokenLifespan      time.Duration
	RefreshTokenLifespan time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Client is a registered OAuth 2.0 client.
type Client struct {
	ID     string
	Secret string
	// RedirectURIs, when set, allow the authorization code flow (with PKCE
	// S256) and refresh tokens.
	RedirectURIs []string
	// PostLogoutRedirectURIs are the URIs end_session may redirect to.
	PostLogoutRedirectURIs []string
	// Agency, when set, allows the client_credentials grant: the access token
	// carries this agency and Roles, and the client id as subject.
	Agency string
	Roles  []string
	// Name is shown on the sign-in page ("Signing in to ...").
	Name string
}

// Provider is a running development provider.
type Provider struct {
	cfg      Config
	log      *slog.Logger
	issuer   string
	keys     *keyring
	store    *memoryStore
	oauth    fosite.OAuth2Provider
	accounts map[string]Account
	order    []string // account usernames in configured order
	srv      *http.Server
	done     chan struct{}
	closeMu  sync.Mutex
	closed   bool
}

// Start validates cfg, listens on its loopback address and serves the
// provider until ctx is done or Close is called.
func Start(ctx context.Context, cfg Config) (*Provider, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	addr, err := loopbackAddr(cfg.Addr)
	if err != nil {
		return nil, err
	}
	keys, err := newKeyring(cfg.Algorithm, cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("start dev provider: %w", err)
	}
	p := &Provider{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "devidp"),
		keys:     keys,
		store:    newMemoryStore(),
		accounts: map[string]Account{},
		done:     make(chan struct{}),
	}
	for _, a := range cfg.Accounts {
		if _, dup := p.accounts[a.Username]; dup || a.Username == "" {
			return nil, fmt.Errorf("start dev provider: missing or duplicate account %q", a.Username)
		}
		p.accounts[a.Username] = a
		p.order = append(p.order, a.Username)
	}
	for _, c := range cfg.Clients {
		if err := p.RegisterClient(c); err != nil {
			return nil, fmt.Errorf("start dev provider: %w", err)
		}
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("start dev provider: listen on %s: %w", addr, err)
	}
	p.issuer = "http://" + ln.Addr().String()
	p.oauth = p.compose()

	if cfg.DataDir != "" {
		if err := p.writeDevFile(); err != nil {
			_ = ln.Close() // the write error is the one to report
			return nil, fmt.Errorf("start dev provider: %w", err)
		}
	}

	p.srv = &http.Server{
		Handler:           p.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
	}
	go func() {
		defer close(p.done)
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("dev provider stopped", "err", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = p.Close() // nothing to report to
		case <-p.done:
		}
	}()
	p.log.Info("dev provider listening", "issuer", p.issuer, "alg", cfg.Algorithm, "kid", keys.kid())
	return p, nil
}

func (c *Config) defaults() error {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	switch c.Algorithm {
	case "":
		c.Algorithm = RS256
	case RS256, ES256:
	default:
		return fmt.Errorf("start dev provider: unsupported algorithm %q (want RS256 or ES256)", c.Algorithm)
	}
	if c.RolesClaim == "" {
		c.RolesClaim = "roles"
	}
	if c.AgencyClaim == "" {
		c.AgencyClaim = "agency"
	}
	for _, path := range []string{c.RolesClaim, c.AgencyClaim} {
		if !validClaimPath(path) {
			return fmt.Errorf("start dev provider: bad claim path %q", path)
		}
	}
	if c.Audience == "" {
		c.Audience = "casebridge"
	}
	if c.Accounts == nil {
		d, err := Demo()
		if err != nil {
			return fmt.Errorf("start dev provider: %w", err)
		}
		c.Accounts = d.Accounts
	}
	if c.AccessTokenLifespan <= 0 {
		c.AccessTokenLifespan = time.Hour
	}
	if c.IDTokenLifespan <= 0 {
		c.IDTokenLifespan = time.Hour
	}
	if c.RefreshTokenLifespan <= 0 {
		c.RefreshTokenLifespan = 24 * time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// loopbackAddr checks that addr listens on a loopback IP address ("localhost"
// is taken as 127.0.0.1) and returns it.
func loopbackAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("start dev provider: listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return "", fmt.Errorf("start dev provider: listen address %q is not a loopback address; the development provider never listens beyond this machine", addr)
	}
	return net.JoinHostPort(ip.String(), port), nil
}

// compose builds the fosite provider: authorization code with PKCE (S256
// only, required), client credentials, refresh tokens and OpenID Connect,
// with JWT access tokens signed by the keyring.
func (p *Provider) compose() fosite.OAuth2Provider {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // crypto/rand.Read never fails
	fc := &fosite.Config{
		AccessTokenLifespan:            p.cfg.AccessTokenLifespan,
		RefreshTokenLifespan:           p.cfg.RefreshTokenLifespan,
		IDTokenLifespan:                p.cfg.IDTokenLifespan,
		AuthorizeCodeLifespan:          5 * time.Minute,
		IDTokenIssuer:                  p.issuer,
		AccessTokenIssuer:              p.issuer,
		TokenURL:                       p.issuer + tokenPath,
		GlobalSecret:                   secret,
		HashCost:                       bcrypt.MinCost,
		SendDebugMessagesToClients:     true,
		EnforcePKCE:                    true,
		EnablePKCEPlainChallengeMethod: false,
		ScopeStrategy:                  fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:       fosite.DefaultAudienceMatchingStrategy,
		JWTScopeClaimKey:               jwt.JWTScopeFieldString,
		MinParameterEntropy:            fosite.MinParameterEntropy,
	}
	hmacStrategy := compose.NewOAuth2HMACStrategy(fc)
	strategy := &compose.CommonStrategy{
		CoreStrategy: &oauth2.DefaultJWTStrategy{
			Signer:          &accessTokenSigner{DefaultSigner: jwt.DefaultSigner{GetPrivateKey: p.keys.signingKey}},
			HMACSHAStrategy: hmacStrategy,
			Config:          fc,
		},
		OpenIDConnectTokenStrategy: compose.NewOpenIDConnectStrategy(p.keys.signingKey, fc),
		Signer:                     &jwt.DefaultSigner{GetPrivateKey: p.keys.signingKey},
	}
	return compose.Compose(fc, p.store, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectRefreshFactory,
		compose.OAuth2PKCEFactory,
	)
}

// accessTokenSigner stamps iat and nbf with the moment of signing. fosite
// keeps the claims of the first token in the stored session, so without this
// a refreshed access token would carry the first token's iat.
type accessTokenSigner struct {
	jwt.DefaultSigner
}

func (s *accessTokenSigner) Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	now := time.Now().Unix()
	claims["iat"] = now
	claims["nbf"] = now
	return s.DefaultSigner.Generate(ctx, claims, header)
}

// Issuer returns the issuer URL, http://127.0.0.1:PORT.
func (p *Provider) Issuer() string { return p.issuer }

// KeyID returns the key id of the current signing key.
func (p *Provider) KeyID() string { return p.keys.kid() }

// RotateKey switches to a new signing key with a new key id and returns it.
// With keepPrevious the old public key stays in the JWKS, so tokens it signed
// still verify; without, they stop verifying at once.
func (p *Provider) RotateKey(keepPrevious bool) (string, error) {
	kid, err := p.keys.rotate(keepPrevious)
	if err != nil {
		return "", fmt.Errorf("rotate signing key: %w", err)
	}
	p.log.Info("signing key rotated", "kid", kid, "previous_kept", keepPrevious)
	return kid, nil
}

// Accounts returns the accounts that may sign in, in configured order.
func (p *Provider) Accounts() []Account {
	out := make([]Account, 0, len(p.order))
	for _, u := range p.order {
		out = append(out, p.accounts[u])
	}
	return out
}

// Close stops the provider.
func (p *Provider) Close() error {
	p.closeMu.Lock()
	if p.closed {
		p.closeMu.Unlock()
		<-p.done
		return nil
	}
	p.closed = true
	p.closeMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.srv.Shutdown(ctx)
	if err != nil {
		err = p.srv.Close()
	}
	<-p.done
	if err != nil {
		return fmt.Errorf("close dev provider: %w", err)
	}
	return nil
}

// RegisterClient adds or replaces a client, e.g. once the portal knows the
// port its redirect URI lives on.
func (p *Provider) RegisterClient(c Client) error {
	if c.ID == "" || c.Secret == "" {
		return fmt.Errorf("register client %q: id and secret required", c.ID)
	}
	if len(c.RedirectURIs) == 0 && c.Agency == "" {
		return fmt.Errorf("register client %q: neither redirect URIs nor an agency: it could use no grant", c.ID)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(c.Secret), bcrypt.MinCost)
	if err != nil {
		return fmt.Errorf("register client %q: %w", c.ID, err)
	}
	fc := &fosite.DefaultClient{
		ID:           c.ID,
		Secret:       hash,
		RedirectURIs: c.RedirectURIs,
		Audience:     []string{p.cfg.Audience},
	}
	if len(c.RedirectURIs) > 0 {
		fc.GrantTypes = append(fc.GrantTypes, "authorization_code", "refresh_token")
		fc.ResponseTypes = []string{"code"}
		fc.Scopes = []string{"openid", "profile", "email", "offline_access"}
	}
	if c.Agency != "" {
		fc.GrantTypes = append(fc.GrantTypes, "client_credentials")
	}
	p.store.put(&client{DefaultClient: fc, cfg: c})
	return nil
}

// registerAccountClient registers the client-credentials client through which
// MintToken gets a user token for account a.
func (p *Provider) registerAccountClient(a Account, secret string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.MinCost)
	if err != nil {
		return fmt.Errorf("register dev token client for %q: %w", a.Username, err)
	}
	acct := a
	p.store.put(&client{
		DefaultClient: &fosite.DefaultClient{
			ID:         devTokenClientPrefix + a.Username,
			Secret:     hash,
			GrantTypes: []string{"client_credentials"},
			Audience:   []string{p.cfg.Audience},
		},
		account: &acct,
	})
	return nil
}

// client is a registered client with what the provider puts in its
// client-credentials tokens.
type client struct {
	*fosite.DefaultClient
	cfg     Client
	account *Account // set for the dev-token clients of MintToken
}

// validClaimPath reports whether path is a dotted path of non-empty names.
func validClaimPath(path string) bool {
	if path == "" {
		return false
	}
	for _, part := range strings.Split(path, ".") {
		if part == "" {
			return false
		}
	}
	return true
}

// setClaim sets the claim at a dotted path, creating (or merging into) the
// objects on the way: setClaim(m, "realm_access.roles", r) gives
// {"realm_access": {"roles": r}}.
func setClaim(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, part := range parts[:len(parts)-1] {
		next, ok := m[part].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[part] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}
