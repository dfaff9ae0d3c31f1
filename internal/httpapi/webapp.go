package httpapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// webApp serves the embedded web app: its files, and index.html for every
// client-side route, so a bookmarked /cases/123 loads the app, which then
// routes in the browser. The files are read once at start-up; text files
// are gzipped once too, for slow links.
type webApp struct {
	files map[string]*webFile // by path without the leading slash
	index *webFile            // nil when the binary was built without the app
	// indexStyles are the CSP sources ('sha256-…') of index.html's inline
	// <style> blocks: the static shell's few rules, which must paint before
	// any stylesheet arrives on a slow link. Only index.html gets them.
	indexStyles string
}

// inlineStyle finds the contents of <style> blocks (the shell's, written by
// us in frontend/index.html: no attributes, no nesting).
var inlineStyle = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// styleHashes returns the CSP hash sources of html's inline style blocks.
func styleHashes(html []byte) string {
	var out []string
	for _, m := range inlineStyle.FindAllSubmatch(html, -1) {
		sum := sha256.Sum256(m[1])
		out = append(out, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	return strings.Join(out, " ")
}

type webFile struct {
	body, gzipped []byte
	contentType   string
	etag          string
	immutable     bool // content-hashed name: cache for a year
}

// newWebApp loads fsys (the Vite build: index.html at the root, hashed
// files under assets/). A nil fsys gives an app that answers page requests
// with a note that the web app was not built.
func newWebApp(fsys fs.FS) (*webApp, error) {
	w := &webApp{files: map[string]*webFile{}}
	if fsys == nil {
		return w, nil
	}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		sum := sha256.Sum256(body)
		f := &webFile{
			body:        body,
			contentType: mime.TypeByExtension(path.Ext(p)),
			etag:        `"` + hex.EncodeToString(sum[:16]) + `"`,
			immutable:   strings.HasPrefix(p, "assets/"),
		}
		if f.contentType == "" {
			f.contentType = "application/octet-stream"
		}
		if compressible(f.contentType) && len(body) > 512 {
			f.gzipped, err = gzipBytes(body)
			if err != nil {
				return fmt.Errorf("compress %s: %w", p, err)
			}
		}
		w.files[p] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load web app: %w", err)
	}
	w.index = w.files["index.html"]
	if w.index != nil {
		w.indexStyles = styleHashes(w.index.body)
	}
	return w, nil
}

func compressible(contentType string) bool {
	for _, p := range []string{"text/", "application/javascript", "text/javascript", "application/json", "image/svg+xml"} {
		if strings.HasPrefix(contentType, p) {
			return true
		}
	}
	return false
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("gzip writer: %w", err)
	}
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip close: %w", err)
	}
	return buf.Bytes(), nil
}

// serve answers a request no route matched: a file of the app, or
// index.html for a page of the app. It returns false when the request is
// for neither (then the caller answers 404 as for any unknown resource).
func (w *webApp) serve(c *gin.Context) bool {
	r := c.Request
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if f, ok := w.files[p]; ok && p != "index.html" {
		w.write(c, f)
		return true
	}
	if !isPageRequest(r, p) {
		return false
	}
	if w.index == nil {
		c.Header("Cache-Control", "no-store")
		c.Data(http.StatusServiceUnavailable, "text/html; charset=utf-8", []byte(notBuiltPage))
		return true
	}
	w.write(c, w.index)
	return true
}

// isPageRequest tells a browser navigating to a page of the app from a
// request for an API resource, a sign-in endpoint or a missing file.
func isPageRequest(r *http.Request, p string) bool {
	for _, prefix := range []string{"api/", "auth/", "assets/"} {
		if p+"/" == prefix || strings.HasPrefix(p, prefix) {
			return false
		}
	}
	switch p {
	case "healthz", "readyz", "metrics":
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

func (w *webApp) write(c *gin.Context, f *webFile) {
	h := c.Writer.Header()
	if f == w.index && w.indexStyles != "" {
		// The security headers allow style-src 'self'; the page also allows
		// its own inline shell rules, by hash (nothing else inline).
		if csp := h.Get("Content-Security-Policy"); strings.Contains(csp, "style-src 'self'") {
			h.Set("Content-Security-Policy", strings.Replace(csp, "style-src 'self'", "style-src 'self' "+w.indexStyles, 1))
		}
	}
	if f.immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		// index.html names the current hashed files: revalidate every time.
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("ETag", f.etag)
	h.Set("Content-Type", f.contentType)
	if f.gzipped != nil {
		h.Add("Vary", "Accept-Encoding")
	}
	if match := c.GetHeader("If-None-Match"); match != "" && match == f.etag {
		c.Status(http.StatusNotModified)
		return
	}
	body := f.body
	if f.gzipped != nil && acceptsGzip(c.GetHeader("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = f.gzipped
	}
	c.Status(http.StatusOK)
	if c.Request.Method == http.MethodHead {
		h.Set("Content-Length", fmt.Sprint(len(body)))
		return
	}
	_, _ = c.Writer.Write(body)
}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		if name = strings.TrimSpace(name); name != "gzip" && name != "*" {
			continue
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			q, err := strconv.ParseFloat(v, 64)
			return err == nil && q > 0
		}
		return true
	}
	return false
}

// noRoute answers a request no route matched: the web app's file or page,
// else a 404 problem.
func (s *Server) noRoute(c *gin.Context) {
	if s.web.serve(c) {
		return
	}
	Problemf(c, http.StatusNotFound, "not-found", "Not found", "No such resource.")
}

// notBuiltPage is served for the app's pages by a binary built without the
// web app (go build on a fresh clone, before npm).
const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CaseBridge</title></head>
<body><h1>CaseBridge</h1>
<p>This binary was built without the web app. Run <code>make build</code>
(it builds frontend/ with npm, then the binary), or use the API under /api/v1.</p>
</body></html>
`
