package httpapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gin-gonic/gin"
)

func webAppServer(t *testing.T, fsys fstest.MapFS) *Server {
	t.Helper()
	var w *webApp
	var err error
	if fsys == nil {
		w, err = newWebApp(nil)
	} else {
		w, err = newWebApp(fsys)
	}
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{engine: gin.New(), web: w}
	s.engine.GET("/api/v1/me", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"ok": true}) })
	s.engine.NoRoute(s.noRoute)
	return s
}

func TestWebAppServesFilesAndClientRoutes(t *testing.T) {
	js := strings.Repeat("console.log('casebridge');\n", 100)
	s := webAppServer(t, fstest.MapFS{
		"index.html":             {Data: []byte(`<!doctype html><div id="root"></div><script type="module" src="/assets/index-abc123.js"></script>`)},
		"assets/index-abc123.js": {Data: []byte(js)},
		"favicon.svg":            {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
	})
	get := func(method, path string, hdr map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		s.engine.ServeHTTP(rec, req)
		return rec
	}
	html := map[string]string{"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}

	t.Run("hashed asset, long cache, gzip", func(t *testing.T) {
		rec := get("GET", "/assets/index-abc123.js", map[string]string{"Accept-Encoding": "gzip, br"})
		if rec.Code != 200 || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
			t.Fatalf("status %d cache %q", rec.Code, rec.Header().Get("Cache-Control"))
		}
		if rec.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(rec.Header().Get("Content-Type"), "javascript") {
			t.Fatalf("headers %v", rec.Header())
		}
		zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := io.ReadAll(zr)
		if string(plain) != js {
			t.Fatal("gzipped body does not decompress to the file")
		}
		if rec.Body.Len() >= len(js) {
			t.Fatalf("gzip did not shrink: %d >= %d", rec.Body.Len(), len(js))
		}
	})
	t.Run("no gzip when not accepted", func(t *testing.T) {
		rec := get("GET", "/assets/index-abc123.js", map[string]string{"Accept-Encoding": "gzip;q=0"})
		if rec.Header().Get("Content-Encoding") != "" || rec.Body.String() != js {
			t.Fatalf("encoding %q", rec.Header().Get("Content-Encoding"))
		}
	})
	t.Run("client route gets index.html", func(t *testing.T) {
		for _, p := range []string{"/", "/cases", "/cases/0b5e/persons", "/consular/nationals?status=detained"} {
			rec := get("GET", p, html)
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), `id="root"`) {
				t.Fatalf("%s: status %d body %q", p, rec.Code, rec.Body.String())
			}
			if rec.Header().Get("Cache-Control") != "no-cache" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
				t.Fatalf("%s: headers %v", p, rec.Header())
			}
		}
	})
	t.Run("revalidation", func(t *testing.T) {
		etag := get("GET", "/cases", html).Header().Get("ETag")
		rec := get("GET", "/cases", map[string]string{"Accept": "text/html", "If-None-Match": etag})
		if etag == "" || rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Fatalf("etag %q: status %d", etag, rec.Code)
		}
	})
	t.Run("not the app", func(t *testing.T) {
		cases := []struct {
			method, path string
			hdr          map[string]string
		}{
			{"GET", "/api/v1/nope", html},        // API paths stay problems
			{"GET", "/auth/nope", html},          // so do sign-in paths
			{"GET", "/assets/missing-1.js", nil}, // a missing file is not the app
			{"GET", "/cases", map[string]string{"Accept": "application/json"}},
			{"POST", "/cases", html},
			{"GET", "/healthz2/../metrics", html},
		}
		for _, c := range cases {
			rec := get(c.method, c.path, c.hdr)
			if rec.Code != http.StatusNotFound || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
				t.Errorf("%s %s: status %d type %q", c.method, c.path, rec.Code, rec.Header().Get("Content-Type"))
			}
		}
	})
	t.Run("routes still win", func(t *testing.T) {
		rec := get("GET", "/api/v1/me", html)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"ok"`) {
			t.Fatalf("status %d body %s", rec.Code, rec.Body.String())
		}
	})
	t.Run("HEAD", func(t *testing.T) {
		rec := get("HEAD", "/favicon.svg", nil)
		if rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Cache-Control") != "no-cache" {
			t.Fatalf("status %d len %d", rec.Code, rec.Body.Len())
		}
	})
}

func TestWebAppNotBuilt(t *testing.T) {
	s := webAppServer(t, nil)
	req := httptest.NewRequest("GET", "/cases", nil)
	req.Header.Set("Accept", "text/html")
	rec := httptest.NewRecorder()
	s.engine.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "make build") {
		t.Fatalf("status %d body %q", rec.Code, rec.Body.String())
	}
}

// The static shell's inline rules are allowed by their hash on index.html
// only, and nothing else inline is: a changed block no longer matches.
func TestWebAppShellStyleHash(t *testing.T) {
	shell := "body{margin:0}.shell-bar{background:#0b4f6c}"
	s := webAppServer(t, fstest.MapFS{
		"index.html":     {Data: []byte(`<!doctype html><style>` + shell + `</style><div id="root"><p>Loading…</p></div>`)},
		"assets/a-1.js":  {Data: []byte("x")},
		"assets/a-1.css": {Data: []byte("body{}")},
		"favicon.svg":    {Data: []byte(`<svg/>`)},
	})
	const base = "default-src 'self'; style-src 'self'; script-src 'self'"
	get := func(path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Accept", "text/html")
		rec := httptest.NewRecorder()
		rec.Header().Set("Content-Security-Policy", base)
		s.engine.ServeHTTP(rec, req)
		return rec
	}
	sum := sha256.Sum256([]byte(shell))
	want := "style-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "';"
	for _, path := range []string{"/", "/cases/123"} {
		rec := get(path)
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q, want it to contain %q", path, csp, want)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("%s: Cache-Control %q, want no-cache", path, cc)
		}
	}
	for _, path := range []string{"/assets/a-1.js", "/assets/a-1.css"} {
		rec := get(path)
		if csp := rec.Header().Get("Content-Security-Policy"); csp != base {
			t.Errorf("%s: CSP %q; only index.html may allow the inline block", path, csp)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", path, cc)
		}
	}
	if got := styleHashes([]byte(`<style>` + shell + ` </style>`)); strings.Contains(got, want[len("style-src 'self' "):len(want)-1]) {
		t.Error("a changed block still matches the hash")
	}
}
