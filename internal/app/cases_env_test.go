package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/oauth2/clientcredentials"
	"gopkg.in/yaml.v3"
	"gorm.io/gorm"

	"github.com/casebridge/casebridge/api"
	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/authztest"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/devidp"
	"github.com/casebridge/casebridge/internal/testenv"
)

// caseAPI is the assembled program (app.New) serving the authorization
// world over real HTTP, with sign-in by bearer tokens that the development
// OpenID provider issues to one partner client per principal of the world
// (client credentials: the token carries the principal's agency and its
// claimed roles, which the portal filters as for any sign-in).
type caseAPI struct {
	t      *testing.T
	w      *authztest.World
	owner  *gorm.DB
	base   string
	tokens map[string]string
	http   *http.Client
	schema map[string]*jsonschema.Schema
}

const (
	portalClient = "casebridge-portal"
	portalSecret = "portal-secret-for-case-tests"
)

func newCaseAPI(t *testing.T, mutate func(*config.Config)) *caseAPI {
	t.Helper()
	return newCaseAPIVia(t, mutate, nil)
}

// newCaseAPIVia is newCaseAPI whose server reaches the database at
// appURL(url) (a proxy, for outage drills) when appURL is not nil.
func newCaseAPIVia(t *testing.T, mutate func(*config.Config), appURL func(string) string) *caseAPI {
	t.Helper()
	d := testenv.NewDatabase(t)
	serverURL := d.AppURL
	if appURL != nil {
		serverURL = appURL(d.AppURL)
	}
	db, owner := testenv.Open(t, serverURL), testenv.Open(t, d.OwnerURL)
	w := authztest.New()
	w.Insert(t, owner)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	clients := []devidp.Client{{ID: portalClient, Secret: portalSecret, Name: "CaseBridge",
		RedirectURIs: []string{"http://127.0.0.1:1/auth/callback"}}}
	for _, p := range w.Principals {
		clients = append(clients, devidp.Client{ID: "p-" + p.Name, Secret: "s-" + p.Name,
			Agency: p.Agency.Code, Roles: p.Claimed, Name: p.Name})
	}
	idp, err := devidp.Start(t.Context(), devidp.Config{Clients: clients, Logger: quiet})
	if err != nil {
		t.Fatalf("start provider: %v", err)
	}
	t.Cleanup(func() { _ = idp.Close() })

	cfg := config.Default()
	cfg.Server.PublicURL = "http://127.0.0.1:1"
	cfg.Server.MaxBodyBytes = 16 << 10
	cfg.Auth.Issuer, cfg.Auth.ClientID, cfg.Auth.ClientSecret = idp.Issuer(), portalClient, portalSecret
	cfg.Blob.Dir = t.TempDir()
	if mutate != nil {
		mutate(&cfg)
	}
	prog, err := app.New(cfg, db, quiet)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(prog.HTTP.Handler())
	t.Cleanup(srv.Close)

	a := &caseAPI{t: t, w: w, owner: owner, base: srv.URL, tokens: map[string]string{}, http: srv.Client(),
		schema: map[string]*jsonschema.Schema{}}
	for _, p := range w.Principals {
		cc := clientcredentials.Config{ClientID: "p-" + p.Name, ClientSecret: "s-" + p.Name,
			TokenURL: idp.Issuer() + "/oauth2/token"}
		tok, err := cc.Token(t.Context())
		if err != nil {
			t.Fatalf("token for %s: %v", p.Name, err)
		}
		a.tokens[p.Name] = tok.AccessToken
	}
	return a
}

// response is one HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// request sends method path as principal as ("" for nobody) with body
// (JSON when not empty) and headers (name, value pairs).
func (a *caseAPI) request(as, method, path, body string, headers ...string) response {
	a.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(a.t.Context(), method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if as != "" {
		req.Header.Set("Authorization", "Bearer "+a.tokens[as])
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := a.http.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: b}
	checkContract(a.t, method, path, r)
	return r
}

func (a *caseAPI) exec(sql string, args ...any) {
	a.t.Helper()
	if err := a.owner.Exec(sql, args...).Error; err != nil {
		a.t.Fatalf("owner: %v\n%s", err, sql)
	}
}

// scan runs a query as the owner into dest.
func (a *caseAPI) scan(dest any, sql string, args ...any) {
	a.t.Helper()
	if err := a.owner.Raw(sql, args...).Scan(dest).Error; err != nil {
		a.t.Fatalf("owner: %v\n%s", err, sql)
	}
}

func (a *caseAPI) version(table string, id uuid.UUID) int {
	a.t.Helper()
	var v int
	if err := a.owner.Raw(`SELECT version FROM `+table+` WHERE id = ?`, id).Scan(&v).Error; err != nil {
		a.t.Fatal(err)
	}
	return v
}

func etag(id uuid.UUID, version int) string {
	return `"` + id.String() + "-" + strconv.Itoa(version) + `"`
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	if out == nil {
		out = []string{}
	}
	sort.Strings(out)
	return out
}

// items returns the ids of a list response's items (at path "id", or
// "person.id" for the persons of a case) and the items.
func listIDs(t *testing.T, r response, nested string) ([]string, []map[string]any) {
	t.Helper()
	var page struct {
		Items      []map[string]any `json:"items"`
		NextCursor *string          `json:"next_cursor"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	if err := dec.Decode(&page); err != nil {
		t.Fatalf("list response: %v\n%s", err, r.body)
	}
	ids := make([]string, 0, len(page.Items))
	for _, it := range page.Items {
		obj := it
		if nested != "" {
			obj, _ = it[nested].(map[string]any)
		}
		id, _ := obj["id"].(string)
		ids = append(ids, id)
	}
	return ids, page.Items
}

// openAPI is api/openapi.yaml as a JSON Schema resource, so responses can
// be validated against its component schemas (OpenAPI 3.1 schemas are JSON
// Schema 2020-12).
func openAPIResource(t *testing.T) any {
	t.Helper()
	var doc any
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatalf("parse api/openapi.yaml: %v", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	res, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// conforms checks body against the component schema name of
// api/openapi.yaml (formats asserted: uuid, date, date-time).
func (a *caseAPI) conforms(name string, body []byte) error {
	sch, ok := a.schema[name]
	if !ok {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource("https://casebridge.example/openapi.json", openAPIResource(a.t)); err != nil {
			a.t.Fatal(err)
		}
		var err error
		if sch, err = c.Compile("https://casebridge.example/openapi.json#/components/schemas/" + name); err != nil {
			a.t.Fatalf("compile schema %s: %v", name, err)
		}
		a.schema[name] = sch
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}
