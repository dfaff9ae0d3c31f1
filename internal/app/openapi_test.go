package app_test

import (
	"io"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/casebridge/casebridge/api"
	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/testenv"
)

func TestMain(m *testing.M) {
	if os.Getenv(childServeEnv) != "" {
		// Re-executed by a drill as a separate server process
		// (TestDrillKillDuringAuditSequencing).
		os.Exit(runChildServe())
	}
	testenv.Main(m)
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z_]+)`)

// Every route the router serves is in api/openapi.yaml, and every documented
// operation is routed.
func TestOpenAPIMatchesRouter(t *testing.T) {
	t.Parallel()
	db := testenv.DB(t)
	cfg := config.Default()
	prog, err := app.New(cfg, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	routed := map[string]bool{}
	for _, r := range prog.HTTP.Engine().Routes() {
		if r.Method == "HEAD" {
			continue // HEAD is documented with its GET
		}
		routed[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatalf("parse api/openapi.yaml: %v", err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "post", "put", "patch", "delete":
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	var missing, unrouted []string
	for r := range routed {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for d := range documented {
		if !routed[d] {
			unrouted = append(unrouted, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(unrouted)
	if len(missing) > 0 {
		t.Errorf("routes missing from api/openapi.yaml:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(unrouted) > 0 {
		t.Errorf("documented in api/openapi.yaml but not routed:\n  %s", strings.Join(unrouted, "\n  "))
	}
	if len(routed) < 4 {
		t.Fatalf("only %d routes: the router was not assembled", len(routed))
	}
}
