package httpapi

import (
	"bytes"
	"errors"
	"mime/multipart"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/documents"
)

// Fuzz targets for every parser of outside input in the HTTP layer. Seeds
// live in testdata/fuzz/<Target>; `make fuzz` runs each for FUZZTIME.

// FuzzQueryValidation: any raw query either passes the one validation
// step with only valid, control-free, bounded text, or is refused as a
// validation error (never a panic, never a 500).
func FuzzQueryValidation(f *testing.F) {
	for _, s := range []string{"q=%ff%fe", "facility=%ff", "action=%00", "limit=0", "limit=200&cursor=abc",
		"q=" + strings.Repeat("a", 600), "a=1&&b=2", "%zz=1", "q=%ed%a0%80", "q=ok+%E1%9E%80"} {
		f.Add(s)
	}
	gin.SetMode(gin.ReleaseMode)
	f.Fuzz(func(t *testing.T, raw string) {
		e := gin.New()
		e.Use(requestID(), validateInputs())
		passed := false
		e.GET("/api/v1/things/:id", func(c *gin.Context) {
			passed = true
			for _, vs := range c.Request.URL.Query() {
				for _, v := range vs {
					if badText(v, maxQueryValue) != "" {
						t.Fatalf("bad value %q passed", v)
					}
				}
			}
			c.Status(200)
		})
		req := httptest.NewRequest("GET", "/api/v1/things/x", nil)
		req.URL.RawQuery = raw
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		switch {
		case rec.Code == 200 && passed:
		case rec.Code == 422:
		default:
			t.Fatalf("query %q: %d %s", raw, rec.Code, rec.Body)
		}
	})
}

// FuzzDecodeStrict: any JSON body decodes into a request struct or yields
// field errors; never a panic.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{`{"title": "x", "kind": "trafficking"}`, `{"operation": {"date": "0000-01-01"}}`,
		`[1]`, `{"title": 5}`, `{"a": "\ud800"}`, `{`, `null`, `{"operation": null, "tags": ["a"]}`} {
		f.Add([]byte(s))
	}
	type op struct {
		Date optional[civilDate] `json:"date"`
		At   *timestamp          `json:"at"`
	}
	type body struct {
		Title     optional[string]   `json:"title"`
		Kind      string             `json:"kind"`
		Operation *op                `json:"operation"`
		Tags      []string           `json:"tags"`
		Count     optional[int]      `json:"count"`
		Flag      *bool              `json:"flag"`
		Dates     []civilDate        `json:"dates"`
		Nested    struct{ A string } `json:"nested"`
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v body
		err := decodeStrict(b, &v)
		if err != nil && !errors.Is(err, apperr.ErrInvalid) {
			t.Fatalf("%q: %v is not a validation error", b, err)
		}
	})
}

// FuzzContentDisposition: any stored file name gives a header value with
// no control characters and a filename that round-trips through a parser.
func FuzzContentDispositionSanitized(f *testing.F) {
	for _, s := range []string{"a.pdf", "ក្រុង.pdf", "a\"b.pdf", "a\r\nX: y.pdf", "../../etc/passwd", "", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		v := ContentDisposition(documents.SanitizeFilename(name))
		for _, r := range v {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("control character in %q", v)
			}
		}
	})
}

// FuzzUploadMetadata: any multipart body with a metadata part is parsed
// into a request or refused with a domain error; never a panic or a 500.
func FuzzUploadMetadata(f *testing.F) {
	for _, s := range []string{`{"title": "x", "kind": "other", "classification": "restricted"}`, `{`, `[]`,
		`{"title": 1}`, `{"person_id": "nope"}`, strings.Repeat("x", 70000)} {
		f.Add(s, "file", "a.pdf")
	}
	store, err := blob.NewLocal(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	h := documentHandlers{svc: documents.NewService(store, 1<<20, nil)}
	gin.SetMode(gin.ReleaseMode)
	f.Fuzz(func(t *testing.T, meta, partName, filename string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mh := textproto.MIMEHeader{}
		mh.Set("Content-Disposition", `form-data; name="metadata"`)
		w, _ := mw.CreatePart(mh)
		_, _ = w.Write([]byte(meta))
		fw, err := mw.CreateFormFile(partName, filename)
		if err == nil {
			_, _ = fw.Write([]byte("%PDF-1.4\n"))
		}
		_ = mw.Close()
		req := httptest.NewRequest("POST", "/api/v1/cases/x/documents", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		c.Request = req
		mr, md, err := h.uploadReader(c, true)
		if err != nil {
			var ve *apperr.ValidationError
			if !errors.As(err, &ve) && !errors.Is(err, apperr.ErrTooLarge) && !errors.Is(err, apperr.ErrUnsupportedMediaType) {
				t.Fatalf("metadata %q: %v is not a domain error", meta, err)
			}
			return
		}
		if md != nil {
			if _, err := md.metadata(); err != nil && !errors.Is(err, apperr.ErrInvalid) {
				t.Fatalf("metadata %q: %v", meta, err)
			}
		}
		if _, err := filePart(mr)(); err != nil && !errors.Is(err, apperr.ErrInvalid) {
			t.Fatalf("file part: %v", err)
		}
	})
}
