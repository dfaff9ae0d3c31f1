package app_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/authztest"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/testenv"
)

// Interop: the portal against an independent OpenID provider from the npm
// registry (node-oidc-provider, frontend/scripts/keycloak-like-idp.mjs)
// configured as a Keycloak realm is: ES256 keys, roles nested in
// realm_access.roles, the agency as a user attribute claim, JWT access
// tokens for the API audience, PKCE and RFC 9207 iss. A person signs in
// through the browser flow (a cookie-keeping HTTP client that follows
// redirects and fills the provider's sign-in form), and a partner system
// calls the API with a client-credentials access token.
func TestInteropWithIndependentProvider(t *testing.T) {
	t.Parallel()
	script, _ := filepath.Abs("../../frontend/scripts/keycloak-like-idp.mjs")
	if _, err := os.Stat("../../frontend/node_modules/oidc-provider"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("oidc-provider is not installed (make test runs npm ci first)")
		}
		t.Skip("oidc-provider not installed: run npm ci in frontend/ (make test does)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not on PATH")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	portal := "http://" + ln.Addr().String()
	cmd := exec.CommandContext(t.Context(), node, script, portal)
	cmd.Dir = filepath.Dir(script)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var idpErr strings.Builder
	cmd.Stderr = &idpErr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("provider stderr:\n%s", idpErr.String())
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("provider did not start: %v\n%s", err, idpErr.String())
	}
	var started struct{ Issuer string }
	if err := json.Unmarshal([]byte(line), &started); err != nil || started.Issuer == "" {
		t.Fatalf("provider said %q", line)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()

	d := testenv.NewDatabase(t)
	db, owner := testenv.Open(t, d.AppURL), testenv.Open(t, d.OwnerURL)
	authztest.New().Insert(t, owner)
	cfg := config.Default()
	cfg.Server.PublicURL = portal
	cfg.Blob.Dir = t.TempDir()
	cfg.Auth.Issuer, cfg.Auth.ClientID, cfg.Auth.ClientSecret = started.Issuer, "casebridge-portal", "portal-secret"
	cfg.Auth.Audience = "urn:casebridge:api"
	cfg.Auth.AgencyClaim, cfg.Auth.RolesClaim = "agency", "realm_access.roles"
	cfg.Auth.SigningAlgs = []string{"ES256"}
	prog, err := app.New(cfg, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: prog.HTTP.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	t.Run("browser sign-in", func(t *testing.T) {
		c := interopBrowser(t)
		landed := interopSignIn(t, c, portal, "gdi-officer")
		if !strings.HasPrefix(landed, portal+"/") || strings.Contains(landed, "/auth/") {
			t.Fatalf("sign-in ended at %s", landed)
		}
		me := interopGet(t, c, portal+"/api/v1/me", "")
		if me.status != 200 {
			t.Fatalf("me after sign-in: %d %s", me.status, me.body)
		}
		var m struct {
			Agency struct{ Code string }   `json:"agency"`
			Roles  []string                `json:"roles"`
			User   struct{ Issuer string } `json:"user"`
		}
		_ = json.Unmarshal(me.body, &m)
		if m.Agency.Code != "gdi" || strings.Join(m.Roles, ",") != "officer" || m.User.Issuer != started.Issuer {
			t.Errorf("principal from the provider: %s", me.body)
		}
	})
	t.Run("unknown agency refused", func(t *testing.T) {
		c := interopBrowser(t)
		interopSignIn(t, c, portal, "nobody")
		if me := interopGet(t, c, portal+"/api/v1/me", ""); me.status != 401 {
			t.Errorf("me of a refused sign-in: %d", me.status)
		}
	})
	t.Run("bearer token", func(t *testing.T) {
		form := url.Values{"grant_type": {"client_credentials"}, "resource": {"urn:casebridge:api"}, "scope": {"openid profile"}}
		req, _ := http.NewRequestWithContext(t.Context(), "POST", started.Issuer+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("emb-vn-case-system", "partner-secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(body, &tok) != nil || strings.Count(tok.AccessToken, ".") != 2 {
			t.Fatalf("client credentials: %d %s", resp.StatusCode, body)
		}
		head, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok.AccessToken, ".")[0])
		if !strings.Contains(string(head), `"ES256"`) {
			t.Errorf("access token header %s, want ES256", head)
		}
		me := interopGet(t, http.DefaultClient, portal+"/api/v1/me", tok.AccessToken)
		if me.status != 200 || !strings.Contains(string(me.body), `"code":"emb-vn"`) || !strings.Contains(string(me.body), `"roles":["liaison"]`) {
			t.Errorf("me with the provider's access token: %d %s", me.status, me.body)
		}
		if r := interopGet(t, http.DefaultClient, portal+"/api/v1/consular/nationals", tok.AccessToken); r.status != 200 {
			t.Errorf("consular list with the provider's access token: %d %s", r.status, r.body)
		}
		parts := strings.Split(tok.AccessToken, ".")
		parts[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x","agency":"gdi","realm_access":{"roles":["admin"]}}`))
		if r := interopGet(t, http.DefaultClient, portal+"/api/v1/me", strings.Join(parts, ".")); r.status != 401 {
			t.Errorf("tampered access token: %d", r.status)
		}
	})
}

type interopResponse struct {
	status int
	body   []byte
}

func interopBrowser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

func interopGet(t *testing.T, c *http.Client, u, bearer string) interopResponse {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", u, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return interopResponse{resp.StatusCode, b}
}

var (
	interopForm  = regexp.MustCompile(`(?s)<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>`)
	interopInput = regexp.MustCompile(`<input[^>]*>`)
	interopAttr  = regexp.MustCompile(`(name|value)="([^"]*)"`)
)

// interopSignIn starts at /auth/login and submits the provider's forms
// (sign-in, then any confirmation) until the browser is back at the
// portal; it returns where it landed.
func interopSignIn(t *testing.T, c *http.Client, portal, account string) string {
	t.Helper()
	resp, err := c.Get(portal + "/auth/login")
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		at := resp.Request.URL
		if strings.HasPrefix(at.String(), portal) {
			return at.String()
		}
		m := interopForm.FindStringSubmatch(string(body))
		if m == nil {
			t.Fatalf("no form at %s (%d): %.500s", at, resp.StatusCode, body)
		}
		action, _ := at.Parse(html.UnescapeString(m[1]))
		form := url.Values{}
		for _, in := range interopInput.FindAllString(m[2], -1) {
			var name, value string
			for _, a := range interopAttr.FindAllStringSubmatch(in, -1) {
				if a[1] == "name" {
					name = a[2]
				} else {
					value = html.UnescapeString(a[2])
				}
			}
			switch name {
			case "":
			case "login":
				form.Set(name, account)
			case "password":
				form.Set(name, "any")
			default:
				form.Set(name, value)
			}
		}
		if resp, err = c.PostForm(action.String(), form); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("sign-in did not come back to the portal")
	return ""
}
