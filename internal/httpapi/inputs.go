package httpapi

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/config"
)

// Every query parameter and path parameter of the API is checked here,
// once, before any handler or service sees it: text that cannot be true
// (invalid UTF-8, NUL and other control characters, lone surrogates
// smuggled as their UTF-8 encoding, over-long values), and the parameters
// whose meaning is the same on every list (limit, cursor). Bad input is a
// 422 whose errors name each bad parameter; nothing reaches PostgreSQL.
const (
	// maxQueryValue is the longest query parameter value, in bytes. The
	// longest real filter is a free-text search; 500 is ample.
	maxQueryValue = 500
	// maxQueryParams bounds how many values a query may carry.
	maxQueryParams = 64
	maxListLimit   = 200
)

// badText returns what is wrong with s as text input, or "".
func badText(s string, maxBytes int) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8 text"
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return "must not contain control characters"
		}
	}
	if maxBytes > 0 && len(s) > maxBytes {
		return "must be at most " + strconv.Itoa(maxBytes) + " bytes long"
	}
	return ""
}

// validateInputs is the middleware that checks an API request's query and
// path parameters.
func validateInputs() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !strings.HasPrefix(c.Request.URL.Path, apiPrefix) {
			c.Next()
			return
		}
		// A path parameter that is not valid text, or the nil UUID, names
		// no object.
		for _, p := range c.Params {
			if badText(p.Value, 200) != "" || p.Value == uuid.Nil.String() {
				Fail(c, apperr.With(apperr.ErrNotFound, "No such resource."))
				return
			}
		}
		var fs apperr.Fields
		q, err := parseQuery(c.Request.URL.RawQuery)
		if err != nil {
			fs.Add("query", "is not a valid URL query (%s)", err.Error())
		}
		n := 0
		for _, kv := range q {
			n++
			name := kv[0]
			if msg := badText(name, 64); msg != "" {
				fs.Add("query", "parameter names %s", msg)
				continue
			}
			if msg := badText(kv[1], maxQueryValue); msg != "" {
				fs.Add(name, "%s", msg)
				continue
			}
			if name == "cursor" && kv[1] == "" {
				fs.Add("cursor", "must not be empty; leave it out for the first page")
			}
		}
		if n > maxQueryParams {
			fs.Add("query", "must carry at most %d parameters", maxQueryParams)
		}
		if err := fs.Err(); err != nil {
			Fail(c, dedupe(err))
			return
		}
		c.Next()
	}
}

// parseQuery splits a raw query into name, value pairs, in order, and
// fails on an escape that is not valid (where url.ParseQuery would drop
// the pair silently).
func parseQuery(raw string) ([][2]string, error) {
	var out [][2]string
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := unescapeQuery(k)
		if err != nil {
			return out, err
		}
		v, err = unescapeQuery(v)
		if err != nil {
			return out, err
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// parseLimit reads the limit query parameter of a list, the same way for
// every list: absent is 0 (the service's default), else a whole number
// from 1 to maxListLimit.
func parseLimit(c *gin.Context, fs *apperr.Fields) int {
	raw, ok := c.GetQuery("limit")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(raw)
	switch {
	case err != nil:
		fs.Add("limit", "must be a whole number")
		return 0
	case n < 1 || n > maxListLimit:
		fs.Add("limit", "must be between 1 and %d", maxListLimit)
		return 0
	}
	return n
}

// dedupe keeps the first error of each field.
func dedupe(err error) error {
	ve, ok := err.(*apperr.ValidationError)
	if !ok {
		return err
	}
	seen := map[string]bool{}
	var fs apperr.Fields
	for _, f := range ve.Fields {
		if !seen[f.Field] {
			seen[f.Field] = true
			fs = append(fs, f)
		}
	}
	return fs.Err()
}

func unescapeQuery(s string) (string, error) { return url.QueryUnescape(s) }

// clientBody is the request body as the handlers read it: a read that
// fails because the client broke off (the body ended before its
// Content-Length) or was too slow (a body deadline passed) is marked, so
// the answer is a 400 or 408 naming it, never a 500 or an outage.
type clientBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	start    time.Time
	read     int64
	minRate  int64
	grace    time.Duration
	deadline bool
	failed   bool
}

// errSlowBody: the body did not arrive in time.
var errSlowBody = errors.New("request body too slow")

type bodyReadError struct{ err, kind error }

func (e *bodyReadError) Error() string   { return e.kind.Error() + ": " + e.err.Error() }
func (e *bodyReadError) Unwrap() []error { return []error{e.kind, e.err} }
func (b *clientBody) Read(p []byte) (int, error) {
	if b.minRate > 0 && b.deadline {
		// Uploads: the deadline moves with what arrived, so a steady body
		// of any size passes and a trickle is cut.
		allowed := b.grace + time.Duration(float64(b.read)/float64(b.minRate)*float64(time.Second))
		_ = b.rc.SetReadDeadline(b.start.Add(allowed))
	}
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	if err == nil || errors.Is(err, io.EOF) {
		return n, err
	}
	b.failed = true
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		return n, &bodyReadError{err: err, kind: errSlowBody}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &ne):
		return n, &bodyReadError{err: err, kind: errTruncated}
	}
	return n, err
}

// guardBody wraps the request body (before the size limit) and sets its
// deadline: BodyTimeout for every route but uploads, which get the
// minimum-rate rule instead.
func guardBody(cfg config.Server) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Body == nil || c.Request.Body == http.NoBody {
			c.Next()
			return
		}
		rc := http.NewResponseController(c.Writer)
		b := &clientBody{ReadCloser: c.Request.Body, rc: rc, start: time.Now()}
		if largeBodyRoute(c) {
			b.minRate, b.grace = cfg.UploadMinRate, cfg.UploadGrace
			b.deadline = rc.SetReadDeadline(time.Now().Add(cfg.UploadGrace)) == nil
		} else if cfg.BodyTimeout > 0 {
			_ = rc.SetReadDeadline(time.Now().Add(cfg.BodyTimeout))
		}
		c.Request.Body = b
		c.Next()
		if !b.failed {
			// The connection may serve another request: lift the deadline.
			_ = rc.SetReadDeadline(time.Time{})
		}
	}
}
