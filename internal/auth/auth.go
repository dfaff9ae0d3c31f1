// Package auth is the portal's side of sign-in: an OpenID Connect relying
// party (github.com/coreos/go-oidc with golang.org/x/oauth2) for browsers,
// with server-side sessions in PostgreSQL and a CSRF token, and bearer
// access-token verification for partner systems. Both end in an
// access.Principal: the agency named by a token claim (which must exist and
// be enabled) and the roles its kind allows.
//
// The HTTP handlers and middleware that use it are in internal/httpapi
// (auth.go); this package decides, they only translate.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/casebridge/casebridge/internal/config"
)

// Config is what the Service needs; ConfigFrom derives it from the
// program's settings.
type Config struct {
	Issuer                string
	DiscoveryURL          string // where to fetch discovery, when not at Issuer
	ClientID              string
	ClientSecret          string
	RedirectURL           string
	PostLogoutRedirectURL string
	Scopes                []string
	Audience              string
	AgencyClaim           string
	RolesClaim            string
	SigningAlgs           []string
	ClockSkew             time.Duration
	// JWKSRefreshInterval is the least time between two fetches of the
	// provider's key set (fetched only for a key id not held).
	JWKSRefreshInterval time.Duration
	IdleTimeout         time.Duration
	AbsoluteTimeout     time.Duration
	// PrincipalCacheTTL and PrincipalCacheSize bound the resolved
	// principals kept for bearer tokens; TokenCacheSize the verified tokens
	// (cache.go). Zero sizes turn them off.
	PrincipalCacheTTL  time.Duration
	PrincipalCacheSize int
	TokenCacheSize     int
	// SecureCookies marks cookies Secure (and gives them the __Host- prefix).
	SecureCookies bool
	// HTTPClient talks to the provider; default: a client with a 15s timeout.
	HTTPClient *http.Client
	Log        *slog.Logger
}

// ConfigFrom maps the settings to a Config: callback and post-logout URLs
// default to the public URL, and cookies are Secure unless the portal is
// served over plain HTTP on a loopback address.
func ConfigFrom(cfg config.Config, log *slog.Logger) Config {
	a := cfg.Auth
	public := strings.TrimSuffix(cfg.Server.PublicURL, "/")
	c := Config{
		Issuer: a.Issuer, DiscoveryURL: a.DiscoveryURL, ClientID: a.ClientID, ClientSecret: a.ClientSecret,
		RedirectURL: a.RedirectURL, PostLogoutRedirectURL: a.PostLogoutRedirectURL,
		Scopes: a.Scopes, Audience: a.Audience, AgencyClaim: a.AgencyClaim, RolesClaim: a.RolesClaim,
		SigningAlgs: a.SigningAlgs, ClockSkew: a.ClockSkew, JWKSRefreshInterval: a.JWKSRefreshInterval,
		IdleTimeout: a.SessionIdleTimeout, AbsoluteTimeout: a.SessionAbsoluteTimeout,
		PrincipalCacheTTL: a.PrincipalCacheTTL, PrincipalCacheSize: a.PrincipalCacheSize, TokenCacheSize: a.TokenCacheSize,
		SecureCookies: !plainLoopback(public),
		Log:           log,
	}
	if c.RedirectURL == "" && public != "" {
		c.RedirectURL = public + "/auth/callback"
	}
	if c.PostLogoutRedirectURL == "" && public != "" {
		c.PostLogoutRedirectURL = public + "/"
	}
	return c
}

// plainLoopback reports whether raw is an http:// URL on a loopback host,
// the one case where cookies may go without Secure.
func plainLoopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Service signs people in and recognises them on later requests.
type Service struct {
	cfg  Config
	log  *slog.Logger
	prov *providerCache

	tokens     *lru[verifiedToken]
	principals *lru[cachedPrincipal]
}

// New builds the Service. It does not contact the provider: discovery
// happens on first use and is retried until it succeeds, so the portal can
// start before its provider does.
func New(cfg Config) (*Service, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Issuer != "" {
		if cfg.ClientID == "" || cfg.ClientSecret == "" || cfg.RedirectURL == "" {
			return nil, errors.New("new auth service: client id, client secret and redirect URL are required")
		}
		if cfg.Audience == cfg.ClientID {
			// An ID token's aud is the client id: it would pass as a bearer
			// access token.
			return nil, fmt.Errorf("new auth service: the bearer audience %q must differ from the client id", cfg.Audience)
		}
	}
	if cfg.IdleTimeout <= 0 || cfg.AbsoluteTimeout <= 0 {
		return nil, errors.New("new auth service: session timeouts must be positive")
	}
	for _, alg := range cfg.SigningAlgs {
		if alg == "none" || strings.HasPrefix(alg, "HS") {
			return nil, fmt.Errorf("new auth service: signature algorithm %q is never accepted", alg)
		}
	}
	s := &Service{cfg: cfg, log: cfg.Log.With("component", "auth"), tokens: newLRU[verifiedToken](cfg.TokenCacheSize)}
	if cfg.PrincipalCacheTTL > 0 {
		s.principals = newLRU[cachedPrincipal](cfg.PrincipalCacheSize)
	}
	s.prov = &providerCache{svc: s}
	return s, nil
}

// Enabled reports whether a provider is configured.
func (s *Service) Enabled() bool { return s.cfg.Issuer != "" }

// Errors the HTTP layer maps to responses.
var (
	// ErrNotConfigured: no provider is configured (503).
	ErrNotConfigured = errors.New("sign-in is not configured")
	// ErrUnavailable: the provider cannot be reached (503).
	ErrUnavailable = errors.New("identity provider unavailable")
	// ErrInvalidToken: a bearer token failed verification (401 with
	// WWW-Authenticate: Bearer error="invalid_token").
	ErrInvalidToken = errors.New("invalid bearer token")
	// ErrLoginState: the callback does not belong to a sign-in this browser
	// started, or it expired (400 page).
	ErrLoginState = errors.New("sign-in state missing, expired or not matching")
)

// RefusedError is a sign-in refused for the agency or identity in the
// token; Message says why, for the person (a page) or partner (a problem).
type RefusedError struct {
	Reason string // no_subject, no_agency_claim, unknown_agency, agency_disabled, invalid_claims
	Agency string
	// Detail names the bad claim (invalid_claims).
	Detail string
}

func (e *RefusedError) Error() string { return "sign-in refused: " + e.Reason + " " + e.Agency }

// Message is the sentence shown to the person or partner system.
func (e *RefusedError) Message() string {
	switch e.Reason {
	case "unknown_agency":
		return fmt.Sprintf("Your agency %q is not registered in CaseBridge, so you cannot sign in. Ask a CaseBridge administrator to register it.", e.Agency)
	case "agency_disabled":
		return fmt.Sprintf("Your agency %q is disabled in CaseBridge, so you cannot sign in. Ask a CaseBridge administrator.", e.Agency)
	case "invalid_claims":
		return "Your sign-in cannot be accepted: " + e.Detail + ". Ask your identity provider's administrator to correct it."
	case "no_agency_claim":
		return "Your sign-in did not say which agency you belong to, so you cannot sign in. Ask your identity provider's administrator to add the agency claim."
	default:
		return "Your sign-in did not identify you, so you cannot sign in."
	}
}

// LoginError is a sign-in that the provider ended with an error (for
// example the person cancelled).
type LoginError struct {
	Code, Description string
}

func (e *LoginError) Error() string {
	return "sign-in failed at the provider: " + e.Code + ": " + e.Description
}

// Session is the browser session behind a cookie-authenticated request.
type Session struct {
	ID        string // sessions.id, safe to log
	CSRFToken string
	ExpiresAt time.Time
}

type sessionKey struct{}

// WithSession returns a context carrying the request's browser session.
func WithSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// SessionFrom returns the browser session of the request, if it was
// authenticated by cookie.
func SessionFrom(ctx context.Context) (*Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(*Session)
	return s, ok && s != nil
}
