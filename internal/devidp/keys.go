package devidp

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/go-jose/go-jose/v3"
)

// Signing algorithms the provider can use.
const (
	RS256 = "RS256"
	ES256 = "ES256"
)

// keyring holds the signing key and the retired public keys that are still
// published in the JWKS. fosite asks it for the current key on every
// signature, so a rotation takes effect at once.
type keyring struct {
	mu       sync.RWMutex
	alg      string
	file     string
	current  *jose.JSONWebKey
	previous []jose.JSONWebKey // public halves still published
}

// newKeyring loads the key from file, or generates one (and writes it to file
// when file is set).
func newKeyring(alg, file string) (*keyring, error) {
	k := &keyring{alg: alg, file: file}
	if file != "" {
		key, err := readKey(file, alg)
		switch {
		case err == nil:
			k.current = key
			return k, nil
		case !errors.Is(err, os.ErrNotExist):
			return nil, err
		}
	}
	key, err := generateKey(alg)
	if err != nil {
		return nil, err
	}
	if err := k.save(key); err != nil {
		return nil, err
	}
	k.current = key
	return k, nil
}

// signingKey is fosite's key getter.
func (k *keyring) signingKey(context.Context) (any, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current, nil
}

// kid returns the key id of the current key.
func (k *keyring) kid() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current.KeyID
}

// rotate switches to a new key; the old public key stays in the JWKS when
// keepPrevious is set and is dropped from it otherwise.
func (k *keyring) rotate(keepPrevious bool) (string, error) {
	key, err := generateKey(k.alg)
	if err != nil {
		return "", err
	}
	if err := k.save(key); err != nil {
		return "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if keepPrevious {
		k.previous = append(k.previous, k.current.Public())
	} else {
		k.previous = nil
	}
	k.current = key
	return key.KeyID, nil
}

// publicKeys returns the published keys, the current one first.
func (k *keyring) publicKeys() []jose.JSONWebKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	keys := []jose.JSONWebKey{k.current.Public()}
	return append(keys, k.previous...)
}

// save writes key to the key file, if there is one, atomically and readable
// by the owner only.
func (k *keyring) save(key *jose.JSONWebKey) error {
	if k.file == "" {
		return nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(key.Key)
	if err != nil {
		return fmt.Errorf("encode signing key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := writeFileAtomic(k.file, data, 0o600); err != nil {
		return fmt.Errorf("write signing key: %w", err)
	}
	return nil
}

func generateKey(alg string) (*jose.JSONWebKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("generate signing key: unsupported algorithm %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	return newJWK(priv, alg)
}

// newJWK wraps a private key with its algorithm and a key id derived from the
// public key (RFC 7638 thumbprint), so a key read back from the key file keeps
// its kid across restarts.
func newJWK(priv crypto.Signer, alg string) (*jose.JSONWebKey, error) {
	jwk := &jose.JSONWebKey{Key: priv, Algorithm: alg, Use: "sig"}
	pub := jwk.Public()
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("compute key id: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	return jwk, nil
}

func readKey(file, alg string) (*jose.JSONWebKey, error) {
	data, err := os.ReadFile(file) // #nosec G304 -- a key file named in the operator's settings, not request input
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("read signing key %s: no PKCS#8 PEM block", file)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("read signing key %s: %w", file, err)
	}
	switch key := key.(type) {
	case *rsa.PrivateKey:
		if alg == RS256 {
			return newJWK(key, alg)
		}
	case *ecdsa.PrivateKey:
		if alg == ES256 && key.Curve == elliptic.P256() {
			return newJWK(key, alg)
		}
	}
	return nil, fmt.Errorf("read signing key %s: key type %T does not fit algorithm %s", file, key, alg)
}

// writeFileAtomic writes data to a temporary file next to name and renames
// it into place, so a crash never leaves half a file.
func writeFileAtomic(name string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".*")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	defer os.Remove(f.Name()) //nolint:errcheck // gone after the rename
	if err := f.Chmod(perm); err != nil {
		_ = f.Close() // the chmod error is the one to report
		return fmt.Errorf("chmod %s: %w", f.Name(), err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close() // the write error is the one to report
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close() // the sync error is the one to report
		return fmt.Errorf("sync %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", f.Name(), err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return fmt.Errorf("rename to %s: %w", name, err)
	}
	return nil
}
