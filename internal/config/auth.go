package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"time"
)

// Auth holds the sign-in settings: the OpenID provider, the portal's client
// at it, how token claims map to a principal, and the browser sessions.
type Auth struct {
	// Issuer is the OpenID provider's issuer URL (discovery at
	// Issuer/.well-known/openid-configuration). Empty: nobody can sign in.
	Issuer string `yaml:"issuer"`
	// DiscoveryURL is where the portal itself fetches the discovery document
	// when it cannot reach the issuer URL (e.g. a container reaching Keycloak
	// by its service name while browsers use localhost). Empty: the issuer.
	// The document must still name Issuer as its issuer.
	DiscoveryURL string `yaml:"discovery_url"`
	// ClientID and ClientSecret are the portal's confidential client.
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	// RedirectURL is the callback registered at the provider; empty means
	// server.public_url + /auth/callback.
	RedirectURL string `yaml:"redirect_url"`
	// PostLogoutRedirectURL is where the provider sends the browser after
	// signing out; empty means server.public_url + /.
	PostLogoutRedirectURL string `yaml:"post_logout_redirect_url"`
	// Scopes requested in the browser flow.
	Scopes []string `yaml:"scopes"`
	// Audience must be in the aud claim of bearer access tokens.
	Audience string `yaml:"audience"`
	// AgencyClaim and RolesClaim are dotted paths into the token claims.
	AgencyClaim string `yaml:"agency_claim"`
	RolesClaim  string `yaml:"roles_claim"`
	// SigningAlgs are the accepted token signature algorithms.
	SigningAlgs []string `yaml:"signing_algs"`
	// ClockSkew is the leeway allowed on exp and nbf.
	ClockSkew time.Duration `yaml:"clock_skew"`
	// JWKSRefreshInterval is the least time between two fetches of the
	// provider's key set. The set is fetched again only when a token names
	// a key id it does not hold (a rotation), never after a bad signature.
	JWKSRefreshInterval time.Duration `yaml:"jwks_refresh_interval"`
	// SessionIdleTimeout ends a browser session unused for that long;
	// SessionAbsoluteTimeout ends it that long after sign-in regardless.
	SessionIdleTimeout     time.Duration `yaml:"session_idle_timeout"`
	SessionAbsoluteTimeout time.Duration `yaml:"session_absolute_timeout"`
	// PrincipalCacheTTL is how long a bearer token holder's resolved
	// principal is kept, keyed by issuer, subject and every claim it was
	// built from, so a request writes nothing to users unless the claims
	// changed; the agency is still checked (enabled) on every request.
	// PrincipalCacheSize bounds the entries; 0 turns the cache off.
	PrincipalCacheTTL  time.Duration `yaml:"principal_cache_ttl"`
	PrincipalCacheSize int           `yaml:"principal_cache_size"`
	// TokenCacheSize bounds the verified bearer tokens kept (by SHA-256,
	// until their exp) so a repeated token is not verified again; 0 turns
	// the cache off.
	TokenCacheSize int `yaml:"token_cache_size"`
}

func defaultAuth() Auth {
	return Auth{
		Scopes:                 []string{"openid", "profile", "email"},
		Audience:               "casebridge",
		AgencyClaim:            "agency",
		RolesClaim:             "roles",
		SigningAlgs:            []string{"RS256", "ES256"},
		ClockSkew:              30 * time.Second,
		JWKSRefreshInterval:    10 * time.Second,
		SessionIdleTimeout:     30 * time.Minute,
		SessionAbsoluteTimeout: 12 * time.Hour,
		PrincipalCacheTTL:      time.Minute,
		PrincipalCacheSize:     10000,
		TokenCacheSize:         10000,
	}
}

var claimPath = regexp.MustCompile(`^[A-Za-z0-9_:/-]+(\.[A-Za-z0-9_:/-]+)*$`)

func (c Config) validateAuth() error {
	a := c.Auth
	absolute := func(setting, raw string) error {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			return &Error{Setting: setting, Msg: fmt.Sprintf("%q is not an absolute http(s) URL", raw)}
		}
		return nil
	}
	if a.Issuer != "" {
		if err := absolute("auth.issuer", a.Issuer); err != nil {
			return err
		}
		if a.ClientID == "" {
			return &Error{Setting: "auth.client_id", Msg: "must be set when auth.issuer is set"}
		}
		if a.ClientSecret == "" {
			return &Error{Setting: "auth.client_secret", Msg: "must be set when auth.issuer is set"}
		}
		if a.Audience == a.ClientID {
			return &Error{Setting: "auth.audience", Msg: "must differ from auth.client_id (an ID token's audience is the client id: it must not pass as an access token)"}
		}
		if a.RedirectURL == "" && c.Server.PublicURL == "" {
			return &Error{Setting: "auth.redirect_url", Msg: "must be set when auth.issuer is set and server.public_url is not"}
		}
	}
	for setting, raw := range map[string]string{"auth.redirect_url": a.RedirectURL, "auth.post_logout_redirect_url": a.PostLogoutRedirectURL, "auth.discovery_url": a.DiscoveryURL} {
		if raw != "" {
			if err := absolute(setting, raw); err != nil {
				return err
			}
		}
	}
	if !slices.Contains(a.Scopes, "openid") {
		return &Error{Setting: "auth.scopes", Msg: "must include openid"}
	}
	if a.Audience == "" {
		return &Error{Setting: "auth.audience", Msg: "must be set"}
	}
	for setting, path := range map[string]string{"auth.agency_claim": a.AgencyClaim, "auth.roles_claim": a.RolesClaim} {
		if !claimPath.MatchString(path) {
			return &Error{Setting: setting, Msg: fmt.Sprintf("%q is not a dotted claim path (e.g. roles, realm_access.roles)", path)}
		}
	}
	if len(a.SigningAlgs) == 0 {
		return &Error{Setting: "auth.signing_algs", Msg: "must name at least one of RS256, ES256"}
	}
	for _, alg := range a.SigningAlgs {
		switch alg {
		case "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA":
		default:
			return &Error{Setting: "auth.signing_algs", Msg: fmt.Sprintf("%q is not an asymmetric JWS algorithm (none and HMAC are never accepted)", alg)}
		}
	}
	switch {
	case a.ClockSkew < 0 || a.ClockSkew > 5*time.Minute:
		return &Error{Setting: "auth.clock_skew", Msg: "must be between 0s and 5m"}
	case a.SessionIdleTimeout < time.Minute:
		return &Error{Setting: "auth.session_idle_timeout", Msg: "must be at least 1m"}
	case a.SessionAbsoluteTimeout < a.SessionIdleTimeout:
		return &Error{Setting: "auth.session_absolute_timeout", Msg: "must be at least auth.session_idle_timeout"}
	case a.PrincipalCacheTTL < 0 || a.PrincipalCacheTTL > time.Hour:
		return &Error{Setting: "auth.principal_cache_ttl", Msg: "must be between 0s and 1h"}
	case a.PrincipalCacheSize < 0 || a.PrincipalCacheSize > 1_000_000:
		return &Error{Setting: "auth.principal_cache_size", Msg: "must be between 0 and 1000000"}
	case a.TokenCacheSize < 0 || a.TokenCacheSize > 1_000_000:
		return &Error{Setting: "auth.token_cache_size", Msg: "must be between 0 and 1000000"}
	}
	return nil
}
