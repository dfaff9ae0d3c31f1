// Package blob stores document bytes by content address (SHA-256).
//
// A Store holds immutable objects named by the lowercase hex SHA-256 of their
// bytes. Put streams its input to the backend while hashing it and publishes
// the object at its content address only once the bytes are complete and
// durable, so a reader never sees a partial object at an address; equal
// content is kept once. Two backends implement Store: Local (a directory
// tree, the default) and S3 (any S3-compatible object store).
//
// The application never deletes stored bytes: Remove exists for the sweeper,
// which removes objects that no document version refers to once they are
// older than a grace period (an upload that crashed between storing its
// bytes and committing its row leaves such an object behind).
package blob

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"
)

// Sentinel errors. Backends wrap them with the operation and the hash.
var (
	// ErrNotFound: no object is stored under the hash.
	ErrNotFound = errors.New("blob not found")
	// ErrTooLarge: Put read more bytes than its limit; nothing was kept.
	ErrTooLarge = errors.New("blob too large")
	// ErrEmpty: Put read no bytes at all; nothing was kept.
	ErrEmpty = errors.New("blob empty")
	// ErrInvalidHash: the name is not a lowercase hex SHA-256.
	ErrInvalidHash = errors.New("invalid blob hash")
	// ErrCorrupt: the stored bytes do not hash to their address.
	ErrCorrupt = errors.New("blob corrupt")
)

// Info describes a stored object.
type Info struct {
	SHA256 string // lowercase hex
	Size   int64
	// ModTime is when the object was last written to its address (Put
	// refreshes it on the local backend). The sweeper uses it for its grace
	// period. Zero when the backend does not report it.
	ModTime time.Time
}

// Store is content-addressed storage of immutable byte objects.
type Store interface {
	// Put reads r to EOF, stores the bytes under their SHA-256 and returns
	// the address and size. It reads at most limit+1 bytes: ErrTooLarge as
	// soon as more than limit bytes arrived, ErrEmpty for no bytes; in both
	// cases and on any other error nothing is left at a content address
	// (temporary data is removed at once or, after a crash, by CleanTemp).
	// When Put returns nil the object is durable.
	Put(ctx context.Context, r io.Reader, limit int64) (Info, error)
	// Open returns a reader of the object's bytes that supports seeking
	// (range reads) and its size. The caller closes it.
	Open(ctx context.Context, sha string) (io.ReadSeekCloser, int64, error)
	// Stat reports the object's size and modification time, or ErrNotFound.
	Stat(ctx context.Context, sha string) (Info, error)
	// Walk calls fn for every stored object, in no particular order. An
	// error from fn stops the walk and is returned.
	Walk(ctx context.Context, fn func(Info) error) error
	// Remove deletes the object. Only the sweeper calls it, for objects no
	// document version refers to. Removing a missing object is ErrNotFound.
	Remove(ctx context.Context, sha string) error
	// CleanTemp removes temporary data of uploads (temporary files, keys and
	// unfinished multipart uploads) last written before the cutoff, and
	// returns how many items it removed. Give it a cutoff well in the past
	// (a grace period longer than any upload) so it never cuts a live upload.
	CleanTemp(ctx context.Context, before time.Time) (int, error)
	// Ping checks that the store is usable (creating a local store's
	// directories); the program calls it at start-up.
	Ping(ctx context.Context) error
}

// ValidHash reports whether s is a lowercase hex SHA-256.
func ValidHash(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func checkHash(op, sha string) error {
	if !ValidHash(sha) {
		return fmt.Errorf("%s blob %.80q: %w", op, sha, ErrInvalidHash)
	}
	return nil
}

// hashingReader hashes what it reads, counts it and fails with ErrTooLarge
// once more than limit bytes went through. It also stops when ctx ends, so a
// cancelled request does not keep feeding a backend.
type hashingReader struct {
	ctx      context.Context
	r        io.Reader
	h        hash.Hash
	n        int64
	limit    int64
	exceeded bool
}

func newHashingReader(ctx context.Context, r io.Reader, limit int64) *hashingReader {
	// Read at most limit+1 bytes: one byte past the limit is proof enough.
	return &hashingReader{ctx: ctx, r: io.LimitReader(r, limit+1), h: sha256.New(), limit: limit}
}

func (hr *hashingReader) Read(p []byte) (int, error) {
	if hr.exceeded {
		return 0, ErrTooLarge
	}
	if err := hr.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := hr.r.Read(p)
	if hr.n+int64(n) > hr.limit {
		// Hand nothing of the excess on: the caller must not store it.
		n = int(hr.limit - hr.n)
		hr.exceeded = true
		err = ErrTooLarge
	}
	hr.h.Write(p[:n])
	hr.n += int64(n)
	return n, err
}

func (hr *hashingReader) sum() string { return hex.EncodeToString(hr.h.Sum(nil)) }

// nonEmpty returns a reader equivalent to r, or ErrEmpty when r has no bytes
// at all, so that no backend is touched for an empty upload.
func nonEmpty(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 512)
	if _, err := br.Peek(1); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ErrEmpty
		}
		return nil, err
	}
	return br, nil
}

// Check re-reads the object stored under sha and returns an error wrapping
// ErrNotFound when it is missing and ErrCorrupt when its bytes do not hash to
// sha (or, when wantSize >= 0, have another size).
func Check(ctx context.Context, s Store, sha string, wantSize int64) error {
	rc, size, err := s.Open(ctx, sha)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return fmt.Errorf("check blob %s: read: %w", sha, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	switch {
	case got != sha:
		return fmt.Errorf("check blob %s: bytes hash to %s: %w", sha, got, ErrCorrupt)
	case n != size:
		return fmt.Errorf("check blob %s: read %d bytes of %d: %w", sha, n, size, ErrCorrupt)
	case wantSize >= 0 && n != wantSize:
		return fmt.Errorf("check blob %s: size %d, expected %d: %w", sha, n, wantSize, ErrCorrupt)
	}
	return nil
}

// Problem is an object that failed verification.
type Problem struct {
	SHA256 string
	Err    error // wraps ErrCorrupt or ErrNotFound
}

// Verify re-hashes every stored object and calls report for each one whose
// bytes do not match its address. It returns how many objects it checked; an
// error means the walk itself failed (storage unreachable), not that an
// object is bad.
func Verify(ctx context.Context, s Store, report func(Problem)) (int, error) {
	checked := 0
	err := s.Walk(ctx, func(inf Info) error {
		checked++
		err := Check(ctx, s, inf.SHA256, -1)
		switch {
		case err == nil:
		case errors.Is(err, ErrCorrupt), errors.Is(err, ErrNotFound):
			// Not found: removed between the listing and the read.
			report(Problem{SHA256: inf.SHA256, Err: err})
		default:
			return err
		}
		return nil
	})
	if err != nil {
		return checked, fmt.Errorf("verify blobs: %w", err)
	}
	return checked, nil
}
