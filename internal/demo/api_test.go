package demo

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/testenv"
)

// The same check as TestEachDemoAccountSeesWhatAccessSays, through the
// HTTP API as `make run` serves it: each demo account's agency and roles in
// a bearer token from the development provider, every page of the case
// list, the person list and the consular list.
func TestEachDemoAccountSeesWhatAccessSaysThroughTheAPI(t *testing.T) {
	t.Parallel()
	db := testenv.NewDatabase(t)
	if _, err := Load(t.Context(), db.OwnerURL); err != nil {
		t.Fatal(err)
	}
	w := Build(time.Now())
	idp := testenv.StartIdP(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	clientID, secret := idp.RegisterPortal(base)
	cfg := config.Default()
	cfg.Server.PublicURL = base
	cfg.Database.URL = db.AppURL
	cfg.Auth.Issuer = idp.Issuer()
	cfg.Auth.ClientID, cfg.Auth.ClientSecret = clientID, secret
	cfg.Blob.Dir = t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	prog, err := app.New(cfg, testenv.Open(t, db.AppURL), quiet)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: prog.HTTP.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	for _, acc := range demoAccounts(t) {
		t.Run(acc.Username, func(t *testing.T) {
			ag := agencyOf(w, acc.Agency)
			roles, _ := access.FilterRoles(access.Kind(ag.Kind), acc.Roles)
			want := expected(w, ag, roles)
			token := idp.Token(acc.Agency, acc.Roles...)

			cases, status := list(t, base, "/api/v1/cases", token, "reference")
			if status != http.StatusOK {
				t.Fatalf("GET /api/v1/cases: %d", status)
			}
			if !slices.Equal(cases, want.cases) {
				t.Errorf("case list: %d cases, ACCESS.md gives %d\n  extra: %v\n  missing: %v",
					len(cases), len(want.cases), head(minus(cases, want.cases)), head(minus(want.cases, cases)))
			}
			persons, status := list(t, base, "/api/v1/persons", token, "id")
			if status == http.StatusOK && !slices.Equal(persons, want.persons) {
				t.Errorf("person list: %d persons, ACCESS.md gives %d\n  extra: %v\n  missing: %v",
					len(persons), len(want.persons), head(minus(persons, want.persons)), head(minus(want.persons, persons)))
			}
			if status != http.StatusOK && len(want.persons) > 0 {
				t.Errorf("GET /api/v1/persons: %d, but the account sees %d persons in full", status, len(want.persons))
			}
			nationals, status := list(t, base, "/api/v1/consular/nationals", token, "id")
			t.Logf("%d cases, %d persons, %d nationals", len(cases), len(persons), len(nationals))
			switch {
			case ag.Kind == "embassy" && status != http.StatusOK:
				t.Errorf("GET /api/v1/consular/nationals: %d", status)
			case ag.Kind != "embassy" && status != http.StatusForbidden:
				t.Errorf("GET /api/v1/consular/nationals for a %s: %d, want 403", ag.Kind, status)
			case !slices.Equal(nationals, want.consular):
				t.Errorf("consular list: %d nationals, ACCESS.md gives %d\n  extra: %v\n  missing: %v",
					len(nationals), len(want.consular), head(minus(nationals, want.consular)), head(minus(want.consular, nationals)))
			}
		})
	}
}

// list reads every page of a list endpoint and returns the field of each
// item, sorted, with the status of the first page.
func list(t *testing.T, base, path, token, field string) ([]string, int) {
	t.Helper()
	out := []string{}
	cursor := ""
	for page := 0; ; page++ {
		q := url.Values{"limit": {"200"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path+"?"+q.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			if page > 0 {
				t.Fatalf("GET %s page %d: %d %s", path, page, resp.StatusCode, body)
			}
			return nil, resp.StatusCode
		}
		var doc struct {
			Items      []map[string]any `json:"items"`
			NextCursor *string          `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, body)
		}
		for _, it := range doc.Items {
			s, _ := it[field].(string)
			out = append(out, s)
		}
		if doc.NextCursor == nil || *doc.NextCursor == "" {
			break
		}
		cursor = *doc.NextCursor
	}
	sort.Strings(out)
	return out, http.StatusOK
}
