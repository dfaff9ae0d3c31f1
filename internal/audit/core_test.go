package audit

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func sampleEntry() *Entry {
	return &Entry{
		ID:           42,
		Time:         time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC),
		ActorUserID:  uuid.MustParse("0b3f1c2e-8d8c-4c36-9a57-1f1d3c1e2a10"),
		ActorIssuer:  "https://idp.example",
		ActorSubject: "officer-1",
		ActorName:    "Sok Dara",
		AgencyID:     uuid.MustParse("5b0f6f0c-2f6e-4a8c-8d0e-3a4c5d6e7f80"),
		AgencyCode:   "KH-IMM",
		Action:       "case.read",
		ObjectType:   "case",
		ObjectID:     "c-1",
		Outcome:      OK,
		RequestID:    "req-1",
		ClientAddr:   "192.0.2.7",
		Details:      `{"fields": ["status"]}`,
	}
}

// TestLeafEncodingGolden pins the v1 encoding: a change here breaks every
// partner's verifier and every leaf already in the tree.
func TestLeafEncodingGolden(t *testing.T) {
	e := sampleEntry()
	got := EncodeLeaf(e)
	var want []byte
	for _, f := range []string{"casebridge/audit/v1", "42", "2025-03-04T05:06:07.123456Z",
		"0b3f1c2e-8d8c-4c36-9a57-1f1d3c1e2a10", "https://idp.example", "officer-1", "Sok Dara",
		"5b0f6f0c-2f6e-4a8c-8d0e-3a4c5d6e7f80", "KH-IMM", "case.read", "case", "c-1", "",
		"ok", "req-1", "192.0.2.7", `{"fields": ["status"]}`} {
		want = append(want, byte(len(f)>>24), byte(len(f)>>16), byte(len(f)>>8), byte(len(f)))
		want = append(want, f...)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("EncodeLeaf:\n got %q\nwant %q", got, want)
	}
	// Leaf hash = SHA-256(0x00 || leaf), computed independently (Python
	// hashlib) and pinned; docs/audit.md shows the same example.
	const wantHash = "PrSVkYhdtJFEWRrlV4bUQVNNV8oePUz2uXzp4+zur8E="
	if h := LeafHash(e); h.String() != wantHash {
		t.Fatalf("leaf hash %s, want %s", h, wantHash)
	}
}

func TestLeafRoundTripAndStrictness(t *testing.T) {
	e := sampleEntry()
	d, err := DecodeLeaf(EncodeLeaf(e))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(EncodeLeaf(d), EncodeLeaf(e)) || d.ID != 42 || d.CaseID != uuid.Nil || !d.Time.Equal(e.Time) {
		t.Fatalf("round trip changed the entry: %+v", d)
	}
	// Each field change changes the hash.
	base := LeafHash(e)
	mut := []func(*Entry){
		func(x *Entry) { x.ID++ },
		func(x *Entry) { x.Time = x.Time.Add(time.Microsecond) },
		func(x *Entry) { x.ActorUserID = uuid.Nil },
		func(x *Entry) { x.ActorName += " " },
		func(x *Entry) { x.Action = "case.update" },
		func(x *Entry) { x.Outcome = Denied },
		func(x *Entry) { x.Details = `{}` },
		// Moving bytes between adjacent fields must change the hash too.
		func(x *Entry) { x.ObjectType, x.ObjectID = "casec", "-1" },
	}
	for i, m := range mut {
		x := *e
		m(&x)
		if LeafHash(&x) == base {
			t.Errorf("mutation %d did not change the leaf hash", i)
		}
	}
	// Non-canonical spellings are refused.
	bad := bytes.Replace(EncodeLeaf(e), []byte("0b3f1c2e"), []byte("0B3F1C2E"), 1)
	if _, err := DecodeLeaf(bad); !errors.Is(err, ErrBadLeaf) {
		t.Fatalf("upper-case uuid accepted: %v", err)
	}
	if _, err := DecodeLeaf(append(EncodeLeaf(e), 0)); !errors.Is(err, ErrBadLeaf) {
		t.Fatalf("trailing byte accepted: %v", err)
	}
	if _, err := DecodeLeaf(EncodeLeaf(e)[:10]); !errors.Is(err, ErrBadLeaf) {
		t.Fatalf("truncated leaf accepted: %v", err)
	}
}

func FuzzDecodeLeaf(f *testing.F) {
	f.Add(EncodeLeaf(sampleEntry()))
	f.Add([]byte{0, 0, 0, 1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := DecodeLeaf(data)
		if err != nil {
			return
		}
		if !bytes.Equal(EncodeLeaf(e), data) {
			t.Fatalf("decoded leaf does not re-encode to the same bytes")
		}
	})
}

// memStorage is a reference: every stored hash kept, as tlog's own tests do.
type memStorage []tlog.Hash

func (m memStorage) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = m[x]
	}
	return out, nil
}

func TestTreeMatchesFullStorage(t *testing.T) {
	var full memStorage
	tr, err := newTree(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1100
	for i := int64(0); i < n; i++ {
		data := []byte{byte(i), byte(i >> 8), 'x'}
		want, err := tlog.StoredHashes(i, data, full)
		if err != nil {
			t.Fatal(err)
		}
		full = append(full, want...)
		got, err := tr.Append(tlog.RecordHash(data))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || got[len(got)-1] != want[len(want)-1] {
			t.Fatalf("record %d: stored hashes differ", i)
		}
		root, err := tr.Root()
		if err != nil {
			t.Fatal(err)
		}
		wantRoot, _ := tlog.TreeHash(i+1, full)
		if root != wantRoot {
			t.Fatalf("size %d: root differs", i+1)
		}
		if int64(len(full)) != tlog.StoredHashCount(i+1) {
			t.Fatalf("stored hash count")
		}
		// A tree resumed from the frontier alone continues identically.
		if i%97 == 0 {
			idx := frontier(i + 1)
			front, _ := full.ReadHashes(idx)
			tr2, err := newTree(i+1, front)
			if err != nil {
				t.Fatal(err)
			}
			r2, _ := tr2.Root()
			if r2 != wantRoot {
				t.Fatalf("resumed tree at %d: root differs", i+1)
			}
			tr = tr2
		}
	}
	if len(tr.hashes) > 300 {
		t.Fatalf("tree keeps %d hashes; want O(log n)", len(tr.hashes))
	}
}

func TestCheckpointSignOpen(t *testing.T) {
	skey, vkey, err := GenerateKey("casebridge.test/audit")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	if s.VerifierKey() != vkey {
		t.Fatalf("derived verifier key %q, want %q", s.VerifierKey(), vkey)
	}
	root := tlog.RecordHash([]byte("x"))
	msg, err := s.Sign(7, root)
	if err != nil {
		t.Fatal(err)
	}
	wantBody := "casebridge.test/audit\n7\n" + root.String() + "\n"
	if !strings.HasPrefix(string(msg), wantBody+"\n— casebridge.test/audit ") {
		t.Fatalf("checkpoint note:\n%s", msg)
	}
	c, err := OpenCheckpoint(msg, vkey)
	if err != nil {
		t.Fatal(err)
	}
	if c.Size != 7 || c.Root != root || c.Origin != "casebridge.test/audit" {
		t.Fatalf("opened %+v", c)
	}
	// Altered body, other key, other key with the same name: refused.
	alt := bytes.Replace(msg, []byte("\n7\n"), []byte("\n8\n"), 1)
	if _, err := OpenCheckpoint(alt, vkey); !errors.Is(err, ErrBadCheckpoint) {
		t.Fatalf("altered checkpoint opened: %v", err)
	}
	_, vkey2, _ := GenerateKey("casebridge.test/audit")
	if _, err := OpenCheckpoint(msg, vkey2); !errors.Is(err, ErrBadCheckpoint) {
		t.Fatalf("checkpoint opened with another key: %v", err)
	}
	// A note whose origin line differs from the key name is refused.
	other, _ := note.NewSigner(skey)
	n2, _ := note.Sign(&note.Note{Text: "another.log\n7\n" + root.String() + "\n"}, other)
	if _, err := OpenCheckpoint(n2, vkey); !errors.Is(err, ErrBadCheckpoint) {
		t.Fatalf("foreign origin accepted: %v", err)
	}
}

func TestParseCheckpoint(t *testing.T) {
	root := tlog.RecordHash(nil).String()
	for _, tc := range []struct {
		text string
		ok   bool
	}{
		{"o\n0\n" + root + "\n", true},
		{"o\n12\n" + root + "\next\n", true},
		{"o\n12\n" + root, false},
		{"o\n012\n" + root + "\n", false},
		{"o\n-1\n" + root + "\n", false},
		{"\n1\n" + root + "\n", false},
		{"o\n1\nAAAA\n", false},
		{"o\n1\n", false},
	} {
		_, err := ParseCheckpoint(tc.text)
		if (err == nil) != tc.ok {
			t.Errorf("ParseCheckpoint(%q) = %v, want ok=%v", tc.text, err, tc.ok)
		}
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add("o\n12\n" + tlog.RecordHash(nil).String() + "\n")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCheckpoint(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(s, c.Body()) {
			t.Fatalf("parsed %+v from %q but its body differs", c, s)
		}
	})
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "audit.key")
	k1, err := LoadOrCreateKey(path, "casebridge.dev/audit")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %o, want 600", fi.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(path, "ignored")
	if err != nil || k2 != k1 {
		t.Fatalf("second load gave another key (%v)", err)
	}
	s, _ := NewSigner(k1)
	if s.Origin() != "casebridge.dev/audit" {
		t.Fatalf("origin %q", s.Origin())
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path, "x"); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key accepted: %v", err)
	}
}

func TestClip(t *testing.T) {
	if got := clip("ab\x00c", 10); got != "abc" {
		t.Fatalf("clip NUL: %q", got)
	}
	if got := clip("\xffa", 10); got != "\uFFFDa" {
		t.Fatalf("clip invalid: %q", got)
	}
	if got := clip("aé", 2); got != "a" {
		t.Fatalf("clip split a rune: %q", got)
	}
}
