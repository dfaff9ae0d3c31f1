// Package apperr defines the few kinds of domain error that services return
// and that the HTTP layer turns into RFC 9457 problem details. Services wrap
// them with %w and a message naming the operation; callers test with
// errors.Is and read details with errors.As.
package apperr

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel kinds. Test for them with errors.Is.
var (
	ErrNotFound             = errors.New("not found")
	ErrForbidden            = errors.New("forbidden")
	ErrInvalid              = errors.New("invalid input")
	ErrConflict             = errors.New("conflict")
	ErrPreconditionFailed   = errors.New("precondition failed")
	ErrPreconditionRequired = errors.New("precondition required")
	ErrUnauthorized         = errors.New("unauthorized")
	ErrTooLarge             = errors.New("too large")
	ErrUnsupportedMediaType = errors.New("unsupported media type")
	ErrUnprocessable        = errors.New("unprocessable")
	// ErrQuotaExceeded: a quota over time (the agency's uploads per day)
	// is used up; the same request succeeds once it resets (Retry-After).
	ErrQuotaExceeded = errors.New("quota exceeded")
)

// FieldError names one bad input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	// Code is stable (validation.required, validation.too_long, …): clients
	// translate it and fall back to Message.
	Code string `json:"code"`
}

// FieldCode derives the stable code of a field message from its wording.
func FieldCode(message string) string {
	m := strings.ToLower(message)
	switch {
	case strings.Contains(m, "webhooks.allowed_hosts"), strings.Contains(m, "https:// url"),
		strings.Contains(m, "loopback is allowed only"):
		return "validation.url_not_allowed"
	case strings.Contains(m, "is required"), strings.Contains(m, "must not be empty"), strings.Contains(m, "missing"):
		return "validation.required"
	case strings.Contains(m, "at most"), strings.Contains(m, "too long"):
		return "validation.too_long"
	case strings.Contains(m, "at least"), strings.Contains(m, "too short"):
		return "validation.too_short"
	case strings.Contains(m, "iso 3166"), strings.Contains(m, "country"):
		return "validation.country"
	case strings.Contains(m, "date"), strings.Contains(m, "time"):
		return "validation.date"
	case strings.Contains(m, "future"), strings.Contains(m, "past"), strings.Contains(m, "before"), strings.Contains(m, "after"):
		return "validation.date_order"
	case strings.Contains(m, "names nothing"), strings.Contains(m, "unknown"), strings.Contains(m, "not found"):
		return "validation.unknown_reference"
	case strings.Contains(m, "one of"):
		return "validation.enum"
	}
	return "validation.invalid"
}

// ValidationError carries every bad field of one request. It matches
// ErrInvalid under errors.Is.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Fields collects field errors; its Err is nil while nothing was added.
type Fields []FieldError

// Add records that field is wrong.
func (f *Fields) Add(field, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	*f = append(*f, FieldError{Field: field, Message: msg, Code: FieldCode(msg)})
}

// Err returns a *ValidationError with the collected fields, or nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &ValidationError{Fields: f}
}

// Invalid returns a validation error for a single field.
func Invalid(field, format string, args ...any) error {
	var f Fields
	f.Add(field, format, args...)
	return f.Err()
}

// PermissionError says which permission a principal lacks for an object it
// can see. It matches ErrForbidden under errors.Is.
type PermissionError struct {
	Permission string // e.g. "case.change_status"
	Reason     string // human sentence, optional
}

func (e *PermissionError) Error() string {
	if e.Reason != "" {
		return "forbidden: missing permission " + e.Permission + ": " + e.Reason
	}
	return "forbidden: missing permission " + e.Permission
}

// Is makes errors.Is(err, ErrForbidden) true.
func (e *PermissionError) Is(target error) bool { return target == ErrForbidden }

// Forbidden returns a PermissionError for permission.
func Forbidden(permission, reason string) error {
	return &PermissionError{Permission: permission, Reason: reason}
}

// DetailError attaches a user-facing detail sentence to a sentinel kind.
type DetailError struct {
	Kind   error
	Detail string
	// Code names the rule that refused (case.referral_pending_screening):
	// stable, translated by clients. Empty means the kind's code.
	Code string
}

func (e *DetailError) Error() string { return e.Kind.Error() + ": " + e.Detail }

// Unwrap exposes the kind to errors.Is.
func (e *DetailError) Unwrap() error { return e.Kind }

// With returns an error of the given kind whose detail is shown to the client.
func With(kind error, format string, args ...any) error {
	return &DetailError{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// Coded returns an error of the given kind with a stable code naming the
// rule, and a detail shown to the client when it does not know the code.
func Coded(kind error, code, format string, args ...any) error {
	return &DetailError{Kind: kind, Detail: fmt.Sprintf(format, args...), Code: code}
}

// RetryError says when a refused request may succeed again: the HTTP layer
// sends it as Retry-After. It is transparent to errors.Is and errors.As.
type RetryError struct {
	Err   error
	After time.Duration
}

func (e *RetryError) Error() string { return e.Err.Error() }

// Unwrap exposes the wrapped error.
func (e *RetryError) Unwrap() error { return e.Err }

// RetryAfter wraps err with the time after which the request may succeed.
func RetryAfter(err error, after time.Duration) error {
	return &RetryError{Err: err, After: after}
}
