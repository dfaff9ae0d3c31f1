package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/documents"
	"github.com/casebridge/casebridge/internal/store"
)

// Uploads honour Idempotency-Key like every other POST (see idempotent),
// with one difference: the body streams into the document store, so the
// request is identified by its method, path, metadata part, the SHA-256 of
// the file's bytes and its file name, known only once the bytes are
// durable. The key is locked, looked up and stored inside the transaction
// that commits the document (documents.CommitHook): a retry after a crash
// or a lost answer finds either nothing (the first never committed) or the
// first result, which it gets again with Idempotent-Replayed: true and no
// second document; a different upload under the same key is a 422.

const uploadMetadataKey = "cb.upload.metadata"

// errReplayed aborts the commit of an upload whose key already holds a
// response; the handler then answers with that response.
var errReplayed = errors.New("idempotent upload replayed")

type uploadIdempotency struct {
	c        *gin.Context
	key      string
	hash     []byte
	build    func(documents.Document) result
	replay   result
	replayed []byte
}

// withUploadKey returns the context for the upload: with the commit hook
// when the request carries an Idempotency-Key. ok is false when the key
// is malformed (the answer is written).
func withUploadKey(c *gin.Context, build func(documents.Document) result) (context.Context, *uploadIdempotency, bool) {
	key := c.GetHeader(idempotencyHeader)
	if key == "" {
		return c.Request.Context(), nil, true
	}
	if !validIdempotencyKey(key) {
		Fail(c, apperr.Invalid(idempotencyHeader, "must be 1 to 200 visible ASCII characters"))
		return nil, nil, false
	}
	u := &uploadIdempotency{c: c, key: key, build: build}
	return documents.WithCommitHook(c.Request.Context(), u), u, true
}

func (u *uploadIdempotency) Before(ctx context.Context, fileSHA256, filename string) error {
	h := sha256.New()
	meta, _ := u.c.Get(uploadMetadataKey)
	metaBytes, _ := meta.([]byte)
	fmt.Fprintf(h, "%s\n%s\nupload\n%s\n%q\n", u.c.Request.Method, u.c.Request.URL.Path, fileSHA256, filename)
	h.Write(metaBytes)
	u.hash = h.Sum(nil)
	db := store.DB(ctx)
	if err := db.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(
			'casebridge.idempotency:' || cb_agency_id() || ':' || COALESCE(cb_user_id()::text, '') || ':' || ?, 0))`,
		u.key).Error; err != nil {
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
			WHERE key = ?`, u.key).Scan(&stored).Error; err != nil {
		return fmt.Errorf("load idempotency key: %w", err)
	}
	if len(stored) == 0 {
		return nil
	}
	s := stored[0]
	if time.Since(s.CreatedAt) >= idempotencyTTL {
		if err := db.Exec(`DELETE FROM idempotency_keys WHERE key = ?`, u.key).Error; err != nil {
			return fmt.Errorf("expire idempotency key: %w", err)
		}
		return nil
	}
	if !bytes.Equal(s.RequestHash, u.hash) {
		return apperr.With(apperr.ErrUnprocessable,
			"This Idempotency-Key was used for a different request; use a new key for a new request.")
	}
	u.replay = result{status: s.Status, location: s.Location, etag: s.ETag}
	u.replayed = s.Body
	return errReplayed
}

func (u *uploadIdempotency) After(ctx context.Context, doc documents.Document) error {
	res := u.build(doc)
	out, err := json.Marshal(res.body)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	err = store.DB(ctx).Exec(`INSERT INTO idempotency_keys (agency_id, user_id, key, request_hash, status, location, etag, body)
		VALUES (cb_agency_id(), COALESCE(cb_user_id(), '00000000-0000-0000-0000-000000000000'), ?, ?, ?, ?, ?, ?)`,
		u.key, u.hash, res.status, res.location, res.etag, out).Error
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	return nil
}

// answer writes the upload's outcome: the stored response of a replay, the
// new result, or the error.
func answerUpload(c *gin.Context, u *uploadIdempotency, doc documents.Document, err error, build func(documents.Document) result) {
	if err != nil && u != nil && errors.Is(err, errReplayed) {
		if u.replay.location != "" {
			c.Header("Location", u.replay.location)
		}
		if u.replay.etag != "" {
			c.Header("ETag", u.replay.etag)
		}
		c.Header("Idempotent-Replayed", "true")
		c.Header("Cache-Control", "no-store")
		c.Data(u.replay.status, "application/json; charset=utf-8", u.replayed)
		return
	}
	if err != nil {
		Fail(c, err)
		return
	}
	build(doc).write(c)
}
