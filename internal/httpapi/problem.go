package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casebridge/casebridge/internal/apperr"
)

// Problem is an RFC 9457 problem details document.
type Problem struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	// Code is stable (validation.failed, forbidden.permission,
	// case.referral_pending_screening, …): clients translate it.
	Code      string              `json:"code"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	Instance  string              `json:"instance,omitempty"`
	Errors    []apperr.FieldError `json:"errors,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
	// Permission names what a 403 lacks.
	Permission string `json:"missing_permission,omitempty"`
}

// problemTypeBase prefixes every problem type URI; the documents behind
// them are in docs/problems.md.
const problemTypeBase = "https://casebridge.example/problems/"

// kinds maps each domain error kind to its status, type slug and title.
var kinds = []struct {
	err    error
	status int
	slug   string
	title  string
}{ // the code of a kind is its slug with "-" as "_", under "problem." (problem.not_found)
	{apperr.ErrInvalid, http.StatusUnprocessableEntity, "validation", "Invalid request"},
	{apperr.ErrNotFound, http.StatusNotFound, "not-found", "Not found"},
	{apperr.ErrForbidden, http.StatusForbidden, "forbidden", "Forbidden"},
	{apperr.ErrUnauthorized, http.StatusUnauthorized, "unauthorized", "Not signed in"},
	{apperr.ErrConflict, http.StatusConflict, "conflict", "Conflict"},
	{apperr.ErrPreconditionFailed, http.StatusPreconditionFailed, "precondition-failed", "The object changed since you read it"},
	{apperr.ErrPreconditionRequired, http.StatusPreconditionRequired, "precondition-required", "If-Match header required"},
	{apperr.ErrTooLarge, http.StatusRequestEntityTooLarge, "too-large", "Request too large"},
	{apperr.ErrUnsupportedMediaType, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type"},
	{apperr.ErrUnprocessable, http.StatusUnprocessableEntity, "unprocessable", "Request cannot be processed"},
	// A quota over time: 429, like the rate limits, with Retry-After when
	// it resets (not 413, which says this request is too large whenever it
	// is sent; not 507, which says the store itself is full).
	{apperr.ErrQuotaExceeded, http.StatusTooManyRequests, "quota-exceeded", "Quota used up"},
	{errTruncated, http.StatusBadRequest, "incomplete-body", "Request body incomplete"},
	{errSlowBody, http.StatusRequestTimeout, "body-timeout", "Request body too slow"},
}

// errTruncated: the request body ended before its Content-Length (a client
// or connection that broke off). Nothing was changed; the client may retry.
var errTruncated = errors.New("request body truncated")

// Fail answers c with the problem document for err and aborts the chain.
// Errors that are not domain kinds become a 500 whose detail says nothing
// about the cause; the log has it, under the request id.
func Fail(c *gin.Context, err error) {
	p := Problem{Instance: c.Request.URL.Path, RequestID: RequestID(c)}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			p.Status, p.Type, p.Title = k.status, problemTypeBase+k.slug, k.title
			p.Code = "problem." + strings.ReplaceAll(k.slug, "-", "_")
			break
		}
	}
	// A failure that is not the request's own fault, while its client has
	// gone: the client's leaving is why (499), not a server error.
	if p.Status == 0 && clientGone(c, err) {
		return
	}
	if p.Status == 0 && failOutage(c, p, err) {
		loggerOf(c).WarnContext(c.Request.Context(), "dependency unavailable", "error", err.Error(),
			"request_id", p.RequestID, "path", c.Request.URL.Path)
		return
	}
	if p.Status == 0 {
		loggerOf(c).ErrorContext(c.Request.Context(), "request failed", "error", err.Error(),
			"request_id", p.RequestID, "path", c.Request.URL.Path)
		p.Status, p.Type, p.Title = http.StatusInternalServerError, problemTypeBase+"internal", "Internal error"
		p.Code = "problem.internal"
		p.Detail = "Something went wrong on our side. Quote the request id when you report it."
		writeProblem(c, p)
		return
	}
	var re *apperr.RetryError
	if errors.As(err, &re) && re.After > 0 {
		c.Header("Retry-After", strconv.FormatInt(int64((re.After+time.Second-1)/time.Second), 10))
	}
	if errors.Is(err, errTruncated) || errors.Is(err, errSlowBody) {
		// The rest of the body will not come: do not wait for it to keep
		// the connection.
		c.Header("Connection", "close")
	}
	var ve *apperr.ValidationError
	var pe *apperr.PermissionError
	var de *apperr.DetailError
	switch {
	case errors.As(err, &ve):
		p.Errors = make([]apperr.FieldError, len(ve.Fields))
		for i, f := range ve.Fields {
			if f.Code == "" {
				f.Code = apperr.FieldCode(f.Message)
			}
			p.Errors[i] = f
		}
		p.Detail = "One or more fields are invalid; see errors."
	case errors.As(err, &pe):
		p.Permission = pe.Permission
		p.Code = "forbidden.permission"
		p.Detail = "You may see this object but lack the permission " + pe.Permission + "."
		if pe.Reason != "" {
			p.Detail += " " + pe.Reason
		}
	case errors.As(err, &de):
		p.Detail = de.Detail
		if de.Code != "" {
			p.Code = de.Code
		}
	}
	if p.Status == http.StatusUnauthorized && c.Writer.Header().Get("WWW-Authenticate") == "" {
		c.Header("WWW-Authenticate", `Bearer realm="casebridge"`)
	}
	writeProblem(c, p)
}

// Problemf answers with a problem of the given status and detail.
func Problemf(c *gin.Context, status int, slug, title, detail string) {
	writeProblem(c, Problem{Type: problemTypeBase + slug, Title: title, Status: status, Code: "problem." + strings.ReplaceAll(slug, "-", "_"),
		Detail: detail, Instance: c.Request.URL.Path, RequestID: RequestID(c)})
}

func writeProblem(c *gin.Context, p Problem) {
	c.Header("Content-Type", "application/problem+json")
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(p.Status, p)
}

const loggerKey = "cb.logger"

// loggerOf is the program's logger (log.format applies), else slog's
// default.
func loggerOf(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(loggerKey); ok {
		if l, ok := l.(*slog.Logger); ok {
			return l
		}
	}
	return slog.Default()
}
