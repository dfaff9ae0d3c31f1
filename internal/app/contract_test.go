package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/casebridge/casebridge/api"
)

// The response-validation step: every response the API tests of this
// package receive through caseAPI.request and caseAPI.upload is checked
// against api/openapi.yaml — the operation exists, its status is declared,
// its media type is declared, and a JSON body conforms to the declared
// schema. A test whose response drifts from the contract fails.

type contractOp struct {
	method, path string
	re           *regexp.Regexp
	params       int
	responses    map[string]any
}

type contract struct {
	ops      []contractOp
	doc      map[string]any
	mu       sync.Mutex
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema
}

var (
	contractOnce sync.Once
	theContract  *contract
	contractErr  error
)

const contractBase = "https://casebridge.example/openapi.json"

func loadContract() (*contract, error) {
	contractOnce.Do(func() {
		var doc map[string]any
		if contractErr = yaml.Unmarshal(api.OpenAPI, &doc); contractErr != nil {
			return
		}
		ct := &contract{doc: doc, schemas: map[string]*jsonschema.Schema{}}
		paths, _ := doc["paths"].(map[string]any)
		for p, ops := range paths {
			m, _ := ops.(map[string]any)
			for method, op := range m {
				o, ok := op.(map[string]any)
				if !ok {
					continue
				}
				resp, _ := o["responses"].(map[string]any)
				pattern := "^" + regexp.MustCompile(`\\{[^}]+\\}`).ReplaceAllString(regexp.QuoteMeta(p), `[^/]+`) + "$"
				ct.ops = append(ct.ops, contractOp{method: strings.ToUpper(method), path: p,
					re: regexp.MustCompile(pattern), params: strings.Count(p, "{"), responses: resp})
			}
		}
		b, err := json.Marshal(doc)
		if err != nil {
			contractErr = err
			return
		}
		res, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			contractErr = err
			return
		}
		ct.compiler = jsonschema.NewCompiler()
		ct.compiler.AssertFormat()
		if contractErr = ct.compiler.AddResource(contractBase, res); contractErr != nil {
			return
		}
		theContract = ct
	})
	return theContract, contractErr
}

func pointerToken(s string) string {
	s = strings.ReplaceAll(s, "~", "~0")
	s = strings.ReplaceAll(s, "/", "~1")
	return url.PathEscape(s)
}

// check validates one response.
func (ct *contract) check(method, rawPath string, status int, hdr http.Header, body []byte) error {
	path, _, _ := strings.Cut(rawPath, "?")
	var op *contractOp
	for i := range ct.ops {
		o := &ct.ops[i]
		if o.method == method && o.re.MatchString(path) && (op == nil || o.params < op.params) {
			op = o
		}
	}
	if op == nil {
		// A 404/405 for a path or method the API does not have.
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return nil
		}
		return fmt.Errorf("no operation %s %s in api/openapi.yaml", method, path)
	}
	code := strconv.Itoa(status)
	r, ok := op.responses[code]
	if !ok {
		if r, ok = op.responses["default"]; !ok {
			return fmt.Errorf("%s %s: status %d is not declared", op.method, op.path, status)
		}
		code = "default"
	}
	resp, _ := r.(map[string]any)
	pointer := "#/paths/" + pointerToken(op.path) + "/" + strings.ToLower(op.method) + "/responses/" + code
	if ref, ok := resp["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/responses/")
		resp, _ = ct.doc["components"].(map[string]any)["responses"].(map[string]any)[name].(map[string]any)
		pointer = "#/components/responses/" + pointerToken(name)
	}
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 || len(body) == 0 || method == "HEAD" || status == http.StatusNotModified {
		return nil
	}
	mt, _, err := mime.ParseMediaType(hdr.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("%s %s %d: Content-Type %q: %v", op.method, op.path, status, hdr.Get("Content-Type"), err)
	}
	key := mt
	if _, ok := content[mt]; !ok {
		if _, ok := content["*/*"]; !ok {
			return fmt.Errorf("%s %s %d: media type %s is not declared (declared: %v)", op.method, op.path, status, mt, keysOf(content))
		}
		key = "*/*"
	}
	if mt != "application/json" && mt != "application/problem+json" {
		return nil
	}
	media, _ := content[key].(map[string]any)
	if _, ok := media["schema"]; !ok {
		return nil
	}
	loc := contractBase + pointer + "/content/" + pointerToken(key) + "/schema"
	ct.mu.Lock()
	sch, ok := ct.schemas[loc]
	if !ok {
		sch, err = ct.compiler.Compile(loc)
		if err != nil {
			ct.mu.Unlock()
			return fmt.Errorf("compile %s: %v", loc, err)
		}
		ct.schemas[loc] = sch
	}
	ct.mu.Unlock()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s %s %d: body is not JSON: %v", op.method, op.path, status, err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("%s %s %d: body does not conform: %v", op.method, op.path, status, err)
	}
	return nil
}

// checkContract is called for every response of caseAPI.
func checkContract(t *testing.T, method, path string, r response) {
	t.Helper()
	ct, err := loadContract()
	if err != nil {
		t.Fatalf("load api/openapi.yaml: %v", err)
	}
	if err := ct.check(method, path, r.status, r.header, r.body); err != nil {
		t.Errorf("contract: %v", err)
	}
}

// The checker itself catches drift (so a silent pass means something).
func TestContractCheckerCatchesDrift(t *testing.T) {
	t.Parallel()
	ct, err := loadContract()
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
		err := ct.check(tc.method, tc.path, tc.status, tc.hdr, []byte(tc.body))
		if (err == nil) != tc.ok {
			t.Errorf("%s %s %d %s: err %v, want ok=%v", tc.method, tc.path, tc.status, tc.body, err, tc.ok)
		}
	}
}
