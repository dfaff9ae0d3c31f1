package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/casebridge/casebridge/internal/httpapi"
)

// Found 1: a full or unwritable document store is a 507/503 problem that
// names the document store and carries Retry-After, not a 500. The errors
// are the ones the local store returns (wrapped *fs.PathError), as the
// document service passes them up.
func TestStorageOutageProblems(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	e := s.Engine()
	errs := map[string]error{
		"enospc": fmt.Errorf("store upload: %w", fmt.Errorf("put blob: write: %w",
			&fs.PathError{Op: "write", Path: "/blobs/tmp/put-1", Err: syscall.ENOSPC})),
		"edquot": fmt.Errorf("store upload: %w", &fs.PathError{Op: "write", Path: "x", Err: syscall.EDQUOT}),
		"erofs":  fmt.Errorf("store upload: %w", &fs.PathError{Op: "open", Path: "x", Err: syscall.EROFS}),
		// The store's directory chmod-ed by an operator (a server that is
		// not root gets EACCES; root is not refused, so the drill in
		// internal/app remounts the store read-only instead).
		"eacces": fmt.Errorf("store upload: %w", &fs.PathError{Op: "open", Path: "/blobs/tmp/put-1", Err: syscall.EACCES}),
		"eperm":  fmt.Errorf("store upload: %w", &os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.EPERM}),
	}
	for name, err := range errs {
		e.GET("/test/outage/"+name, func(c *gin.Context) { httpapi.Fail(c, err) })
	}
	for name, want := range map[string]int{"enospc": http.StatusInsufficientStorage,
		"edquot": http.StatusInsufficientStorage, "erofs": http.StatusServiceUnavailable,
		"eacces": http.StatusServiceUnavailable, "eperm": http.StatusServiceUnavailable} {
		rec := do(s, "GET", "/test/outage/"+name, "", nil)
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", name, rec.Code, want)
			continue
		}
		p := problemOf(t, rec)
		if rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", name)
		}
		if p.Title == "" || !containsFold(p.Title+p.Detail, "document store") {
			t.Errorf("%s: problem does not name the document store: %+v", name, p)
		}
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// Found 7: HEAD /healthz answers 200 (load balancers probe with HEAD), and
// header fields over the limit are a 431 problem with X-Request-ID.
func TestContractEdges(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	if rec := do(s, "HEAD", "/healthz", "", nil); rec.Code != http.StatusOK {
		t.Errorf("HEAD /healthz: %d", rec.Code)
	}
	rec := do(s, "GET", "/api/v1/cases", "", map[string]string{"X-Big": strings.Repeat("a", 40<<10)})
	if rec.Code != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("40 KiB header: %d", rec.Code)
	}
	problemOf(t, rec)
	if rec.Header().Get("X-Request-ID") == "" {
		t.Error("431 without X-Request-ID")
	}
}

// Found 3: errors are logged through the program's logger (log.format
// json gives JSON lines), not slog's default text logger.
func TestErrorsLoggedThroughConfiguredLogger(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	s := httpapi.New(httpapi.Deps{Log: slog.New(slog.NewJSONHandler(&buf, nil))})
	s.Engine().GET("/test/broken", func(c *gin.Context) { httpapi.Fail(c, fmt.Errorf("disk on fire")) })
	if rec := do(s, "GET", "/test/broken", "", nil); rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	out := buf.String()
	if !strings.Contains(out, `"msg":"request failed"`) || !strings.Contains(out, "disk on fire") {
		t.Fatalf("the error is not in the configured JSON log: %q", out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
