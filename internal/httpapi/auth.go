package httpapi

import (
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/auth"
)

// Sign-in routes and the middleware that finds the principal of every
// request. The decisions are internal/auth's; this file translates them to
// HTTP: redirects and cookies for browsers, problems (with
// WWW-Authenticate) for API clients, readable pages when a browser sign-in
// is refused.

func (s *Server) authRoutes() {
	s.engine.GET("/auth/login", s.login)
	s.engine.GET("/auth/callback", s.callback)
	s.engine.POST("/auth/logout", s.logout)
	s.engine.GET("/api/v1/me", s.me)
}

// apiPrefix is where every route needs a principal: an API request without
// one is refused before it reaches a handler (401), routed or not.
const apiPrefix = "/api/v1/"

// authenticate resolves the principal (bearer token or session cookie) of
// API requests and sign-out, and puts it in the request context
// (access.WithPrincipal). A request
// authenticated by cookie that would change something must carry the
// session's CSRF token in X-CSRF-Token.
func (s *Server) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		svc := s.deps.Auth
		path := c.Request.URL.Path
		needed := strings.HasPrefix(path, apiPrefix)
		if !needed && !strings.HasPrefix(path, "/api/") && path != "/auth/logout" {
			// Pages and files of the web app, health and metrics: no
			// principal needed, so no session lookup per asset.
			c.Next()
			return
		}
		if svc == nil {
			if needed {
				Fail(c, apperr.With(apperr.ErrUnauthorized, "Sign-in is not configured."))
				return
			}
			c.Next()
			return
		}
		res, ok, err := svc.Authenticate(c.Request.Context(), c.Request)
		if err != nil {
			authFail(c, err)
			return
		}
		if res.StaleCookie {
			http.SetCookie(c.Writer, svc.ClearSessionCookie())
		}
		if !ok {
			if needed {
				Fail(c, apperr.With(apperr.ErrUnauthorized, "Sign in, or send an access token in the header Authorization: Bearer <token>."))
				return
			}
			c.Next()
			return
		}
		if res.Session != nil && !safeMethod(c.Request.Method) && !auth.CSRFValid(res.Session, c.GetHeader("X-CSRF-Token")) {
			Problemf(c, http.StatusForbidden, "csrf", "CSRF token missing or wrong",
				"A request signed in by the session cookie must carry the csrf_token of GET /api/v1/me in the X-CSRF-Token header.")
			return
		}
		ctx := access.WithPrincipal(c.Request.Context(), res.Principal)
		if res.Session != nil {
			ctx = auth.WithSession(ctx, res.Session)
		}
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// authFail answers an API request whose credentials were refused.
func authFail(c *gin.Context, err error) {
	var refused *auth.RefusedError
	switch {
	case errors.Is(err, auth.ErrInvalidToken):
		c.Header("WWW-Authenticate", `Bearer realm="casebridge", error="invalid_token", error_description="The access token is not valid."`)
		Fail(c, apperr.With(apperr.ErrUnauthorized, "The access token is not valid: it is expired, not yet valid, for another audience or issuer, or not signed by the identity provider."))
	case errors.As(err, &refused):
		Fail(c, apperr.With(apperr.ErrForbidden, "%s", refused.Message()))
	case clientGone(c, err):
		// Checked after the refusals, which are the request's own answer.
	case errors.Is(err, auth.ErrNotConfigured), errors.Is(err, auth.ErrUnavailable):
		Problemf(c, http.StatusServiceUnavailable, "sign-in-unavailable", "Sign-in unavailable",
			"The identity provider cannot be reached or is not configured; try again later.")
	default:
		Fail(c, err)
	}
}

// login starts a browser sign-in: GET /auth/login?return_to=/local/path.
func (s *Server) login(c *gin.Context) {
	svc := s.deps.Auth
	if svc == nil || !svc.Enabled() {
		authPage(c, http.StatusServiceUnavailable, "Sign-in is not available", "This CaseBridge has no identity provider configured.")
		return
	}
	authURL, state, err := svc.BeginLogin(c.Request.Context(), c.Query("return_to"))
	if err != nil {
		s.authPageFor(c, err)
		return
	}
	http.SetCookie(c.Writer, svc.LoginCookie(state))
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, authURL)
}

// callback finishes a browser sign-in: the provider redirects here.
func (s *Server) callback(c *gin.Context) {
	svc := s.deps.Auth
	if svc == nil || !svc.Enabled() {
		authPage(c, http.StatusServiceUnavailable, "Sign-in is not available", "This CaseBridge has no identity provider configured.")
		return
	}
	http.SetCookie(c.Writer, svc.ClearLoginCookie())
	done, err := svc.FinishLogin(c.Request.Context(), svc.LoginState(c.Request), c.Request.URL.Query(), svc.SessionToken(c.Request))
	if err != nil {
		s.authPageFor(c, err)
		return
	}
	http.SetCookie(c.Writer, svc.SessionCookie(done))
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusSeeOther, done.ReturnTo)
}

// logout ends the browser session here and, when the provider offers it,
// there: POST /auth/logout (the CSRF token is checked by authenticate). It
// answers 303 to the provider's end-session URL, or 200 with
// {"logout_url": ...} when the client asks for JSON (a script cannot follow
// a cross-origin redirect).
func (s *Server) logout(c *gin.Context) {
	svc := s.deps.Auth
	if svc == nil {
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	next, err := svc.Logout(c.Request.Context(), svc.SessionToken(c.Request))
	if err != nil {
		Fail(c, err)
		return
	}
	http.SetCookie(c.Writer, svc.ClearSessionCookie())
	c.Header("Cache-Control", "no-store")
	if strings.Contains(c.GetHeader("Accept"), "application/json") {
		c.JSON(http.StatusOK, gin.H{"logout_url": next})
		return
	}
	c.Redirect(http.StatusSeeOther, next)
}

// meResponse is api/openapi.yaml's Me.
type meResponse struct {
	User      meUser        `json:"user"`
	Agency    meAgency      `json:"agency"`
	Roles     []access.Role `json:"roles"`
	CSRFToken string        `json:"csrf_token,omitempty"`
}

type meUser struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
}

type meAgency struct {
	ID      string      `json:"id"`
	Code    string      `json:"code"`
	Name    string      `json:"name"`
	Kind    access.Kind `json:"kind"`
	Country *string     `json:"country"`
}

// me answers who the caller is: GET /api/v1/me.
func (s *Server) me(c *gin.Context) {
	p, ok := access.FromContext(c.Request.Context())
	if !ok {
		Fail(c, apperr.ErrUnauthorized)
		return
	}
	resp := meResponse{
		User:   meUser{ID: p.UserID.String(), Name: p.Name, Issuer: p.Issuer, Subject: p.Subject},
		Agency: meAgency{ID: p.AgencyID.String(), Code: p.AgencyCode, Name: p.AgencyName, Kind: p.Kind},
		Roles:  p.Roles,
	}
	if resp.Roles == nil {
		resp.Roles = []access.Role{}
	}
	if p.Country != "" {
		resp.Agency.Country = &p.Country
	}
	if sess, ok := auth.SessionFrom(c.Request.Context()); ok {
		resp.CSRFToken = sess.CSRFToken
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, resp)
}

// authPageFor shows the page for a failed browser sign-in.
func (s *Server) authPageFor(c *gin.Context, err error) {
	var refused *auth.RefusedError
	var loginErr *auth.LoginError
	switch {
	case errors.As(err, &refused):
		authPage(c, http.StatusForbidden, "Sign-in refused", refused.Message())
	case errors.As(err, &loginErr):
		msg := "The identity provider did not complete the sign-in."
		if loginErr.Code == "access_denied" {
			msg = "The sign-in was cancelled."
		}
		if loginErr.Description != "" && loginErr.Code != "access_denied" {
			msg += " " + loginErr.Description
		}
		authPage(c, http.StatusBadRequest, "Sign-in failed", msg)
	case errors.Is(err, auth.ErrLoginState):
		authPage(c, http.StatusBadRequest, "Sign-in expired", "This sign-in was not started in this browser, was already used, or took too long. Please sign in again.")
	case clientGone(c, err):
		// Checked after the refusals, which are the request's own answer.
	case errors.Is(err, auth.ErrNotConfigured), errors.Is(err, auth.ErrUnavailable):
		s.deps.Log.Warn("sign-in unavailable", "request_id", RequestID(c), "error", err.Error())
		authPage(c, http.StatusServiceUnavailable, "Sign-in is not available", "The identity provider cannot be reached. Please try again in a moment.")
	default:
		s.deps.Log.Error("sign-in failed", "request_id", RequestID(c), "error", err.Error())
		authPage(c, http.StatusInternalServerError, "Sign-in failed", "Something went wrong on our side. Quote the request id "+RequestID(c)+" when you report it.")
	}
}

var authPageTemplate = template.Must(template.New("auth").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} – CaseBridge</title></head>
<body>
<main>
<h1>{{.Title}}</h1>
<p role="alert">{{.Message}}</p>
<p><a href="/auth/login">Sign in again</a> · <a href="/">CaseBridge home</a></p>
</main>
</body>
</html>
`))

// authPage answers a browser with a plain page (no script, no style: the
// security headers allow neither inline).
func authPage(c *gin.Context, status int, title, msg string) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.Status(status)
	_ = authPageTemplate.Execute(c.Writer, struct{ Title, Message string }{title, msg})
	c.Abort()
}
