package httpapi

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/documents"
)

// An outage is an error that says a dependency is unavailable, not that
// the request was wrong or that the program failed: PostgreSQL not
// answering, the document store full or not writable. The client gets a
// 503 (or 507 for a full store) problem with Retry-After naming what is
// unavailable, so it retries later instead of reporting a bug.
type outage struct {
	status     int
	slug       string
	title      string
	detail     string
	retryAfter int // seconds
}

// outageOf classifies err; ok is false for every other error.
func outageOf(err error) (outage, bool) {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return outage{http.StatusInsufficientStorage, "storage-full", "Document store full",
			"The document store has no space left; nothing was kept. Try again once an operator has freed space.", 300}, true
	case errors.Is(err, syscall.EROFS), fileDenied(err):
		return outage{http.StatusServiceUnavailable, "storage-unavailable", "Document store unavailable",
			"The document store cannot be written to at the moment; nothing was kept. Try again later.", 60}, true
	case blob.Unreachable(err):
		return outage{http.StatusServiceUnavailable, "storage-unavailable", "Document store unavailable",
			"The document store (S3) cannot be reached at the moment; nothing was changed. Try again shortly.", 10}, true
	}
	if databaseDown(err) {
		return outage{http.StatusServiceUnavailable, "database-unavailable", "Database unavailable",
			"The database cannot be reached at the moment; nothing was changed. Try again shortly.", 5}, true
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return outage{http.StatusServiceUnavailable, "dependency-unavailable", "Service unavailable",
			"A service the portal depends on cannot be reached at the moment. Try again shortly.", 5}, true
	}
	return outage{}, false
}

// fileDenied reports whether err is a file operation the operating system
// refused (EACCES, EPERM: the store's directory lost its permissions, e.g.
// chmod by an operator or a volume mounted for another user). Only errors
// of a path operation count: an EPERM from anything else is not the store.
func fileDenied(err error) bool {
	if !errors.Is(err, syscall.EACCES) && !errors.Is(err, syscall.EPERM) {
		return false
	}
	var pe *fs.PathError
	var le *os.LinkError
	return errors.As(err, &pe) || errors.As(err, &le)
}

// databaseDown reports whether err says PostgreSQL cannot be reached or is
// shutting down (as opposed to refusing a statement).
func databaseDown(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || errors.Is(err, driver.ErrBadConn) {
		return true
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case len(pg.Code) == 5 && pg.Code[:2] == "08": // connection exception
			return true
		case pg.Code == "57P01", pg.Code == "57P02", pg.Code == "57P03", pg.Code == "53300":
			// admin/crash shutdown, cannot connect now, too many connections
			return true
		}
		return false
	}
	// The pool could not dial, or the connection broke before the
	// statement was sent, or broke under it (a server stopped mid-query).
	return pgconn.SafeToRetry(err) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(err.Error(), "conn closed")
}

// failOutage answers an outage; it reports whether err was one.
func failOutage(c *gin.Context, p Problem, err error) bool {
	o, ok := outageOf(err)
	if !ok {
		return false
	}
	p.Status, p.Type, p.Title, p.Detail = o.status, problemTypeBase+o.slug, o.title, o.detail
	p.Code = "problem." + strings.ReplaceAll(o.slug, "-", "_")
	c.Header("Retry-After", strconv.Itoa(o.retryAfter))
	writeProblem(c, p)
	return true
}

// minFreeBytes is the free space below which a local document store is
// reported full by /readyz: an upload would fail with 507.
const minFreeBytes = 64 << 20

// blobReady checks the document store: reachable and writable, and for a
// local directory, not full.
func blobReady(ctx context.Context, st blob.Store) error {
	if err := st.Ping(ctx); err != nil {
		return err
	}
	if l, ok := st.(*blob.Local); ok {
		free, err := l.FreeBytes()
		if err != nil {
			return err
		}
		if free < minFreeBytes {
			return fmt.Errorf("the document store is full (%d bytes free)", free)
		}
	}
	return nil
}

func blobStatus(d *documents.Service) string {
	if d == nil {
		return "not configured"
	}
	return "ok"
}

// rangeProblemWriter turns the plain-text 416 that http.ServeContent writes
// for a range it cannot satisfy into a problem document with the request
// id, like every other error of the API.
type rangeProblemWriter struct {
	http.ResponseWriter
	c        *gin.Context
	replaced bool
}

func (w *rangeProblemWriter) WriteHeader(code int) {
	if code != http.StatusRequestedRangeNotSatisfiable {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.replaced = true
	p := Problem{Type: problemTypeBase + "range-not-satisfiable", Title: "Range not satisfiable", Code: "problem.range_not_satisfiable",
		Status: code, Detail: "The Range header asks for bytes the file does not have; see Content-Range for its size.",
		Instance: w.c.Request.URL.Path, RequestID: RequestID(w.c)}
	body, _ := json.Marshal(p)
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.ResponseWriter.WriteHeader(code)
	_, _ = w.ResponseWriter.Write(body)
}

func (w *rangeProblemWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// maxHeaderBytes bounds a request's header fields; larger is a 431 problem
// (net/http's own, far larger, limit answers in plain text).
const maxHeaderBytes = 32 << 10

func headerLimit() gin.HandlerFunc {
	return func(c *gin.Context) {
		n := len(c.Request.RequestURI)
		for k, vs := range c.Request.Header {
			for _, v := range vs {
				n += len(k) + len(v) + 4
			}
		}
		if n > maxHeaderBytes {
			c.Header("Connection", "close")
			Problemf(c, http.StatusRequestHeaderFieldsTooLarge, "headers-too-large", "Request header fields too large",
				"The request's header fields exceed "+strconv.Itoa(maxHeaderBytes)+" bytes.")
			return
		}
		c.Next()
	}
}
