package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is a commitment to the log: its origin (the log's name, which is
// also the signing key's name), its size and the root hash of the tree of
// that size. It is written in the C2SP tlog-checkpoint format.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// ErrBadCheckpoint means a checkpoint note is malformed, has a bad signature
// or was signed by another key.
var ErrBadCheckpoint = errors.New("bad checkpoint")

// Body is the checkpoint's note text: origin, decimal size and base64 root
// hash, each line ending in a newline (C2SP tlog-checkpoint).
func (c Checkpoint) Body() string {
	return c.Origin + "\n" + strconv.FormatInt(c.Size, 10) + "\n" + base64.StdEncoding.EncodeToString(c.Root[:]) + "\n"
}

// ParseCheckpoint parses a checkpoint body (the text of a note, without
// signatures). Extension lines after the root hash are allowed and ignored.
func ParseCheckpoint(text string) (Checkpoint, error) {
	if !strings.HasSuffix(text, "\n") {
		return Checkpoint{}, fmt.Errorf("parse checkpoint: %w: does not end in a newline", ErrBadCheckpoint)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return Checkpoint{}, fmt.Errorf("parse checkpoint: %w: want origin, size and root hash lines", ErrBadCheckpoint)
	}
	c := Checkpoint{Origin: lines[0]}
	if c.Origin == "" {
		return Checkpoint{}, fmt.Errorf("parse checkpoint: %w: empty origin", ErrBadCheckpoint)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return Checkpoint{}, fmt.Errorf("parse checkpoint: %w: size %q is not a decimal number", ErrBadCheckpoint, lines[1])
	}
	c.Size = size
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return Checkpoint{}, fmt.Errorf("parse checkpoint: %w: root hash %q is not base64 of %d bytes", ErrBadCheckpoint, lines[2], tlog.HashSize)
	}
	copy(c.Root[:], root)
	for _, l := range lines[3:] {
		if l == "" {
			return Checkpoint{}, fmt.Errorf("parse checkpoint: %w: empty extension line", ErrBadCheckpoint)
		}
	}
	return c, nil
}

// Signer signs checkpoints with the log's Ed25519 note key.
type Signer struct {
	signer   note.Signer
	verifier string
}

// NewSigner parses a note signer key ("PRIVATE+KEY+name+hash+key"). The key
// name is the log's origin.
func NewSigner(skey string) (*Signer, error) {
	skey = strings.TrimSpace(skey)
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("parse audit signing key: %w", err)
	}
	vkey, err := verifierKeyOf(skey)
	if err != nil {
		return nil, err
	}
	return &Signer{signer: s, verifier: vkey}, nil
}

// verifierKeyOf derives the note verifier key from a signer key.
func verifierKeyOf(skey string) (string, error) {
	// PRIVATE+KEY+<name>+<hash>+<base64 of 0x01 and the 32-byte seed>
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 {
		return "", fmt.Errorf("parse audit signing key: malformed")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return "", fmt.Errorf("parse audit signing key: not an Ed25519 key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(parts[2], pub)
	if err != nil {
		return "", fmt.Errorf("derive audit verifier key: %w", err)
	}
	return vkey, nil
}

// Origin is the log's origin line, the key's name.
func (s *Signer) Origin() string { return s.signer.Name() }

// VerifierKey is the public key in note verifier format
// ("name+hash+base64"), what partner agencies pin.
func (s *Signer) VerifierKey() string { return s.verifier }

// Sign returns the signed checkpoint note for a tree of size n with root.
func (s *Signer) Sign(size int64, root tlog.Hash) ([]byte, error) {
	c := Checkpoint{Origin: s.Origin(), Size: size, Root: root}
	msg, err := note.Sign(&note.Note{Text: c.Body()}, s.signer)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint of size %d: %w", size, err)
	}
	return msg, nil
}

// OpenCheckpoint checks that msg is a checkpoint note signed by the key vkey
// and returns the checkpoint. The origin must be the key's name, so a
// checkpoint of another log signed with a key of the same name fails.
func OpenCheckpoint(msg []byte, vkey string) (Checkpoint, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("parse audit verifier key: %w", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("open checkpoint: %w: %w", ErrBadCheckpoint, err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("open checkpoint: %w: origin %q is not the key's name %q", ErrBadCheckpoint, c.Origin, v.Name())
	}
	return c, nil
}

// GenerateKey makes a new Ed25519 checkpoint key named origin and returns the
// signer key (secret) and the verifier key (public), both in note format.
func GenerateKey(origin string) (skey, vkey string, err error) {
	skey, vkey, err = note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return "", "", fmt.Errorf("generate audit key %q: %w", origin, err)
	}
	return skey, vkey, nil
}

// LoadOrCreateKey returns the signer key stored at path, generating one named
// origin on first use (for `dev`: the key lives in the data directory, mode
// 0600). A key file others can read is refused.
func LoadOrCreateKey(path, origin string) (string, error) {
	skey, err := readKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return skey, err
	}
	skey, _, err = GenerateKey(origin)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create audit key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- the audit key file named in the operator's settings
	if errors.Is(err, fs.ErrExist) {
		return readKeyFile(path) // another process made it first
	}
	if err != nil {
		return "", fmt.Errorf("create audit key file: %w", err)
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("write audit key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("write audit key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write audit key file: %w", err)
	}
	return skey, nil
}

func readKeyFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("read audit key file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("read audit key file %s: mode %o lets others read it; chmod 600 it", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path) // #nosec G304 -- the audit key file named in the operator's settings
	if err != nil {
		return "", fmt.Errorf("read audit key file: %w", err)
	}
	skey := string(bytes.TrimSpace(data))
	if _, err := NewSigner(skey); err != nil {
		return "", fmt.Errorf("audit key file %s: %w", path, err)
	}
	return skey, nil
}
