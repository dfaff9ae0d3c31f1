package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/validate"
)

// The conventions of spec/API.md that the case, person, consular and
// agency handlers share: strict bodies that report every bad field, calendar
// dates, merge-patch fields, ETags with If-Match, list queries and
// Idempotency-Key.

// readJSONBody reads the whole request body (within the body limit) after
// checking its media type.
func readJSONBody(c *gin.Context) ([]byte, error) {
	ct := c.ContentType()
	if ct != "application/json" && ct != "application/merge-patch+json" {
		return nil, apperr.With(apperr.ErrUnsupportedMediaType, "Send the body as application/json.")
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return nil, apperr.With(apperr.ErrTooLarge, "The request body exceeds the limit of %d bytes.", maxErr.Limit)
		}
		if errors.Is(err, errTruncated) || errors.Is(err, errSlowBody) {
			return nil, err
		}
		return nil, apperr.Invalid("body", "could not be read")
	}
	if validate.LoneSurrogate(body) {
		return nil, apperr.Invalid("body", "holds text that is not valid: bytes that are not UTF-8, or a lone UTF-16 surrogate escape (\\uD800–\\uDFFF)")
	}
	return body, nil
}

// decodeStrict decodes a JSON object into v (a pointer to a struct whose
// fields carry json tags), field by field, so that it can report every bad
// field at once: unknown fields, values of the wrong type, nested objects
// (as "outer.inner"). v keeps the fields that did decode, for the domain
// validation that follows (see mergeInvalid).
func decodeStrict(body []byte, v any) error {
	var fs apperr.Fields
	decodeObject(body, reflect.ValueOf(v).Elem(), "", &fs)
	return fs.Err()
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func decodeObject(raw []byte, v reflect.Value, prefix string, fs *apperr.Fields) {
	where := strings.TrimSuffix(prefix, ".")
	if where == "" {
		where = "body"
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		fs.Add(where, "is empty; a JSON object is required")
		return
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &m); err != nil || trimmed[0] != '{' {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			fs.Add(where, "is not valid JSON (at byte %d)", syn.Offset)
		} else {
			fs.Add(where, "must be a JSON object")
		}
		return
	}
	known := map[string]bool{}
	// Report in the order of the struct (embedded structs flattened), then
	// unknown fields by name.
	for _, sf := range reflect.VisibleFields(v.Type()) {
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if sf.Anonymous || name == "" || name == "-" {
			continue
		}
		known[name] = true
		val, ok := m[name]
		if !ok {
			continue
		}
		f := v.FieldByIndex(sf.Index)
		ft := f.Type()
		switch {
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct &&
			!reflect.PointerTo(ft.Elem()).Implements(unmarshalerType) && ft.Elem() != reflect.TypeFor[time.Time]():
			if string(bytes.TrimSpace(val)) == "null" {
				continue
			}
			f.Set(reflect.New(ft.Elem()))
			decodeObject(val, f.Elem(), prefix+name+".", fs)
		case ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(unmarshalerType) &&
			ft != reflect.TypeFor[time.Time]():
			decodeObject(val, f, prefix+name+".", fs)
		default:
			if err := json.Unmarshal(val, f.Addr().Interface()); err != nil {
				fs.Add(prefix+name, "%s", typeMessage(err, ft))
			}
		}
	}
	var unknown []string
	for k := range m {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		fs.Add(prefix+k, "is not a known field")
	}
}

// fieldError is an error whose text is the message for the field.
type fieldError string

func (e fieldError) Error() string { return string(e) }

func typeMessage(err error, t reflect.Type) string {
	var fe fieldError
	if errors.As(err, &fe) {
		return string(fe)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if o, ok := reflect.New(t).Elem().Interface().(interface{ elemType() reflect.Type }); ok {
		t = o.elemType()
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
	}
	if d, ok := reflect.New(t).Interface().(interface{ expected() string }); ok {
		return "must be " + d.expected()
	}
	switch t.Kind() {
	case reflect.String:
		return "must be a string"
	case reflect.Bool:
		return "must be true or false"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "must be a whole number"
	case reflect.Slice:
		return "must be an array"
	}
	if t == reflect.TypeFor[time.Time]() {
		return "must be a date and time (RFC 3339, e.g. 2026-01-31T08:00:00Z)"
	}
	return "has the wrong type"
}

// mergeInvalid joins the field errors of decoding and of the domain's
// validation; a field already reported by decoding is not reported again.
func mergeInvalid(decodeErr, validateErr error) error {
	var a, b *apperr.ValidationError
	if !errors.As(decodeErr, &a) {
		return validateErr
	}
	if !errors.As(validateErr, &b) {
		return decodeErr
	}
	seen := map[string]bool{}
	fs := append(apperr.Fields{}, a.Fields...)
	for _, f := range a.Fields {
		seen[f.Field] = true
	}
	if seen["body"] {
		// Not an object at all: the fields' own checks say nothing more.
		return decodeErr
	}
	for _, f := range b.Fields {
		if !seen[f.Field] && !(f.Field == "body" && len(a.Fields) > 0) {
			fs = append(fs, f)
		}
	}
	return fs.Err()
}

// optional is a field of a merge-patch body: absent, null or a value.
type optional[T any] struct {
	Set  bool
	Null bool
	V    T
}

// UnmarshalJSON is called for present fields only.
func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(bytes.TrimSpace(b)) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.V)
}

func (optional[T]) elemType() reflect.Type { return reflect.TypeFor[T]() }

// ptr returns nil when absent, else a pointer to the value (the zero value
// for null).
func (o optional[T]) ptr() *T {
	if !o.Set {
		return nil
	}
	v := o.V
	return &v
}

// nullable returns nil when absent, a pointer to nil for null, else a
// pointer to a pointer to the value.
func (o optional[T]) nullable() **T {
	if !o.Set {
		return nil
	}
	var p *T
	if !o.Null {
		v := o.V
		p = &v
	}
	return &p
}

// notNull adds a field error when the field was sent as null.
func (o optional[T]) notNull(fs *apperr.Fields, field string) {
	if o.Set && o.Null {
		fs.Add(field, "must not be null")
	}
}

// civilDate is a calendar date, "YYYY-MM-DD" (ISO 8601).
type civilDate struct{ time.Time }

func (civilDate) expected() string { return "a date, YYYY-MM-DD" }

// UnmarshalJSON reads "YYYY-MM-DD".
func (d *civilDate) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fieldError("must be a date, YYYY-MM-DD")
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return fieldError("must be a date, YYYY-MM-DD")
	}
	if msg := validate.Date(t); msg != "" {
		return fieldError(msg)
	}
	d.Time = t
	return nil
}

// timeOf returns the date as a time at midnight UTC, or nil.
func (d *civilDate) timeOf() *time.Time {
	if d == nil {
		return nil
	}
	t := d.Time
	return &t
}

// dateString formats a calendar date for a response.
func dateString(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.Format(time.DateOnly)
	return &s
}

// utc formats an optional instant in UTC.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// timestamp reads an RFC 3339 instant from JSON with a clear message.
type timestamp struct{ time.Time }

func (timestamp) expected() string { return "a date and time (RFC 3339, e.g. 2026-01-31T08:00:00Z)" }

// UnmarshalJSON reads an RFC 3339 time.
func (t *timestamp) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fieldError("must be a date and time (RFC 3339, e.g. 2026-01-31T08:00:00Z)")
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fieldError("must be a date and time (RFC 3339, e.g. 2026-01-31T08:00:00Z)")
	}
	if msg := validate.Date(v.UTC()); msg != "" {
		return fieldError(msg)
	}
	t.Time = v
	return nil
}

func (t *timestamp) timeOf() *time.Time {
	if t == nil {
		return nil
	}
	v := t.Time
	return &v
}

// versionETag is the ETag of a versioned object: strong, the object's id
// and version ("<id>-<version>"), so an ETag of one object never passes for
// another's.
func versionETag(id uuid.UUID, version int) string {
	return `"` + id.String() + "-" + strconv.Itoa(version) + `"`
}

// anyVersion is the version ifMatchVersion answers for "If-Match: *": the
// services' Update write whatever version is current (versions start at 1).
const anyVersion = 0

// ifMatchVersion reads If-Match for object id: missing is 428, an ETag of
// another object or of an older version is 412 (the service compares the
// version). "*" matches any current representation (RFC 9110 §13.1.1): it
// answers anyVersion, the write proceeds, and an object that does not exist
// is a 404 as usual.
func ifMatchVersion(c *gin.Context, id uuid.UUID) (int, error) {
	h := strings.TrimSpace(c.GetHeader("If-Match"))
	if h == "" {
		return 0, apperr.With(apperr.ErrPreconditionRequired,
			"Send If-Match with the ETag of your last read of this object.")
	}
	if h == "*" {
		return anyVersion, nil
	}
	// Of several ETags of this object, the newest is the one that can
	// still match.
	prefix := id.String() + "-"
	best := 0
	for tag := range strings.SplitSeq(h, ",") {
		tag = strings.TrimSpace(tag)
		if strings.HasPrefix(tag, "W/") || len(tag) < 2 || tag[0] != '"' || tag[len(tag)-1] != '"' {
			continue
		}
		tag = tag[1 : len(tag)-1]
		if v, ok := strings.CutPrefix(tag, prefix); ok {
			if n, err := strconv.Atoi(v); err == nil && n > best {
				best = n
			}
		}
	}
	if best > 0 {
		return best, nil
	}
	return 0, apperr.With(apperr.ErrPreconditionFailed,
		"If-Match does not name a version of this object; read it again and send its ETag.")
}

// optionalIfMatch is ifMatchVersion for actions where If-Match may be left
// out (status change, screening): nil (no condition) when absent or "*".
func optionalIfMatch(c *gin.Context, id uuid.UUID) (*int, error) {
	if h := strings.TrimSpace(c.GetHeader("If-Match")); h == "" || h == "*" {
		return nil, nil
	}
	v, err := ifMatchVersion(c, id)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// paramUUID reads a UUID path parameter; anything else names no object.
func paramUUID(c *gin.Context, name string) (uuid.UUID, bool) {
	id, err := uuid.Parse(c.Param(name))
	if err != nil {
		Fail(c, apperr.With(apperr.ErrNotFound, "No such resource."))
		return uuid.Nil, false
	}
	return id, true
}

// listQuery reads the query parameters every list takes (limit, cursor)
// and refuses unknown ones, collecting every bad parameter.
type listQuery struct {
	c      *gin.Context
	fields apperr.Fields
	Limit  int
	Cursor string
}

func newListQuery(c *gin.Context, allowed ...string) *listQuery {
	q := &listQuery{c: c, Cursor: c.Query("cursor")}
	allowed = append(allowed, "limit", "cursor", "format")
	if f := c.Query("format"); f != "" && f != "json" && f != "csv" {
		q.fields.Add("format", "must be json or csv")
	}
	for k := range c.Request.URL.Query() {
		known := false
		for _, a := range allowed {
			known = known || a == k
		}
		if !known {
			q.fields.Add(k, "is not a known query parameter")
		}
	}
	q.Limit = parseLimit(c, &q.fields)
	return q
}

// values returns a parameter given once or more, or comma-separated.
func (q *listQuery) values(name string) []string {
	var out []string
	for _, v := range q.c.QueryArray(name) {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func (q *listQuery) date(name string) *time.Time {
	v := q.c.Query(name)
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		q.fields.Add(name, "must be a date, YYYY-MM-DD")
		return nil
	}
	return &t
}

func (q *listQuery) instant(name string) *time.Time {
	v := q.c.Query(name)
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		q.fields.Add(name, "must be a date and time (RFC 3339)")
		return nil
	}
	return &t
}

// err merges the query's own errors with the service's validation.
func (q *listQuery) err(serviceErr error) error {
	return mergeInvalid(q.fields.Err(), serviceErr)
}

// pageResponse is every list's envelope.
type pageResponse[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func newPage[T any](items []T, next string) pageResponse[T] {
	p := pageResponse[T]{Items: items}
	if p.Items == nil {
		p.Items = []T{}
	}
	if next != "" {
		p.NextCursor = &next
	}
	return p
}

// result is what a write handler answers: status, headers, body.
type result struct {
	status   int
	location string
	etag     string
	body     any
}

func (r result) write(c *gin.Context) {
	if r.location != "" {
		c.Header("Location", r.location)
	}
	if r.etag != "" {
		c.Header("ETag", r.etag)
	}
	c.Header("Cache-Control", "no-store")
	if r.body == nil {
		c.Status(r.status)
		return
	}
	c.JSON(r.status, r.body)
}

// Idempotency-Key (spec/API.md, "Idempotent retries").
//
// A POST may carry Idempotency-Key: 1 to 200 visible ASCII characters. The
// first request with a key runs in one transaction with the storing of its
// response (status, Location, ETag, body) under (agency, user, key), so
// either both happen or neither. A retry with the same key and the same
// request (method, path and body, by SHA-256) within 24 hours gets the
// stored response again, with Idempotent-Replayed: true, and changes
// nothing; the same key with a different request is refused (422). Only
// successful responses are stored: a refused request may be retried with
// the same key. Concurrent requests with one key wait for each other.
const (
	idempotencyHeader = "Idempotency-Key"
	idempotencyTTL    = 24 * time.Hour
)

func validIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > 200 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// idempotent runs a write handler's work with Idempotency-Key support. run
// gets the request body and returns what to answer; it must do its database
// work through store.WithTx on the ctx it is given.
func idempotent(c *gin.Context, run func(ctx context.Context, body []byte) (result, error)) {
	body, err := readJSONBody(c)
	if err != nil {
		Fail(c, err)
		return
	}
	key := c.GetHeader(idempotencyHeader)
	if key == "" {
		res, err := run(c.Request.Context(), body)
		if err != nil {
			Fail(c, err)
			return
		}
		res.write(c)
		return
	}
	if !validIdempotencyKey(key) {
		Fail(c, apperr.Invalid(idempotencyHeader, "must be 1 to 200 visible ASCII characters"))
		return
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", c.Request.Method, c.Request.URL.Path)
	h.Write(body)
	hash := h.Sum(nil)
	var res result
	var out []byte
	replayed := false
	err = store.WithTx(c.Request.Context(), func(ctx context.Context) error {
		db := store.DB(ctx)
		if err := db.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(
				'casebridge.idempotency:' || cb_agency_id() || ':' || COALESCE(cb_user_id()::text, '') || ':' || ?, 0))`,
			key).Error; err != nil {
			return fmt.Errorf("lock idempotency key: %w", err)
		}
		var stored []struct {
			RequestHash []byte    `gorm:"column:request_hash"`
			Status      int       `gorm:"column:status"`
			Location    string    `gorm:"column:location"`
			ETag        string    `gorm:"column:etag"`
			Body        []byte    `gorm:"column:body"`
			CreatedAt   time.Time `gorm:"column:created_at"`
		}
		if err := db.Raw(`SELECT request_hash, status, location, etag, body, created_at FROM idempotency_keys
				WHERE key = ?`, key).Scan(&stored).Error; err != nil {
			return fmt.Errorf("load idempotency key: %w", err)
		}
		if len(stored) > 0 && time.Since(stored[0].CreatedAt) < idempotencyTTL {
			s := stored[0]
			if !bytes.Equal(s.RequestHash, hash) {
				return apperr.With(apperr.ErrUnprocessable,
					"This Idempotency-Key was used for a different request; use a new key for a new request.")
			}
			res = result{status: s.Status, location: s.Location, etag: s.ETag}
			out, replayed = s.Body, true
			return nil
		}
		if len(stored) > 0 {
			if err := db.Exec(`DELETE FROM idempotency_keys WHERE key = ?`, key).Error; err != nil {
				return fmt.Errorf("expire idempotency key: %w", err)
			}
		}
		var err error
		if res, err = run(ctx, body); err != nil {
			return err
		}
		out = []byte{}
		if res.body != nil {
			if out, err = json.Marshal(res.body); err != nil {
				return fmt.Errorf("encode response: %w", err)
			}
		}
		err = db.Exec(`INSERT INTO idempotency_keys (agency_id, user_id, key, request_hash, status, location, etag, body)
			VALUES (cb_agency_id(), COALESCE(cb_user_id(), '00000000-0000-0000-0000-000000000000'), ?, ?, ?, ?, ?, ?)`,
			key, hash, res.status, res.location, res.etag, out).Error
		if err != nil {
			return fmt.Errorf("store idempotent response: %w", err)
		}
		return nil
	})
	if err != nil {
		Fail(c, err)
		return
	}
	if res.location != "" {
		c.Header("Location", res.location)
	}
	if res.etag != "" {
		c.Header("ETag", res.etag)
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.Header("Cache-Control", "no-store")
	if len(out) == 0 {
		c.Status(res.status)
		return
	}
	c.Data(res.status, "application/json; charset=utf-8", out)
}
