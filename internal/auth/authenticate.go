package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/casebridge/casebridge/internal/access"
)

// Result is who made a request.
type Result struct {
	Principal access.Principal
	// Session is set when the request was authenticated by the session
	// cookie (and so must carry the CSRF token to change anything); nil for
	// a bearer token.
	Session *Session
	// StaleCookie: the request carried a session cookie that names no live
	// session; the caller should clear it.
	StaleCookie bool
}

// Authenticate finds the principal of a request: from an Authorization:
// Bearer access token when there is one (the cookie is then ignored), else
// from the session cookie. ok is false for an anonymous request.
//
// Errors: ErrInvalidToken (wrapped, with the reason) for a bearer token that
// fails verification; *RefusedError for a valid token whose agency is
// unknown or disabled; ErrNotConfigured or ErrUnavailable when there is no
// provider to check against.
func (s *Service) Authenticate(ctx context.Context, r *http.Request) (res Result, ok bool, err error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return res, false, fmt.Errorf("%w: the Authorization header must be \"Bearer <access token>\"", ErrInvalidToken)
		}
		p, err := s.authenticateBearer(ctx, strings.TrimSpace(token))
		if err != nil {
			return res, false, err
		}
		return Result{Principal: p}, true, nil
	}
	token := s.SessionToken(r)
	if token == "" {
		return res, false, nil
	}
	p, sess, err := s.lookupSession(ctx, token)
	if errors.Is(err, errNoSession) {
		return Result{StaleCookie: true}, false, nil
	}
	if err != nil {
		return res, false, err
	}
	return Result{Principal: p, Session: sess}, true, nil
}

// authenticateBearer verifies an access token (signature by a key of the
// provider's JWKS with an accepted algorithm, issuer, audience, expiry and
// not-before within the skew) and maps its claims to a principal.
func (s *Service) authenticateBearer(ctx context.Context, raw string) (access.Principal, error) {
	var p access.Principal
	r, err := s.prov.get(ctx)
	if err != nil {
		return p, err
	}
	id, err := s.verifyBearer(ctx, r, raw)
	if err != nil {
		return p, err
	}
	p, err = s.principalFor(ctx, id, false)
	if err != nil {
		var refused *RefusedError
		if errors.As(err, &refused) {
			ev := authEvent{Kind: eventBearerRefused, Method: "bearer", Issuer: id.Issuer,
				Subject: id.Subject, Agency: refused.Agency, Reason: refused.Reason}
			if refused.Reason == "invalid_claims" {
				// The claims themselves are what is wrong: keep none of them.
				ev.Subject, ev.Agency, ev.Err = "", "", errors.New(refused.Detail)
			}
			s.recordAuthEvent(ctx, ev)
		}
		return p, err
	}
	return p, nil
}

// verifyBearer verifies raw, or finds it verified before (cache.go): a
// token is verified once while it is valid and the provider's key set has
// not been fetched again since.
func (s *Service) verifyBearer(ctx context.Context, r *remote, raw string) (identity, error) {
	key := tokenKey(raw)
	var gen uint64
	if r.keys != nil {
		// Read before verifying: a fetch during verification only makes the
		// entry older than the set, never newer than what verified it.
		gen = r.keys.generation()
	}
	if v, ok := s.tokens.get(key, time.Now()); ok {
		if v.keyGen == gen {
			return v.id, nil
		}
		s.tokens.remove(key)
	}
	tok, err := r.bearer.Verify(s.clientContext(ctx), raw)
	if err != nil && r.keys != nil {
		if down := r.keys.unavailable(); down != nil {
			return identity{}, fmt.Errorf("%w: the identity provider's keys cannot be fetched: %w", ErrUnavailable, down)
		}
	}
	if err != nil {
		s.recordAuthEvent(ctx, authEvent{Kind: eventBearerRefused, Method: "bearer", Reason: "invalid_token", Err: err})
		return identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return identity{}, fmt.Errorf("%w: claims: %w", ErrInvalidToken, err)
	}
	if err := s.checkNotBefore(claims); err != nil {
		s.recordAuthEvent(ctx, authEvent{Kind: eventBearerRefused, Method: "bearer", Reason: "not_yet_valid", Err: err})
		return identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	id := s.identityFrom(tok.Issuer, claims)
	// go-oidc accepts the token while now - skew <= exp.
	s.tokens.put(key, verifiedToken{id: id, keyGen: gen}, tok.Expiry.Add(s.cfg.ClockSkew))
	return id, nil
}
