package blob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fixture is one fresh store plus the ways a test reaches behind it.
type fixture struct {
	store blob.Store
	// file is where the backend keeps an object's bytes on disk.
	file func(sha string) string
	// leftovers lists temporary data (files, keys, unfinished uploads).
	leftovers func() []string
	// crashedUpload leaves temporary data as a killed upload would.
	crashedUpload func()
}

type backend struct {
	name string
	new  func(t *testing.T) fixture
}

var backends = []backend{
	{"local", newLocal},
	{"s3", newS3},
}

func newLocal(t *testing.T) fixture {
	dir := t.TempDir()
	l, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	return fixture{
		store: l,
		file:  l.Path,
		leftovers: func() []string {
			entries, err := os.ReadDir(filepath.Join(dir, "tmp"))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			return names
		},
		crashedUpload: func() {
			if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o750); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, "tmp", "put-crashed")
			if err := os.WriteFile(p, []byte("half an upload"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
	}
}

func newS3(t *testing.T) fixture {
	cfg := testenv.S3(t)
	cfg.PartSize = 5 << 20 // small parts: multipart uploads from 5 MiB on
	st, err := blob.NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	c := st.Client()
	bucket := aws.String(cfg.Bucket)
	return fixture{
		store: st,
		file: func(sha string) string {
			return filepath.Join(testenv.S3Dir(t, cfg), "sha256", sha)
		},
		leftovers: func() []string {
			var names []string
			objs, err := c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("tmp/")})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs.Contents {
				names = append(names, "object "+aws.ToString(o.Key))
			}
			ups, err := c.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: bucket})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range ups.Uploads {
				names = append(names, "upload "+aws.ToString(u.Key))
			}
			return names
		},
		crashedUpload: func() {
			ctx := t.Context()
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("tmp/crashed"), Body: bytes.NewReader([]byte("half"))}); err != nil {
				t.Fatal(err)
			}
			mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String("tmp/crashed-multipart")})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.UploadPart(ctx, &s3.UploadPartInput{
				Bucket: bucket, Key: aws.String("tmp/crashed-multipart"), UploadId: mp.UploadId,
				PartNumber: aws.Int32(1), Body: bytes.NewReader(make([]byte, 5<<20)),
			}); err != nil {
				t.Fatal(err)
			}
		},
	}
}

// forEachBackend runs test against a fresh store of every backend.
func forEachBackend(t *testing.T, test func(t *testing.T, f fixture)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, b.new(t))
		})
	}
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func readAll(t *testing.T, st blob.Store, sha string) []byte {
	t.Helper()
	rc, size, err := st.Open(t.Context(), sha)
	if err != nil {
		t.Fatalf("open %s: %v", sha, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", sha, err)
	}
	if int64(len(b)) != size {
		t.Fatalf("read %d bytes, Open said %d", len(b), size)
	}
	return b
}

func list(t *testing.T, st blob.Store) []blob.Info {
	t.Helper()
	var all []blob.Info
	if err := st.Walk(t.Context(), func(i blob.Info) error { all = append(all, i); return nil }); err != nil {
		t.Fatal(err)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].SHA256 < all[j].SHA256 })
	return all
}

func TestPutOpenRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		sizes := []int{1, 4096, 5<<20 - 1, 5 << 20, 12<<20 + 7} // single part, exactly one part, multipart
		want := map[string]int{}
		for i, n := range sizes {
			data := randomBytes(uint64(i+1), n)
			inf, err := f.store.Put(t.Context(), bytes.NewReader(data), 64<<20)
			if err != nil {
				t.Fatalf("put %d bytes: %v", n, err)
			}
			if inf.SHA256 != hashOf(data) || inf.Size != int64(n) {
				t.Fatalf("put %d bytes: got %s/%d, want %s/%d", n, inf.SHA256, inf.Size, hashOf(data), n)
			}
			if got := readAll(t, f.store, inf.SHA256); !bytes.Equal(got, data) {
				t.Fatalf("%d bytes: read back differs", n)
			}
			st, err := f.store.Stat(t.Context(), inf.SHA256)
			if err != nil || st.Size != int64(n) || st.ModTime.IsZero() {
				t.Fatalf("stat: %+v, %v", st, err)
			}
			// The object is where the layout says, with the same bytes.
			onDisk, err := os.ReadFile(f.file(inf.SHA256))
			if err != nil || !bytes.Equal(onDisk, data) {
				t.Fatalf("object file %s: %v (equal %v)", f.file(inf.SHA256), err, bytes.Equal(onDisk, data))
			}
			want[inf.SHA256] = n
		}
		got := list(t, f.store)
		if len(got) != len(want) {
			t.Fatalf("walk lists %d objects, want %d", len(got), len(want))
		}
		for _, i := range got {
			if want[i.SHA256] != int(i.Size) {
				t.Fatalf("walk: %s size %d, want %d", i.SHA256, i.Size, want[i.SHA256])
			}
		}
		if left := f.leftovers(); len(left) != 0 {
			t.Fatalf("temporary data left behind: %v", left)
		}
	})
}

func TestRangeReads(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		data := randomBytes(7, 3<<20+123)
		inf, err := f.store.Put(t.Context(), bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		rc, size, err := f.store.Open(t.Context(), inf.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if size != int64(len(data)) {
			t.Fatalf("size %d", size)
		}
		// The pattern of http.ServeContent: size from SeekEnd, then ranges.
		if end, err := rc.Seek(0, io.SeekEnd); err != nil || end != size {
			t.Fatalf("seek end: %d, %v", end, err)
		}
		ranges := [][2]int64{{0, 10}, {size - 5, 5}, {1 << 20, 100000}, {17, 1}, {0, size}, {size - 1, 1}}
		for _, r := range ranges {
			if _, err := rc.Seek(r[0], io.SeekStart); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, r[1])
			if _, err := io.ReadFull(rc, buf); err != nil {
				t.Fatalf("range %v: %v", r, err)
			}
			if !bytes.Equal(buf, data[r[0]:r[0]+r[1]]) {
				t.Fatalf("range %v: wrong bytes", r)
			}
		}
		// Relative seek after a partial read, then read to EOF.
		if _, err := rc.Seek(100, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(rc, make([]byte, 50)); err != nil {
			t.Fatal(err)
		}
		pos, err := rc.Seek(-30, io.SeekCurrent)
		if err != nil || pos != 120 {
			t.Fatalf("seek current: %d, %v", pos, err)
		}
		rest, err := io.ReadAll(rc)
		if err != nil || !bytes.Equal(rest, data[120:]) {
			t.Fatalf("read rest: %v, equal %v", err, bytes.Equal(rest, data[120:]))
		}
		if n, err := rc.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
			t.Fatalf("read at end: %d, %v", n, err)
		}
	})
}

func TestDeduplicates(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		data := randomBytes(3, 6<<20)
		first, err := f.store.Put(t.Context(), bytes.NewReader(data), 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		// Concurrent and sequential Puts of the same bytes: one object.
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Go(func() {
				inf, err := f.store.Put(t.Context(), bytes.NewReader(data), 1<<30)
				if err == nil && inf.SHA256 != first.SHA256 {
					err = errors.New("different address for equal bytes: " + inf.SHA256)
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		other, err := f.store.Put(t.Context(), bytes.NewReader([]byte("other content")), 100)
		if err != nil {
			t.Fatal(err)
		}
		got := list(t, f.store)
		if len(got) != 2 {
			t.Fatalf("walk lists %d objects, want 2: %+v", len(got), got)
		}
		for _, g := range got {
			if g.SHA256 != first.SHA256 && g.SHA256 != other.SHA256 {
				t.Fatalf("unexpected object %s", g.SHA256)
			}
		}
		if !bytes.Equal(readAll(t, f.store, first.SHA256), data) {
			t.Fatal("deduplicated object reads back wrong")
		}
		if left := f.leftovers(); len(left) != 0 {
			t.Fatalf("temporary data left behind: %v", left)
		}
	})
}

func TestLimits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		for _, n := range []int{1000, 12 << 20} { // single part; multipart started then aborted
			data := randomBytes(uint64(n), n)
			counted := &countingReader{r: bytes.NewReader(data)}
			_, err := f.store.Put(ctx, counted, int64(n-1))
			if !errors.Is(err, blob.ErrTooLarge) {
				t.Fatalf("%d bytes with limit %d: %v, want ErrTooLarge", n, n-1, err)
			}
			if counted.n > int64(n) {
				t.Fatalf("read %d bytes", counted.n)
			}
			if _, err := f.store.Stat(ctx, hashOf(data)); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("too large object is stored: %v", err)
			}
			if _, err := f.store.Stat(ctx, hashOf(data[:n-1])); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("truncated object is stored: %v", err)
			}
			// Exactly at the limit is fine.
			if _, err := f.store.Put(ctx, bytes.NewReader(data), int64(n)); err != nil {
				t.Fatalf("%d bytes at limit %d: %v", n, n, err)
			}
		}
		// The limit stops reading early: a 1 GiB stream with a 1 MiB limit
		// is cut after a little more than 1 MiB, not read to the end.
		endless := &countingReader{r: io.LimitReader(zeroReader{}, 1<<30)}
		if _, err := f.store.Put(ctx, endless, 1<<20); !errors.Is(err, blob.ErrTooLarge) {
			t.Fatalf("endless: %v", err)
		}
		if endless.n > 1<<20+64<<10 {
			t.Fatalf("read %d bytes of an oversized stream with a 1 MiB limit", endless.n)
		}
		if _, err := f.store.Put(ctx, bytes.NewReader(nil), 100); !errors.Is(err, blob.ErrEmpty) {
			t.Fatalf("empty: %v, want ErrEmpty", err)
		}
		if got := list(t, f.store); len(got) != 2 {
			t.Fatalf("walk lists %d objects, want the 2 at-limit ones", len(got))
		}
		if left := f.leftovers(); len(left) != 0 {
			t.Fatalf("temporary data left behind: %v", left)
		}
	})
}

func TestFailingReaderKeepsNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		boom := errors.New("client went away")
		for _, n := range []int{100, 11 << 20} {
			r := io.MultiReader(bytes.NewReader(randomBytes(9, n)), errReader{boom})
			if _, err := f.store.Put(t.Context(), r, 1<<30); !errors.Is(err, boom) {
				t.Fatalf("put from failing reader: %v", err)
			}
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := f.store.Put(ctx, bytes.NewReader([]byte("x")), 10); !errors.Is(err, context.Canceled) {
			t.Fatalf("put with cancelled context: %v", err)
		}
		if got := list(t, f.store); len(got) != 0 {
			t.Fatalf("objects stored from failed puts: %+v", got)
		}
		if left := f.leftovers(); len(left) != 0 {
			t.Fatalf("temporary data left behind: %v", left)
		}
	})
}

func TestNotFoundAndInvalid(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		missing := hashOf([]byte("never stored"))
		if _, _, err := f.store.Open(ctx, missing); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("open missing: %v", err)
		}
		if _, err := f.store.Stat(ctx, missing); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("stat missing: %v", err)
		}
		if err := f.store.Remove(ctx, missing); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("remove missing: %v", err)
		}
		for _, bad := range []string{"", "../../etc/passwd", missing[:63], missing + "0", "A" + missing[1:], "../" + missing[3:]} {
			if _, _, err := f.store.Open(ctx, bad); !errors.Is(err, blob.ErrInvalidHash) {
				t.Fatalf("open %q: %v", bad, err)
			}
			if err := f.store.Remove(ctx, bad); !errors.Is(err, blob.ErrInvalidHash) {
				t.Fatalf("remove %q: %v", bad, err)
			}
		}
	})
}

func TestRemove(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		a, err := f.store.Put(ctx, bytes.NewReader([]byte("a")), 10)
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.store.Put(ctx, bytes.NewReader([]byte("b")), 10)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.store.Remove(ctx, a.SHA256); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.Stat(ctx, a.SHA256); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("removed object: %v", err)
		}
		if got := list(t, f.store); len(got) != 1 || got[0].SHA256 != b.SHA256 {
			t.Fatalf("after remove: %+v", got)
		}
	})
}

func TestCleanTemp(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		kept, err := f.store.Put(ctx, bytes.NewReader([]byte("kept")), 10)
		if err != nil {
			t.Fatal(err)
		}
		f.crashedUpload()
		if len(f.leftovers()) == 0 {
			t.Fatal("the simulated crash left nothing")
		}
		// Within the grace period nothing is cleaned.
		n, err := f.store.CleanTemp(ctx, time.Now().Add(-time.Hour))
		if err != nil || n != 0 {
			t.Fatalf("clean within grace: %d, %v", n, err)
		}
		if len(f.leftovers()) == 0 {
			t.Fatal("clean within grace removed temporary data")
		}
		n, err = f.store.CleanTemp(ctx, time.Now().Add(time.Minute))
		if err != nil || n == 0 {
			t.Fatalf("clean after grace: %d, %v", n, err)
		}
		if left := f.leftovers(); len(left) != 0 {
			t.Fatalf("left after clean: %v", left)
		}
		if _, err := f.store.Stat(ctx, kept.SHA256); err != nil {
			t.Fatalf("clean removed a stored object: %v", err)
		}
	})
}

func TestVerify(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		var infos []blob.Info
		for i := range 3 {
			inf, err := f.store.Put(ctx, bytes.NewReader(randomBytes(uint64(100+i), 2000)), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			infos = append(infos, inf)
		}
		var problems []blob.Problem
		n, err := blob.Verify(ctx, f.store, func(p blob.Problem) { problems = append(problems, p) })
		if err != nil || n != 3 || len(problems) != 0 {
			t.Fatalf("clean store: checked %d, %v, problems %+v", n, err, problems)
		}
		// Flip one byte in place, behind the store's back.
		bad := infos[1].SHA256
		path := f.file(bad)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data[1000] ^= 0xff
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		n, err = blob.Verify(ctx, f.store, func(p blob.Problem) { problems = append(problems, p) })
		if err != nil || n != 3 {
			t.Fatalf("checked %d, %v", n, err)
		}
		if len(problems) != 1 || problems[0].SHA256 != bad || !errors.Is(problems[0].Err, blob.ErrCorrupt) {
			t.Fatalf("problems %+v, want %s corrupt", problems, bad)
		}
		// Delete one: Check reports it missing.
		gone := infos[2].SHA256
		if err := os.Remove(f.file(gone)); err != nil {
			t.Fatal(err)
		}
		if err := blob.Check(ctx, f.store, gone, 2000); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("check deleted: %v", err)
		}
		if err := blob.Check(ctx, f.store, infos[0].SHA256, 2000); err != nil {
			t.Fatalf("check good: %v", err)
		}
		if err := blob.Check(ctx, f.store, infos[0].SHA256, 2001); !errors.Is(err, blob.ErrCorrupt) {
			t.Fatalf("check with wrong expected size: %v", err)
		}
	})
}

// A local store makes its directories on first use, so building one (as
// the program does at start) writes nothing.
func TestLocalLazyDirectories(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blobs")
	l, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Ping(t.Context()); err != nil {
		t.Fatalf("ping a store whose directory is still to be made: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("NewLocal or Ping created %s: %v", dir, err)
	}
	if got := list(t, l); len(got) != 0 {
		t.Fatalf("fresh store lists %v", got)
	}
	if n, err := l.CleanTemp(t.Context(), time.Now()); n != 0 || err != nil {
		t.Fatalf("clean fresh store: %d, %v", n, err)
	}
	inf, err := l.Put(t.Context(), bytes.NewReader([]byte("first")), 10)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readAll(t, l, inf.SHA256), []byte("first")) {
		t.Fatal("read back differs")
	}
	// A store under a file, or where the process may not write, fails Ping.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	under, _ := blob.NewLocal(filepath.Join(file, "blobs"))
	if err := under.Ping(t.Context()); err == nil {
		t.Fatal("ping of a store under a regular file succeeded")
	}
}

// TestS3MultipartCopy covers the copy in parts used above 5 GiB, with the
// limits lowered.
func TestS3MultipartCopy(t *testing.T) {
	cfg := testenv.S3(t)
	st, err := blob.NewS3(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	blob.SetCopyLimits(st, 5<<20, 5<<20)
	data := randomBytes(42, 12<<20+5)
	inf, err := st.Put(t.Context(), bytes.NewReader(data), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if inf.SHA256 != hashOf(data) || inf.Size != int64(len(data)) {
		t.Fatalf("got %+v", inf)
	}
	if !bytes.Equal(readAll(t, st, inf.SHA256), data) {
		t.Fatal("read back differs")
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
