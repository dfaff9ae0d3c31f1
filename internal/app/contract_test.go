package app_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/casebridge/casebridge/api"
	"github.com/casebridge/casebridge/internal/testenv/contract"
)

// The response-validation step: every response the API tests of this
// package receive through caseAPI.request and caseAPI.upload is checked
// against api/openapi.yaml — the operation exists, its status is declared,
// its media type is declared, and a JSON body conforms to the declared
// schema. A test whose response drifts from the contract fails.

// checkContract is called for every response of caseAPI.
func checkContract(t *testing.T, method, path string, r response) {
	t.Helper()
	ct, err := contract.Load()
	if err != nil {
		t.Fatalf("load api/openapi.yaml: %v", err)
	}
	if err := ct.Check(method, path, r.status, r.header, r.body); err != nil {
		t.Errorf("contract: %v", err)
	}
}

// The checker itself catches drift (so a silent pass means something).
func TestContractCheckerCatchesDrift(t *testing.T) {
	t.Parallel()
	ct, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	jsonHdr := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	for _, tc := range []struct {
		method, path string
		status       int
		hdr          http.Header
		body         string
		ok           bool
	}{
		{"GET", "/api/v1/cases?limit=5", 200, jsonHdr, `{"items": [], "next_cursor": null}`, true},
		{"GET", "/api/v1/cases", 200, jsonHdr, `{"items": 5}`, false},
		{"GET", "/api/v1/cases", 418, jsonHdr, `{}`, false},
		{"GET", "/api/v1/cases", 200, http.Header{"Content-Type": {"text/html"}}, `<p>`, false},
		{"GET", "/api/v1/cases", 503, http.Header{"Content-Type": {"application/problem+json"}},
			`{"type": "https://casebridge.example/problems/database-unavailable", "title": "Database unavailable", "status": 503}`, true},
		{"GET", "/api/v1/cases", 503, http.Header{"Content-Type": {"application/problem+json"}}, `{"title": 5}`, false},
		{"POST", "/api/v1/no-such-thing", 201, jsonHdr, `{}`, false},
		{"GET", "/api/v1/documents/00000000-0000-0000-0000-000000000001/content", 200,
			http.Header{"Content-Type": {"application/pdf"}}, "%PDF-1.4", true},
	} {
		err := ct.Check(tc.method, tc.path, tc.status, tc.hdr, []byte(tc.body))
		if (err == nil) != tc.ok {
			t.Errorf("%s %s %d %s: err %v, want ok=%v", tc.method, tc.path, tc.status, tc.body, err, tc.ok)
		}
	}
}

// The checker fails against a deliberately wrong schema: the same real
// answers that conform to api/openapi.yaml are refused once the document
// is changed to say something else about them.
func TestContractCheckerCatchesWrongSchema(t *testing.T) {
	t.Parallel()
	problemHdr := http.Header{"Content-Type": {"application/problem+json"}}
	notFound := []byte(`{"type": "https://casebridge.example/problems/not-found", "title": "Not found", "code": "problem.not_found",
		"status": 404, "detail": "No such case.", "instance": "/api/v1/cases/5b1f0f0e-8a47-4a3e-9a53-0a3c3f8f3b11", "request_id": "r-1"}`)
	caseList := []byte(`{"items": [], "next_cursor": null}`)
	check := func(ct *contract.Checker) []error {
		return []error{
			ct.Check("GET", "/api/v1/cases/5b1f0f0e-8a47-4a3e-9a53-0a3c3f8f3b11", 404, problemHdr, notFound),
			ct.Check("GET", "/api/v1/cases", 200, http.Header{"Content-Type": {"application/json"}}, caseList),
		}
	}
	good, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range check(good) {
		if err != nil {
			t.Fatalf("answer %d against the real contract: %v", i, err)
		}
	}
	for name, mutate := range map[string]func(doc map[string]any){
		"Problem.status is a string": func(doc map[string]any) {
			schemaOf(doc, "Problem")["properties"].(map[string]any)["status"] = map[string]any{"type": "string"}
		},
		"Problem requires a field no answer has": func(doc map[string]any) {
			p := schemaOf(doc, "Problem")
			req, _ := p["required"].([]any)
			p["required"] = append(req, "retry_at")
		},
		"case lists need a total": func(doc map[string]any) {
			list := doc["paths"].(map[string]any)["/api/v1/cases"].(map[string]any)["get"].(map[string]any)["responses"].(map[string]any)["200"].(map[string]any)
			list["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{
				"type": "object", "required": []any{"items", "total"}}}}
		},
	} {
		var doc map[string]any
		if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
			t.Fatal(err)
		}
		mutate(doc)
		raw, err := yaml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		bad, err := contract.Compile(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		failed := 0
		for _, err := range check(bad) {
			if err != nil {
				failed++
			}
		}
		if failed == 0 {
			t.Errorf("%s: the checker accepted answers that contradict the changed schema", name)
		}
	}
}

func schemaOf(doc map[string]any, name string) map[string]any {
	return doc["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)
}

// e2eResponsesEnv names the file of API responses the e2e harness records
// (frontend/e2e/harness.mjs, one JSON object per line); `make e2e` sets it
// and runs TestE2EResponsesConform after the browser tests.
const e2eResponsesEnv = "CB_E2E_RESPONSES"

// The response-validation step of the e2e suite: every API response the
// browser (and the harness's set-up calls) received during the e2e run is
// checked against api/openapi.yaml like the Go API tests' responses.
func TestE2EResponsesConform(t *testing.T) {
	file := os.Getenv(e2eResponsesEnv)
	if file == "" {
		t.Skip(e2eResponsesEnv + " is not set (make e2e sets it to the file the e2e harness writes)")
	}
	ct, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("the e2e run recorded no responses: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	seen, failures := 0, map[string]int{}
	for sc.Scan() {
		var rec struct {
			Method      string  `json:"method"`
			Path        string  `json:"path"`
			Status      int     `json:"status"`
			ContentType string  `json:"content_type"`
			Body        *string `json:"body"` // nil: not read (not JSON, or the page closed first)
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d: %v", seen+1, err)
		}
		seen++
		var body []byte
		if rec.Body != nil {
			body = []byte(*rec.Body)
		}
		if err := ct.Check(rec.Method, rec.Path, rec.Status, http.Header{"Content-Type": {rec.ContentType}}, body); err != nil {
			failures[err.Error()]++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if seen == 0 {
		t.Fatalf("%s holds no responses", file)
	}
	for msg, n := range failures {
		t.Errorf("contract (%d responses): %s", n, msg)
	}
	t.Logf("%d e2e API responses checked against api/openapi.yaml", seen)
}
