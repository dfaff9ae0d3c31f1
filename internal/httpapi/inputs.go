package httpapi

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/apperr"
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
