package devidp

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"
)

// Endpoint paths, relative to the issuer.
const (
	discoveryPath = "/.well-known/openid-configuration"
	jwksPath      = "/.well-known/jwks.json"
	authorizePath = "/oauth2/auth"
	tokenPath     = "/oauth2/token" // #nosec G101 -- an endpoint path, not a credential
	userinfoPath  = "/userinfo"
	logoutPath    = "/oauth2/logout"
)

func (p *Provider) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+discoveryPath, p.discovery)
	mux.HandleFunc("GET "+jwksPath, p.jwks)
	mux.HandleFunc("GET "+authorizePath, p.authorize)
	mux.HandleFunc("POST "+authorizePath, p.authorize)
	mux.HandleFunc("POST "+tokenPath, p.token)
	mux.HandleFunc("GET "+userinfoPath, p.userinfo)
	mux.HandleFunc("POST "+userinfoPath, p.userinfo)
	mux.HandleFunc("GET "+logoutPath, p.endSession)
	mux.HandleFunc("POST "+logoutPath, p.endSession)
	return mux
}

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.issuer,
		"authorization_endpoint":                p.issuer + authorizePath,
		"token_endpoint":                        p.issuer + tokenPath,
		"userinfo_endpoint":                     p.issuer + userinfoPath,
		"jwks_uri":                              p.issuer + jwksPath,
		"end_session_endpoint":                  p.issuer + logoutPath,
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token", "client_credentials"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{p.cfg.Algorithm},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"claims_supported": []string{"iss", "sub", "aud", "exp", "iat", "nbf", "auth_time", "nonce",
			"name", "preferred_username", "email", "email_verified",
			topClaim(p.cfg.AgencyClaim), topClaim(p.cfg.RolesClaim)},
	})
}

// topClaim is the top-level claim name of a dotted path.
func topClaim(path string) string {
	name, _, _ := strings.Cut(path, ".")
	return name
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: p.keys.publicKeys()})
}

// authorize is the authorization endpoint. A GET shows the sign-in page; the
// page posts back to the same URL (same query) with the chosen account, and
// the provider then redirects to the client with a code.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := p.oauth.NewAuthorizeRequest(ctx, r)
	if err != nil {
		p.log.Warn("authorization request refused", "err", err)
		p.oauth.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	// fosite checks PKCE only when it issues the code; refuse a request
	// without S256 before showing the sign-in page, not after.
	if form := ar.GetRequestForm(); form.Get("code_challenge") == "" || form.Get("code_challenge_method") != "S256" {
		p.oauth.WriteAuthorizeError(ctx, w, ar, fosite.ErrInvalidRequest.WithHint("PKCE with code_challenge_method S256 is required."))
		return
	}
	username := ""
	if r.Method == http.MethodPost {
		username = r.PostForm.Get("account")
	}
	if username == "" {
		p.loginPage(w, r, ar, http.StatusOK, "")
		return
	}
	acct, ok := p.accounts[username]
	if !ok {
		p.loginPage(w, r, ar, http.StatusBadRequest, "There is no account named "+username+". Choose one of the accounts below.")
		return
	}
	for _, s := range ar.GetRequestedScopes() {
		ar.GrantScope(s)
	}
	ar.GrantAudience(p.cfg.Audience)
	sess := p.accountSession(acct, ar.GetClient().GetID(), ar.GetRequestedAt())
	resp, err := p.oauth.NewAuthorizeResponse(ctx, ar, sess)
	if err != nil {
		p.log.Warn("authorization refused", "account", username, "err", err)
		p.oauth.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	p.log.Info("signed in", "account", username, "client", ar.GetClient().GetID())
	p.oauth.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// loginPageTemplate is the sign-in page: one button per account, in a form
// that posts back to the authorization URL. Plain HTML, no script, usable by
// keyboard and screen reader.
var loginPageTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in – CaseBridge development identity provider</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #1a1a1a; }
.note { background: #fff4ce; border-left: 4px solid #8a6d00; padding: .5rem 1rem; }
.error { background: #fde7e9; border-left: 4px solid #a4262c; padding: .5rem 1rem; }
ul { list-style: none; padding: 0; }
li { display: flex; gap: 1rem; align-items: baseline; padding: .5rem 0; border-bottom: 1px solid #ddd; flex-wrap: wrap; }
button { font: inherit; padding: .4rem .9rem; min-width: 14rem; text-align: left; cursor: pointer; }
button:focus-visible { outline: 3px solid #005a9e; outline-offset: 2px; }
</style>
</head>
<body>
<main>
<h1>Sign in</h1>
<p class="note">This is the <strong>development</strong> identity provider of CaseBridge. It signs you in as a demo account without a password. It runs only on this machine, under <code>casebridge dev</code> and in tests.</p>
<p>Signing in to <strong>{{.Client}}</strong>.</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<h2 id="accounts-heading">Choose a demo account</h2>
<ul aria-labelledby="accounts-heading">
{{range .Accounts}}<li>
<button type="submit" name="account" value="{{.Username}}" aria-describedby="who-{{.Username}}">Sign in as {{.Username}}</button>
<span id="who-{{.Username}}">{{.Name}} – {{.Group}}, {{.Agency}} (roles: {{.Roles}})</span>
</li>
{{end}}</ul>
</form>
</main>
</body>
</html>
`))

type loginAccount struct {
	Username, Name, Group, Agency, Roles string
}

func (p *Provider) loginPage(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, status int, msg string) {
	data := struct {
		Client   string
		Action   string
		Error    string
		Accounts []loginAccount
	}{
		Client: ar.GetClient().GetID(),
		Action: authorizePath + "?" + r.URL.RawQuery,
		Error:  msg,
	}
	if c, ok := ar.GetClient().(*client); ok && c.cfg.Name != "" {
		data.Client = c.cfg.Name
	}
	for _, a := range p.Accounts() {
		data.Accounts = append(data.Accounts, loginAccount{
			Username: a.Username, Name: a.Name, Group: a.Group, Agency: a.Agency,
			Roles: strings.Join(a.Roles, ", "),
		})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// No form-action: browsers apply it to the redirect that follows the
	// post too, and that goes to the client, on another origin.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	if err := loginPageTemplate.Execute(w, data); err != nil {
		p.log.Error("render sign-in page", "err", err)
	}
}

// token is the token endpoint.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess := newSession()
	ar, err := p.oauth.NewAccessRequest(ctx, r, sess)
	if err != nil {
		p.log.Warn("token request refused", "err", err)
		p.oauth.WriteAccessError(ctx, w, ar, err)
		return
	}
	if ar.GetGrantTypes().ExactOne("client_credentials") {
		c, ok := ar.GetClient().(*client)
		if !ok {
			p.oauth.WriteAccessError(ctx, w, ar, fosite.ErrServerError.WithDebug("unexpected client type"))
			return
		}
		for _, s := range ar.GetRequestedScopes() {
			ar.GrantScope(s)
		}
		ar.GrantAudience(p.cfg.Audience)
		if c.account != nil {
			// A dev-token client: a user token for its account (MintToken).
			acct := p.accountSession(*c.account, c.GetID(), time.Now().UTC())
			acct.SetExpiresAt(fosite.AccessToken, sess.GetExpiresAt(fosite.AccessToken))
			ar.SetSession(acct)
		} else {
			p.clientSession(sess, c)
		}
	}
	if s, ok := ar.GetSession().(*session); ok {
		// fosite keeps the first ID token's expiry in the stored session;
		// a refreshed ID token gets a fresh one.
		s.Claims.ExpiresAt = time.Time{}
	}
	resp, err := p.oauth.NewAccessResponse(ctx, ar)
	if err != nil {
		p.log.Warn("token response refused", "err", err)
		p.oauth.WriteAccessError(ctx, w, ar, err)
		return
	}
	p.oauth.WriteAccessResponse(ctx, w, ar, resp)
}

// userinfo returns the profile of the account an access token was issued
// for; the token needs the openid scope.
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_, ar, err := p.oauth.IntrospectToken(ctx, fosite.AccessTokenFromRequest(r), fosite.AccessToken, newSession(), "openid")
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	s, ok := ar.GetSession().(*session)
	if !ok {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	claims := jwt.Copy(s.Claims.Extra)
	claims["sub"] = s.Claims.Subject
	writeJSON(w, http.StatusOK, claims)
}

// endSession is RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
// The provider keeps no sign-in session of its own (every authorization shows
// the sign-in page), so there is nothing to end here; it checks the request
// and sends the browser back to a registered post_logout_redirect_uri, or
// shows a page saying the user is signed out.
func (p *Provider) endSession(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.logoutPage(w, http.StatusBadRequest, "The sign-out request could not be read.")
		return
	}
	clientID := r.Form.Get("client_id")
	if hint := r.Form.Get("id_token_hint"); hint != "" {
		aud, err := p.idTokenHintAudience(hint)
		if err != nil {
			p.log.Warn("end session: bad id_token_hint", "err", err)
			p.logoutPage(w, http.StatusBadRequest, "The sign-out request carries an ID token this provider did not issue.")
			return
		}
		switch {
		case clientID == "":
			clientID = aud
		case clientID != aud:
			p.logoutPage(w, http.StatusBadRequest, "The sign-out request names a client the ID token was not issued to.")
			return
		}
	}
	redirect := r.Form.Get("post_logout_redirect_uri")
	if redirect == "" {
		p.logoutPage(w, http.StatusOK, "")
		return
	}
	c, ok := p.store.client(clientID)
	if !ok || !slices.Contains(c.cfg.PostLogoutRedirectURIs, redirect) {
		p.log.Warn("end session: unregistered post_logout_redirect_uri", "client", clientID, "uri", redirect)
		p.logoutPage(w, http.StatusBadRequest, "The sign-out request asks to return to an address that is not registered for this client.")
		return
	}
	u, err := url.Parse(redirect)
	if err != nil {
		p.logoutPage(w, http.StatusBadRequest, "The return address is not a valid URL.")
		return
	}
	if state := r.Form.Get("state"); state != "" {
		q := u.Query()
		q.Set("state", state)
		u.RawQuery = q.Encode()
	}
	p.log.Info("signed out", "client", clientID)
	http.Redirect(w, r, u.String(), http.StatusFound) // #nosec G710 -- the redirect is one of the client's registered post_logout_redirect_uris (checked above)
}

// idTokenHintAudience verifies an ID token issued by this provider (with any
// published key; expired tokens are fine as hints) and returns its audience.
func (p *Provider) idTokenHintAudience(raw string) (string, error) {
	keys := p.keys.publicKeys()
	tok, err := jwt.ParseWithClaims(raw, jwt.MapClaims{}, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		for _, k := range keys {
			if k.KeyID == kid && string(t.Method) == k.Algorithm {
				return k.Key, nil
			}
		}
		return nil, fosite.ErrNotFound.WithDebug("unknown kid")
	})
	if tok == nil || (err != nil && !isOnlyExpired(err)) {
		return "", err
	}
	if iss, _ := tok.Claims["iss"].(string); iss != p.issuer {
		return "", fosite.ErrInvalidRequest.WithDebug("foreign issuer")
	}
	switch aud := tok.Claims["aud"].(type) {
	case string:
		return aud, nil
	case []any:
		if len(aud) == 1 {
			if s, ok := aud[0].(string); ok {
				return s, nil
			}
		}
	}
	return "", fosite.ErrInvalidRequest.WithDebug("id token hint without a single audience")
}

func isOnlyExpired(err error) bool {
	ve, ok := err.(*jwt.ValidationError) //nolint:errorlint // fosite returns it unwrapped
	return ok && ve.Errors == jwt.ValidationErrorExpired
}

var logoutPageTemplate = template.Must(template.New("logout").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Signed out – CaseBridge development identity provider</title></head>
<body><main>
{{if .}}<h1>Sign-out refused</h1><p role="alert">{{.}}</p>{{else}}<h1>Signed out</h1><p>You are signed out. You may close this window.</p>{{end}}
</main></body></html>
`))

func (p *Provider) logoutPage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := logoutPageTemplate.Execute(w, msg); err != nil {
		p.log.Error("render sign-out page", "err", err)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) //nolint:errchkjson // nothing to do if the client went away
}
