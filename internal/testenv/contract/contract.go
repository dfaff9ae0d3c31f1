// Package contract checks HTTP responses against api/openapi.yaml, for the
// tests: the response-validation step of every API test suite (internal/app,
// internal/documents) and of the end-to-end responses. A test whose response
// drifts from the contract fails.
package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/casebridge/casebridge/api"
)

type contractOp struct {
	method, path string
	re           *regexp.Regexp
	params       int
	responses    map[string]any
}

// Checker checks responses against an OpenAPI document.
type Checker struct {
	ops      []contractOp
	doc      map[string]any
	mu       sync.Mutex
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema
}

var (
	contractOnce sync.Once
	theContract  *Checker
	contractErr  error
)

const contractBase = "https://casebridge.example/openapi.json"

// Load returns the checker of the project's api/openapi.yaml (compiled once).
func Load() (*Checker, error) {
	contractOnce.Do(func() { theContract, contractErr = Compile(api.OpenAPI) })
	return theContract, contractErr
}

// Compile reads an OpenAPI document (YAML) into a checker.
func Compile(raw []byte) (*Checker, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	ct := &Checker{doc: doc, schemas: map[string]*jsonschema.Schema{}}
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
		return nil, err
	}
	res, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	ct.compiler = jsonschema.NewCompiler()
	ct.compiler.AssertFormat()
	if err := ct.compiler.AddResource(contractBase, res); err != nil {
		return nil, err
	}
	return ct, nil
}

func pointerToken(s string) string {
	s = strings.ReplaceAll(s, "~", "~0")
	s = strings.ReplaceAll(s, "/", "~1")
	return url.PathEscape(s)
}

// check validates one response.
// Check reports how one response departs from the contract: the operation
// exists, its status and media type are declared, and a JSON body conforms
// to the declared schema. nil: it conforms.
func (ct *Checker) Check(method, rawPath string, status int, hdr http.Header, body []byte) error {
	path, _, _ := strings.Cut(rawPath, "?")
	find := method
	if method == http.MethodHead {
		find = http.MethodGet // HEAD is documented with its GET (RFC 9110 §9.3.2); its body is empty
	}
	var op *contractOp
	for i := range ct.ops {
		o := &ct.ops[i]
		if o.method == find && o.re.MatchString(path) && (op == nil || o.params < op.params) {
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
			return fmt.Errorf("%s %s %d: media type %s is not declared (declared: %v)", op.method, op.path, status, mt, slices.Sorted(maps.Keys(content)))
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
