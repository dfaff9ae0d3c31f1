package webhooks

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// Sealer encrypts signing secrets at rest with AES-256-GCM under the key
// of the setting webhooks.secret_key. The agency id is the additional
// data, so a sealed secret copied to another agency's row does not open.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, errors.New("webhook secret key: need 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("webhook secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("webhook secret key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts secret for agency: nonce then ciphertext and tag.
func (s *Sealer) Seal(agency uuid.UUID, secret string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal webhook secret: %w", err)
	}
	return s.aead.Seal(nonce, nonce, []byte(secret), agency[:]), nil
}

// Open decrypts what Seal made for agency.
func (s *Sealer) Open(agency uuid.UUID, sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("open webhook secret: too short")
	}
	b, err := s.aead.Open(nil, sealed[:n], sealed[n:], agency[:])
	if err != nil {
		return "", fmt.Errorf("open webhook secret (wrong webhooks.secret_key?): %w", err)
	}
	return string(b), nil
}
