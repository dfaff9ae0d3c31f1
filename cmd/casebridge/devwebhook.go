package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/webhooks"
)

// demoWebhookAgency is the embassy whose webhook `dev` points at its own
// receiver.
const demoWebhookAgency = "emb-us"

// loadOrCreateSecretFile returns the secret kept at path (mode 0600),
// making one with gen on first use.
func loadOrCreateSecretFile(path string, gen func() (string, error)) (string, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- a file of dev's own data directory (--data-dir, the operator's)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	s, err := gen()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- as above: dev's own data directory
	if errors.Is(err, fs.ErrExist) {
		return loadOrCreateSecretFile(path, gen)
	}
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		_ = f.Close()
		return "", err
	}
	return s, f.Close()
}

func newWebhookKey() (string, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(k), nil
}

// startDevWebhookReceiver runs the demo receiver on a free loopback port
// and points the US embassy's webhook at it (the secret lives in the data
// dir, so it stays the same across runs). It returns the receiver's URL
// and a stop function.
func startDevWebhookReceiver(ctx context.Context, cfg config.Config, dir string, out io.Writer) (string, func(), error) {
	sealer, err := app.WebhookSealer(cfg.Webhooks)
	if err != nil || sealer == nil {
		return "", nil, fmt.Errorf("webhook receiver: no webhooks key: %v", err)
	}
	secret, err := loadOrCreateSecretFile(filepath.Join(dir, "webhook-receiver.secret"), webhooks.NewSecret)
	if err != nil {
		return "", nil, fmt.Errorf("webhook receiver secret: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("webhook receiver: %w", err)
	}
	srv := &http.Server{Handler: &webhooks.Receiver{Secret: secret, Out: out}, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln) //nolint:errcheck
	url := "http://" + ln.Addr().String() + "/webhooks"
	stop := func() { _ = srv.Close() }

	db, err := store.Open(ctx, cfg.Database.OwnerURL, store.Options{MaxOpenConns: 1})
	if err != nil {
		stop()
		return "", nil, err
	}
	defer store.Close(db) //nolint:errcheck
	var agency struct {
		ID string `gorm:"column:id"`
	}
	if err := db.WithContext(ctx).Raw(`SELECT id FROM agencies WHERE code = ?`, demoWebhookAgency).Scan(&agency).Error; err != nil || agency.ID == "" {
		stop()
		return "", nil, fmt.Errorf("webhook receiver: agency %s: %v", demoWebhookAgency, err)
	}
	sealed, err := sealer.Seal(uuid.MustParse(agency.ID), secret)
	if err != nil {
		stop()
		return "", nil, err
	}
	if err := db.WithContext(ctx).Exec(`INSERT INTO agency_webhooks (agency_id, url, secret_sealed, secret_hint)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (agency_id) DO UPDATE SET url = EXCLUDED.url, secret_sealed = EXCLUDED.secret_sealed,
			secret_hint = EXCLUDED.secret_hint, enabled = true, updated_at = now(), version = agency_webhooks.version + 1`,
		agency.ID, url, sealed, webhooks.Hint(secret)).Error; err != nil {
		stop()
		return "", nil, fmt.Errorf("webhook receiver: set the %s webhook: %w", demoWebhookAgency, err)
	}
	return url, stop, nil
}
