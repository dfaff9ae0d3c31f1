package blob

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// writeBuffer is the write size of Local.Put.
const writeBuffer = 1 << 20

// Local stores objects in a directory tree:
//
//	<root>/sha256/ab/cd/abcd…   objects, sharded by the first two bytes
//	<root>/tmp/                 uploads in progress
//
// Put writes a temporary file in <root>/tmp while hashing, fsyncs it, renames
// it to its address and fsyncs the directory, so an object at an address is
// always complete and survives a crash once Put has returned. Both
// directories are on the same file system, which makes the rename atomic.
type Local struct {
	root string
}

var _ Store = (*Local)(nil)

// NewLocal returns a store rooted at dir. It touches nothing on disk; the
// directories are made by the first Put.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("open local blob store: no directory given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open local blob store %s: %w", dir, err)
	}
	return &Local{root: abs}, nil
}

// Ping checks that the store's directory, or the nearest existing one above
// it (the store makes its directories on first use), is a directory the
// process may write to. It changes nothing on disk.
func (l *Local) Ping(context.Context) error {
	dir := l.root
	for {
		st, err := os.Stat(dir)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("open local blob store: %s is not a directory", dir)
			}
			if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
				return fmt.Errorf("open local blob store: cannot write to %s: %w", dir, err)
			}
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("open local blob store: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return fmt.Errorf("open local blob store: %w", err)
		}
		dir = parent
	}
}

// Root is the directory the store lives in.
func (l *Local) Root() string { return l.root }

func (l *Local) objects() string { return filepath.Join(l.root, "sha256") }
func (l *Local) tmp() string     { return filepath.Join(l.root, "tmp") }

// Path is the file an object is (or would be) stored in. sha must be valid.
func (l *Local) Path(sha string) string {
	return filepath.Join(l.objects(), sha[0:2], sha[2:4], sha)
}

// Put implements Store.
func (l *Local) Put(ctx context.Context, r io.Reader, limit int64) (Info, error) {
	r, err := nonEmpty(r)
	if err != nil {
		return Info{}, fmt.Errorf("put blob: %w", err)
	}
	f, err := os.CreateTemp(l.tmp(), "put-*")
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(l.tmp(), 0o750); err == nil {
			f, err = os.CreateTemp(l.tmp(), "put-*")
		}
	}
	if err != nil {
		return Info{}, fmt.Errorf("put blob: %w", err)
	}
	tmpName := f.Name()
	published := false
	defer func() {
		if !published {
			_ = f.Close()
			_ = os.Remove(tmpName)
		}
	}()

	hr := newHashingReader(ctx, r, limit)
	// Readers such as a multipart part hand out a few KiB per Read; the
	// buffer turns that into large writes.
	bw := bufio.NewWriterSize(f, writeBuffer)
	if _, err := io.Copy(bw, hr); err != nil {
		if hr.exceeded {
			return Info{}, fmt.Errorf("put blob: more than %d bytes: %w", limit, ErrTooLarge)
		}
		return Info{}, fmt.Errorf("put blob: write: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return Info{}, fmt.Errorf("put blob: write: %w", err)
	}
	if err := f.Sync(); err != nil {
		return Info{}, fmt.Errorf("put blob: sync: %w", err)
	}
	if err := f.Close(); err != nil {
		return Info{}, fmt.Errorf("put blob: close: %w", err)
	}
	sha := hr.sum()
	final := l.Path(sha)
	dir := filepath.Dir(final)
	if err := l.makeShard(dir); err != nil {
		return Info{}, fmt.Errorf("put blob %s: %w", sha, err)
	}
	// Equal content lands on the same name: the rename replaces an existing
	// object with identical bytes (and repairs one that was damaged), which
	// is what deduplication needs with no read-before-write race.
	if err := os.Rename(tmpName, final); err != nil {
		return Info{}, fmt.Errorf("put blob %s: publish: %w", sha, err)
	}
	published = true
	if err := syncDir(dir); err != nil {
		return Info{}, fmt.Errorf("put blob %s: %w", sha, err)
	}
	return Info{SHA256: sha, Size: hr.n, ModTime: time.Now()}, nil
}

// makeShard creates the shard directories of an object and makes their
// entries durable. It fsyncs the parents every time (not only when it created
// a directory itself): a concurrent Put may have created it and not yet
// synced it, and a directory fsync is cheap next to the file's.
func (l *Local) makeShard(dir string) error {
	outer := filepath.Dir(dir)
	for _, d := range []string{l.objects(), outer, dir} {
		if err := os.Mkdir(d, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create shard: %w", err)
		}
		if err := syncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir) // #nosec G304 -- a directory inside the store root, named by a hash the store computed
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	if err := d.Sync(); err != nil {
		_ = d.Close()
		return fmt.Errorf("sync directory: %w", err)
	}
	if err := d.Close(); err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}

// Open implements Store. The returned *os.File reads and seeks natively.
func (l *Local) Open(_ context.Context, sha string) (io.ReadSeekCloser, int64, error) {
	if err := checkHash("open", sha); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(l.Path(sha))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, fmt.Errorf("open blob %s: %w", sha, ErrNotFound)
		}
		return nil, 0, fmt.Errorf("open blob %s: %w", sha, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, 0, fmt.Errorf("open blob %s: %w", sha, err)
	}
	return f, st.Size(), nil
}

// Stat implements Store.
func (l *Local) Stat(_ context.Context, sha string) (Info, error) {
	if err := checkHash("stat", sha); err != nil {
		return Info{}, err
	}
	st, err := os.Stat(l.Path(sha))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Info{}, fmt.Errorf("stat blob %s: %w", sha, ErrNotFound)
		}
		return Info{}, fmt.Errorf("stat blob %s: %w", sha, err)
	}
	return Info{SHA256: sha, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Walk implements Store. Files that are not objects at their proper place
// (stray files) are skipped.
func (l *Local) Walk(ctx context.Context, fn func(Info) error) error {
	err := filepath.WalkDir(l.objects(), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == l.objects() && errors.Is(err, fs.ErrNotExist) {
				return nil // nothing stored yet
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		name := d.Name()
		if !ValidHash(name) || path != l.Path(name) {
			return nil
		}
		st, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		return fn(Info{SHA256: name, Size: st.Size(), ModTime: st.ModTime()})
	})
	if err != nil {
		return fmt.Errorf("walk blobs: %w", err)
	}
	return nil
}

// Remove implements Store.
func (l *Local) Remove(_ context.Context, sha string) error {
	if err := checkHash("remove", sha); err != nil {
		return err
	}
	p := l.Path(sha)
	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove blob %s: %w", sha, ErrNotFound)
		}
		return fmt.Errorf("remove blob %s: %w", sha, err)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("remove blob %s: %w", sha, err)
	}
	return nil
}

// CleanTemp implements Store: it removes files in <root>/tmp last written
// before the cutoff.
func (l *Local) CleanTemp(ctx context.Context, before time.Time) (int, error) {
	entries, err := os.ReadDir(l.tmp())
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("clean blob temp: %w", err)
	}
	removed := 0
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		if !strings.HasPrefix(e.Name(), "put-") {
			continue
		}
		st, err := e.Info()
		if err != nil {
			continue // gone meanwhile
		}
		if !st.ModTime().Before(before) {
			continue
		}
		if err := os.Remove(filepath.Join(l.tmp(), e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("clean blob temp: %w", err)
		}
		removed++
	}
	return removed, nil
}

// FreeBytes reports the space left to unprivileged writers on the file
// system of the store's directory (or the nearest existing one above it).
func (l *Local) FreeBytes() (uint64, error) {
	dir := l.root
	for {
		var st unix.Statfs_t
		err := unix.Statfs(dir, &st)
		if err == nil {
			return st.Bavail * uint64(st.Bsize), nil // #nosec G115 -- statfs block size is positive
		}
		parent := filepath.Dir(dir)
		if !errors.Is(err, unix.ENOENT) || parent == dir {
			return 0, fmt.Errorf("free space of %s: %w", dir, err)
		}
		dir = parent
	}
}
