package auth_test

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/devidp"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	portalID      = "casebridge-portal"
	portalSecret  = "portal-secret-for-tests"
	partnerID     = "emb-vn-case-system"
	partnerSecret = "partner-secret-for-tests"
)

// env is a running portal (the whole program, real router) against a real
// PostgreSQL database and a development OpenID provider, over loopback HTTP.
type env struct {
	t       *testing.T
	base    string // the portal, http://127.0.0.1:PORT
	idp     *devidp.Provider
	keyFile string
	owner   *gorm.DB // the same database as the owner, for seeding and checks
	logs    *syncBuffer
}

type envOptions struct {
	idp    devidp.Config
	config func(*config.Config)
	// tracer, when set, sees every statement of the portal's pool.
	tracer *store.Recorder
}

func newEnv(t *testing.T, opt envOptions) *env {
	t.Helper()
	ctx := t.Context()
	e := &env{t: t, logs: &syncBuffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("portal log:\n%s", e.logs.String())
		}
	})
	db := testenv.NewDatabase(t)
	var err error
	appDB := testenv.Open(t, db.AppURL)
	if opt.tracer != nil {
		appDB, err = store.Open(ctx, db.AppURL, store.Options{MaxOpenConns: 10, Tracer: opt.tracer})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close(appDB) })
	}
	e.owner = testenv.Open(t, db.OwnerURL)
	demo, err := devidp.Demo()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range demo.Agencies {
		var country *string
		if a.Country != "" {
			country = &a.Country
		}
		if err := e.owner.Exec(`INSERT INTO agencies (code, name, kind, country) VALUES (?, ?, ?, ?)`,
			a.Code, a.Name, string(a.Kind), country).Error; err != nil {
			t.Fatalf("seed agency %s: %v", a.Code, err)
		}
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.base = "http://" + ln.Addr().String()

	ic := opt.idp
	ic.Clients = append(ic.Clients,
		devidp.Client{ID: portalID, Secret: portalSecret, Name: "CaseBridge",
			RedirectURIs: []string{e.base + "/auth/callback"}, PostLogoutRedirectURIs: []string{e.base + "/"}},
		devidp.Client{ID: partnerID, Secret: partnerSecret, Agency: "emb-vn", Roles: []string{"liaison"}},
	)
	if ic.KeyFile == "" {
		ic.KeyFile = filepath.Join(t.TempDir(), "idp-key.pem")
	}
	e.keyFile = ic.KeyFile
	ic.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	e.idp, err = devidp.Start(ctx, ic)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.idp.Close() })

	cfg := config.Default()
	cfg.Server.PublicURL = e.base
	cfg.Database.URL, cfg.Database.OwnerURL = db.AppURL, db.OwnerURL
	cfg.Blob.Dir = filepath.Join(t.TempDir(), "blobs")
	cfg.Auth.Issuer = e.idp.Issuer()
	cfg.Auth.ClientID = portalID
	cfg.Auth.ClientSecret = portalSecret
	if opt.config != nil {
		opt.config(&cfg)
	}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	prog, err := app.New(cfg, appDB, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: prog.HTTP.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return e
}

// browser is a cookie-keeping HTTP client that follows redirects within the
// provider and the portal's /auth/ routes and stops at any other redirect,
// as the tests want to see where sign-in lands.
type browser struct {
	e   *env
	c   *http.Client
	jar *cookiejar.Jar
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	b := &browser{e: e, jar: jar}
	b.c = &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > 10 {
				return http.ErrUseLastResponse
			}
			u := req.URL.String()
			if strings.HasPrefix(u, e.idp.Issuer()+"/oauth2/auth") || strings.HasPrefix(u, e.base+"/auth/") {
				return nil
			}
			return http.ErrUseLastResponse
		},
	}
	return b
}

var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// signIn goes through /auth/login, the provider's sign-in page and the
// callback; it returns the callback's final response (its body read).
func (b *browser) signIn(account, returnTo string) (*http.Response, string) {
	t := b.e.t
	t.Helper()
	loginURL := b.e.base + "/auth/login"
	if returnTo != "" {
		loginURL += "?return_to=" + url.QueryEscape(returnTo)
	}
	resp, err := b.c.Get(loginURL)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	body := read(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.String(), b.e.idp.Issuer()) {
		t.Fatalf("sign in: expected the provider's page, got %d at %s: %s", resp.StatusCode, resp.Request.URL, body)
	}
	m := formAction.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("sign in: no form on the provider's page: %s", body)
	}
	action, err := resp.Request.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = b.c.PostForm(action.String(), url.Values{"account": {account}})
	if err != nil {
		t.Fatalf("sign in: post the provider's form: %v", err)
	}
	return resp, read(t, resp)
}

// mustSignIn signs in and checks that it worked.
func (b *browser) mustSignIn(account string) {
	b.e.t.Helper()
	resp, body := b.signIn(account, "")
	if resp.StatusCode != http.StatusSeeOther {
		b.e.t.Fatalf("sign in as %s: %d %s", account, resp.StatusCode, body)
	}
}

// do sends a request with the browser's cookies.
func (b *browser) do(method, path string, hdr map[string]string) (*http.Response, string) {
	b.e.t.Helper()
	req, err := http.NewRequestWithContext(b.e.t.Context(), method, b.e.base+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return resp, read(b.e.t, resp)
}

// sessionCookie returns the browser's session cookie value.
func (b *browser) sessionCookie() string {
	u, _ := url.Parse(b.e.base)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == "cb_session" {
			return c.Value
		}
	}
	return ""
}

type me struct {
	User struct {
		ID, Name, Issuer, Subject string
	} `json:"user"`
	Agency struct {
		ID, Code, Name, Kind string
		Country              *string
	} `json:"agency"`
	Roles     []string `json:"roles"`
	CSRFToken string   `json:"csrf_token"`
}

func (b *browser) me() (me, int) {
	b.e.t.Helper()
	resp, body := b.do("GET", "/api/v1/me", nil)
	var m me
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			b.e.t.Fatalf("me: %v: %s", err, body)
		}
	}
	return m, resp.StatusCode
}

// bearer calls GET /api/v1/me with an access token.
func (e *env) bearer(token string) (*http.Response, string) {
	e.t.Helper()
	return e.request("GET", "/api/v1/me", map[string]string{"Authorization": "Bearer " + token}, "")
}

func (e *env) request(method, path string, hdr map[string]string, cookie string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.base+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "cb_session", Value: cookie})
	}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, read(e.t, resp)
}

func read(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.owner.Raw(query, args...).Scan(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}
