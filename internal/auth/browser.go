package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/store"
)

// The browser flow is the authorization code flow with PKCE (S256), state
// and nonce. BeginLogin stores what the callback needs in auth_logins, keyed
// by the SHA-256 of the state, and the state goes into a short-lived cookie:
// the callback must come back to the same browser (cookie state equal to
// the query's, compared in constant time) and may be used once.

// loginLifetime is how long a person may take at the provider's sign-in page.
const loginLifetime = 10 * time.Minute

// BeginLogin starts a browser sign-in and returns the provider URL to send
// the browser to and the state for the login cookie. returnTo is where to go
// afterwards; anything but a local path is replaced by "/".
func (s *Service) BeginLogin(ctx context.Context, returnTo string) (authURL, state string, err error) {
	r, err := s.prov.get(ctx)
	if err != nil {
		return "", "", err
	}
	if err := s.prov.reachable(ctx); err != nil {
		return "", "", err
	}
	state, nonce, verifier := randomToken(32), randomToken(32), oauth2.GenerateVerifier()
	err = store.DB(ctx).Exec(`INSERT INTO auth_logins (state_hash, nonce, verifier, return_to, expires_at) VALUES (decode(?, 'hex'), ?, ?, ?, ?)`,
		hashToken(state), nonce, verifier, SafeReturnTo(returnTo), time.Now().Add(loginLifetime)).Error
	if err != nil {
		return "", "", fmt.Errorf("begin sign-in: %w", err)
	}
	return r.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)), state, nil
}

// SafeReturnTo returns raw when it is a path on this site, else "/". It
// refuses absolute and scheme-relative URLs ("//evil", "/\evil"), control
// characters (browsers drop tabs and newlines, turning "/\t/evil" into
// "//evil") and the sign-in routes themselves.
func SafeReturnTo(raw string) string {
	if raw == "" || len(raw) > 2048 || raw[0] != '/' || strings.HasPrefix(raw, "//") || strings.ContainsRune(raw, '\\') {
		return "/"
	}
	for _, c := range raw {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil || strings.HasPrefix(u.Path, "/auth/") {
		return "/"
	}
	return raw
}

// Completed is a finished browser sign-in.
type Completed struct {
	Token     string // the session cookie's value
	Session   *Session
	Principal access.Principal
	ReturnTo  string
}

// FinishLogin completes a browser sign-in at the callback: cookieState is
// the login cookie's value, query the callback's query, oldToken the
// session cookie the browser still had (ended here, so the session id
// changes at every sign-in).
func (s *Service) FinishLogin(ctx context.Context, cookieState string, query url.Values, oldToken string) (*Completed, error) {
	r, err := s.prov.get(ctx)
	if err != nil {
		return nil, err
	}
	state := query.Get("state")
	if cookieState == "" || state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(cookieState)) != 1 {
		return nil, ErrLoginState
	}
	var login struct {
		Nonce     string
		Verifier  string
		ReturnTo  string
		ExpiresAt time.Time
	}
	err = store.DB(ctx).Raw(`DELETE FROM auth_logins WHERE state_hash = decode(?, 'hex') RETURNING nonce, verifier, return_to, expires_at`,
		hashToken(state)).Scan(&login).Error
	if err != nil {
		return nil, fmt.Errorf("finish sign-in: %w", err)
	}
	if login.Verifier == "" || time.Now().After(login.ExpiresAt) {
		return nil, ErrLoginState
	}
	// RFC 9207: the authorization response names its issuer; a response
	// from another issuer (a mix-up attack) is refused, and so is one
	// without it from a provider that says it sends it.
	if iss, ok := query["iss"]; ok || r.issParameter {
		if !ok || len(iss) != 1 || iss[0] != s.cfg.Issuer {
			s.recordAuthEvent(ctx, authEvent{Kind: eventSignInRefused, Method: "browser", Reason: "issuer_mismatch"})
			return nil, &LoginError{Code: "issuer_mismatch", Description: "The answer did not come from the configured identity provider."}
		}
	}
	if code := query.Get("error"); code != "" {
		return nil, &LoginError{Code: code, Description: query.Get("error_description")}
	}
	tok, err := r.oauth.Exchange(s.clientContext(ctx), query.Get("code"), oauth2.VerifierOption(login.Verifier))
	if err != nil && providerDown(err) {
		s.recordAuthEvent(ctx, authEvent{Kind: eventSignInRefused, Method: "browser", Reason: "provider_unavailable", Err: err})
		err = fmt.Errorf("%w: exchange the sign-in code: %w", ErrUnavailable, err)
		s.prov.markDown(err)
		return nil, err
	}
	if err != nil {
		s.recordAuthEvent(ctx, authEvent{Kind: eventSignInRefused, Method: "browser", Reason: "code_exchange_failed", Err: err})
		return nil, &LoginError{Code: "code_exchange_failed", Description: "The identity provider did not accept the sign-in."}
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := r.idTokens.Verify(s.clientContext(ctx), rawID)
	if err != nil {
		s.recordAuthEvent(ctx, authEvent{Kind: eventSignInRefused, Method: "browser", Reason: "invalid_id_token", Err: err})
		return nil, &LoginError{Code: "invalid_id_token", Description: "The identity provider's answer could not be verified."}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(login.Nonce)) != 1 {
		s.recordAuthEvent(ctx, authEvent{Kind: eventSignInRefused, Method: "browser", Reason: "nonce_mismatch"})
		return nil, &LoginError{Code: "nonce_mismatch", Description: "The identity provider's answer does not belong to this sign-in."}
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			s.recordAuthEvent(ctx, authEvent{Kind: eventSignInRefused, Method: "browser", Reason: "at_hash_mismatch", Err: err})
			return nil, &LoginError{Code: "at_hash_mismatch", Description: "The identity provider's answer could not be verified."}
		}
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("finish sign-in: read claims: %w", err)
	}
	if err := s.checkNotBefore(claims); err != nil {
		s.recordAuthEvent(ctx, authEvent{Kind: eventSignInRefused, Method: "browser", Reason: "not_yet_valid", Err: err})
		return nil, &LoginError{Code: "not_yet_valid", Description: "The identity provider's answer is not valid yet; check the clocks."}
	}
	id := s.identityFrom(idt.Issuer, claims)
	p, err := s.principalFor(ctx, id, true)
	if err != nil {
		var refused *RefusedError
		if errors.As(err, &refused) {
			ev := authEvent{Kind: eventSignInRefused, Method: "browser", Issuer: id.Issuer,
				Subject: id.Subject, Agency: refused.Agency, Reason: refused.Reason}
			if refused.Reason == "invalid_claims" {
				ev.Subject, ev.Agency, ev.Err = "", "", errors.New(refused.Detail)
			}
			s.recordAuthEvent(ctx, ev)
		}
		return nil, err
	}
	if oldToken != "" {
		if _, _, _, _, err := s.deleteSession(ctx, oldToken); err != nil {
			return nil, err
		}
	}
	token, sess, err := s.createSession(ctx, &p)
	if err != nil {
		return nil, err
	}
	s.recordAuthEvent(ctx, authEvent{Kind: eventSignIn, Method: "browser", Issuer: p.Issuer, Subject: p.Subject,
		UserID: p.UserID.String(), Agency: p.AgencyCode, SessionID: sess.ID, Roles: p.Roles})
	s.sweep(ctx)
	return &Completed{Token: token, Session: sess, Principal: p, ReturnTo: login.ReturnTo}, nil
}

// Logout ends the session of a cookie token (if any) and returns where to
// send the browser: the provider's end_session_endpoint when it has one (so
// the person is signed out there too), else the post-logout URL.
func (s *Service) Logout(ctx context.Context, token string) (string, error) {
	if token != "" {
		id, uid, agency, ok, err := s.deleteSession(ctx, token)
		if err != nil {
			return "", err
		}
		if ok {
			s.recordAuthEvent(ctx, authEvent{Kind: eventSignOut, Method: "browser", SessionID: id, UserID: uid, Agency: agency})
		}
	}
	after := s.cfg.PostLogoutRedirectURL
	if after == "" {
		after = "/"
	}
	r, err := s.prov.get(ctx)
	if err != nil || r.endSession == "" {
		return after, nil //nolint:nilerr // signed out here; the provider is optional
	}
	u, err := url.Parse(r.endSession)
	if err != nil {
		return after, nil //nolint:nilerr // a broken endpoint must not keep the person signed in here
	}
	q := u.Query()
	q.Set("client_id", s.cfg.ClientID)
	if s.cfg.PostLogoutRedirectURL != "" {
		q.Set("post_logout_redirect_uri", s.cfg.PostLogoutRedirectURL)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Cookies.

func (s *Service) cookieName(base string) string {
	if s.cfg.SecureCookies {
		return "__Host-" + base
	}
	return base
}

const (
	sessionCookie = "cb_session"
	loginCookie   = "cb_login"
)

func (s *Service) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{ // #nosec G124 -- HttpOnly and SameSite are set; Secure follows the public URL (false only for a plain-http loopback development portal)
		Name: s.cookieName(name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	}
}

// SessionCookie is the cookie that carries a new session's token.
func (s *Service) SessionCookie(c *Completed) *http.Cookie {
	ck := s.cookie(sessionCookie, c.Token, int(time.Until(c.Session.ExpiresAt).Seconds())) // #nosec G124 -- the cookie comes from s.cookie, which sets HttpOnly, SameSite and Secure as configured
	ck.Expires = c.Session.ExpiresAt
	return ck
}

// ClearSessionCookie removes the session cookie.
func (s *Service) ClearSessionCookie() *http.Cookie { return s.cookie(sessionCookie, "", -1) }

// LoginCookie carries the state of a sign-in under way.
func (s *Service) LoginCookie(state string) *http.Cookie {
	return s.cookie(loginCookie, state, int(loginLifetime.Seconds()))
}

// ClearLoginCookie removes the login cookie.
func (s *Service) ClearLoginCookie() *http.Cookie { return s.cookie(loginCookie, "", -1) }

// SessionToken returns the session cookie's value, or "".
func (s *Service) SessionToken(r *http.Request) string {
	return cookieValue(r, s.cookieName(sessionCookie))
}

// LoginState returns the login cookie's value, or "".
func (s *Service) LoginState(r *http.Request) string {
	return cookieValue(r, s.cookieName(loginCookie))
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// CSRFValid reports whether header carries the session's CSRF token.
func CSRFValid(sess *Session, header string) bool {
	return sess != nil && header != "" && subtle.ConstantTimeCompare([]byte(header), []byte(sess.CSRFToken)) == 1
}

// providerDown reports whether a token request failed because the provider
// could not be reached or failed itself (5xx), rather than refusing the
// code.
func providerDown(err error) bool {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.Response != nil && re.Response.StatusCode >= 500
	}
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
}
