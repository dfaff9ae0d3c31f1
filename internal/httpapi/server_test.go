package httpapi_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/httpapi"
	"github.com/casebridge/casebridge/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newServer(t *testing.T) *httpapi.Server {
	t.Helper()
	cfg := config.Default()
	cfg.Server.MaxBodyBytes = 1024
	s := httpapi.New(httpapi.Deps{DB: testenv.DB(t), Log: quietLog(), Config: cfg})
	e := s.Engine()
	e.GET("/test/panic", func(*gin.Context) { panic("boom: secret internal state") })
	e.POST("/test/json", func(c *gin.Context) {
		var v struct {
			Name string `json:"name"`
			Age  int    `json:"age"`
		}
		if err := httpapi.DecodeJSON(c, &v); err != nil {
			httpapi.Fail(c, err)
			return
		}
		c.JSON(200, v)
	})
	e.GET("/test/forbidden", func(c *gin.Context) {
		httpapi.Fail(c, apperr.Forbidden("case.change_status", ""))
	})
	return s
}

func do(s *httpapi.Server, method, path, body string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

func problemOf(t *testing.T, rec *httptest.ResponseRecorder) httpapi.Problem {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json; body %s", ct, rec.Body)
	}
	var p httpapi.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != rec.Code || p.Type == "" || p.Title == "" || p.RequestID == "" {
		t.Fatalf("incomplete problem %+v for status %d", p, rec.Code)
	}
	return p
}

func TestOperationalEndpoints(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/api/openapi.yaml"} {
		rec := do(s, "GET", path, "", nil)
		if rec.Code != 200 {
			t.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	if rec := do(s, "GET", "/metrics", "", nil); !strings.Contains(rec.Body.String(), "casebridge_http_requests_total") {
		t.Errorf("metrics lack the request counter")
	}
}

func TestProblems(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	t.Run("unknown route is a 404 problem", func(t *testing.T) {
		problemOf(t, do(s, "GET", "/api/v1/nope", "", nil))
	})
	t.Run("panic is a 500 problem without internals", func(t *testing.T) {
		rec := do(s, "GET", "/test/panic", "", nil)
		p := problemOf(t, rec)
		if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret internal state") {
			t.Fatalf("panic answer %d leaks: %s", rec.Code, rec.Body)
		}
		_ = p
	})
	t.Run("forbidden names the permission", func(t *testing.T) {
		rec := do(s, "GET", "/test/forbidden", "", nil)
		if p := problemOf(t, rec); rec.Code != 403 || p.Permission != "case.change_status" {
			t.Fatalf("got %d %+v", rec.Code, p)
		}
	})
	json := map[string]string{"Content-Type": "application/json"}
	bad := []struct {
		name, body string
		hdr        map[string]string
		status     int
		field      string
	}{
		{"unknown field", `{"name":"a","admin":true}`, json, 422, "admin"},
		{"wrong type", `{"name":"a","age":"x"}`, json, 422, "age"},
		{"syntax", `{"name":`, json, 422, "body"},
		{"empty", ``, json, 422, "body"},
		{"two objects", `{"name":"a"}{"name":"b"}`, json, 422, "body"},
		{"not json", `name=a`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, ""},
		{"too large", `{"name":"` + strings.Repeat("a", 2000) + `"}`, json, 413, ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(s, "POST", "/test/json", tc.body, tc.hdr)
			p := problemOf(t, rec)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tc.field) {
				t.Fatalf("errors %+v, want one naming %q", p.Errors, tc.field)
			}
		})
	}
}

func TestRequestIDAndSecurityHeaders(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rec := do(s, "GET", "/healthz", "", map[string]string{"X-Request-ID": "abcdefgh-1234"})
	if got := rec.Header().Get("X-Request-ID"); got != "abcdefgh-1234" {
		t.Errorf("sane request id not kept: %q", got)
	}
	rec = do(s, "GET", "/healthz", "", map[string]string{"X-Request-ID": "bad id\r\nwith junk"})
	if got := rec.Header().Get("X-Request-ID"); got == "" || strings.ContainsAny(got, " \r\n") {
		t.Errorf("insane request id kept: %q", got)
	}
	for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Referrer-Policy"} {
		if rec.Header().Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	if rec := do(s, "DELETE", "/healthz", "", nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /healthz: %d, want 405", rec.Code)
	}
}
