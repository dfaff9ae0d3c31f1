package auth

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// remote is what discovery gave: the endpoints and the verifiers, which share
// one JWKS cache (keySet: fetched on first use and again only for a key id
// it does not hold, at most once per auth.jwks_refresh_interval), so a
// provider's key rotation is picked up without a restart.
type remote struct {
	provider *oidc.Provider
	keys     *keySet
	// issParameter: the provider sends iss in authorization responses
	// (RFC 9207 authorization_response_iss_parameter_supported).
	issParameter bool
	oauth        oauth2.Config
	idTokens     *oidc.IDTokenVerifier
	bearer       *oidc.IDTokenVerifier
	endSession   string
}

// providerCache discovers the provider once, retrying (at most every few
// seconds) until discovery succeeds.
type providerCache struct {
	svc        *Service
	mu         sync.Mutex
	remote     *remote
	lastFailed time.Time
	lastErr    error

	// The provider's last reachability check (reachable).
	probeMu  sync.Mutex
	probedAt time.Time
	probeErr error
}

// markDown records that the provider just failed to answer, so the next
// sign-ins get the clear page at once.
func (c *providerCache) markDown(err error) {
	c.probeMu.Lock()
	defer c.probeMu.Unlock()
	c.probedAt, c.probeErr = time.Now(), err
}

// probeEvery is how long a reachability check of the provider is trusted.
const probeEvery = 5 * time.Second

// reachable checks, before a browser is sent to the provider, that the
// provider answers (its discovery document, within 3 seconds), so a person
// gets a clear page here instead of a browser error there. The answer is
// cached for a few seconds, so sign-ins do not each cost a request.
func (c *providerCache) reachable(ctx context.Context) error {
	c.probeMu.Lock()
	defer c.probeMu.Unlock()
	if !c.probedAt.IsZero() && time.Since(c.probedAt) < probeEvery {
		return c.probeErr
	}
	s := c.svc
	base := s.cfg.DiscoveryURL
	if base == "" {
		base = s.cfg.Issuer
	}
	from := strings.TrimSuffix(base, "/") + "/.well-known/openid-configuration"
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	c.probeErr = nil
	req, err := http.NewRequestWithContext(pctx, http.MethodGet, from, nil)
	if err == nil {
		var resp *http.Response
		if resp, err = s.cfg.HTTPClient.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode >= 500 {
				err = fmt.Errorf("%s answered %s", from, resp.Status)
			}
		}
	}
	if err != nil {
		c.probeErr = fmt.Errorf("%w: the identity provider does not answer: %w", ErrUnavailable, err)
		s.log.Warn("openid provider unreachable", "issuer", s.cfg.Issuer, "err", err.Error())
	}
	c.probedAt = time.Now()
	return c.probeErr
}

const discoveryRetry = 5 * time.Second

func (c *providerCache) get(ctx context.Context) (*remote, error) {
	s := c.svc
	if !s.Enabled() {
		return nil, ErrNotConfigured
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.remote != nil {
		return c.remote, nil
	}
	if time.Since(c.lastFailed) < discoveryRetry {
		return nil, c.lastErr
	}
	r, err := s.discover(ctx)
	if err != nil {
		c.lastFailed, c.lastErr = time.Now(), err
		s.log.Warn("openid provider discovery failed", "issuer", s.cfg.Issuer, "err", err.Error())
		return nil, err
	}
	c.remote = r
	s.log.Info("openid provider discovered", "issuer", s.cfg.Issuer, "end_session", r.endSession != "")
	return r, nil
}

// clientContext makes go-oidc and oauth2 use the configured HTTP client.
func (s *Service) clientContext(ctx context.Context) context.Context {
	ctx = oidc.ClientContext(ctx, s.cfg.HTTPClient)
	return context.WithValue(ctx, oauth2.HTTPClient, s.cfg.HTTPClient)
}

func (s *Service) discover(ctx context.Context) (*remote, error) {
	dctx, cancel := context.WithTimeout(s.clientContext(ctx), 15*time.Second)
	defer cancel()
	from := s.cfg.Issuer
	if s.cfg.DiscoveryURL != "" {
		// go-oidc then skips its issuer check; the one below replaces it.
		from = s.cfg.DiscoveryURL
		dctx = oidc.InsecureIssuerURLContext(dctx, s.cfg.Issuer)
	}
	p, err := oidc.NewProvider(dctx, from)
	if err != nil {
		return nil, fmt.Errorf("%w: discover %s: %w", ErrUnavailable, from, err)
	}
	var meta struct {
		Issuer     string `json:"issuer"`
		JWKS       string `json:"jwks_uri"`
		EndSession string `json:"end_session_endpoint"`
		ISSParam   bool   `json:"authorization_response_iss_parameter_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("%w: read discovery document: %w", ErrUnavailable, err)
	}
	if meta.Issuer != s.cfg.Issuer {
		return nil, fmt.Errorf("%w: the discovery document at %s names issuer %q, want %q", ErrUnavailable, from, meta.Issuer, s.cfg.Issuer)
	}
	if meta.JWKS == "" {
		return nil, fmt.Errorf("%w: discovery document of %s has no jwks_uri", ErrUnavailable, s.cfg.Issuer)
	}
	// The key set outlives this request: its context must not be cancelled.
	keys := newKeySet(meta.JWKS, func() *http.Client { return s.cfg.HTTPClient }, s.cfg.JWKSRefreshInterval, s.cfg.SigningAlgs)
	// go-oidc checks exp against Now with no leeway, and nbf with a fixed
	// five minutes; shifting Now back by the skew gives exp its leeway, and
	// checkNotBefore applies the configured one to nbf.
	now := func() time.Time { return time.Now().Add(-s.cfg.ClockSkew) }
	return &remote{
		provider: p,
		keys:     keys,
		oauth: oauth2.Config{
			ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret,
			RedirectURL: s.cfg.RedirectURL, Endpoint: p.Endpoint(), Scopes: s.cfg.Scopes,
		},
		idTokens: oidc.NewVerifier(s.cfg.Issuer, keys, &oidc.Config{
			ClientID: s.cfg.ClientID, SupportedSigningAlgs: s.cfg.SigningAlgs, Now: now,
		}),
		bearer: oidc.NewVerifier(s.cfg.Issuer, keys, &oidc.Config{
			ClientID: s.cfg.Audience, SupportedSigningAlgs: s.cfg.SigningAlgs, Now: now,
		}),
		endSession:   meta.EndSession,
		issParameter: meta.ISSParam,
	}, nil
}

// checkNotBefore refuses a token whose nbf is later than now plus the skew.
func (s *Service) checkNotBefore(claims map[string]any) error {
	raw, ok := claims["nbf"]
	if !ok {
		return nil
	}
	n, ok := raw.(float64)
	if !ok {
		return fmt.Errorf("nbf is not a number")
	}
	nbf := time.Unix(int64(n), 0)
	if nbf.After(time.Now().Add(s.cfg.ClockSkew)) {
		return fmt.Errorf("token not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	return nil
}
