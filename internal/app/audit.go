package app

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/store"
)

// AuditSigner loads the checkpoint signing key the settings name; nil when
// none is configured (only `serve` requires one).
func AuditSigner(cfg config.Audit) (*audit.Signer, error) {
	key, setting := cfg.SigningKey, "audit.signing_key"
	if cfg.SigningKeyFile != "" {
		setting = "audit.signing_key_file"
		fi, err := os.Stat(cfg.SigningKeyFile)
		if err != nil {
			return nil, Startupf("%s: %v", setting, err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, Startupf("%s: %s is readable by others (mode %o); chmod 600 it", setting, cfg.SigningKeyFile, fi.Mode().Perm())
		}
		b, err := os.ReadFile(cfg.SigningKeyFile)
		if err != nil {
			return nil, Startupf("%s: %v", setting, err)
		}
		key = string(b)
	}
	if strings.TrimSpace(key) == "" {
		return nil, nil
	}
	s, err := audit.NewSigner(key)
	if err != nil {
		return nil, Startupf("%s: %v", setting, err)
	}
	return s, nil
}

// RunAuditSequencer integrates audit events into the Merkle tree every
// interval until ctx ends. Every instance runs one; a PostgreSQL advisory
// lock lets one work at a time.
func RunAuditSequencer(ctx context.Context, p *Program) {
	events := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "casebridge_audit_sequenced_events_total", Help: "Audit events integrated into the Merkle tree by this instance."})
	size := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "casebridge_audit_tree_size", Help: "Size of the audit tree after this instance's last batch."})
	batch := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "casebridge_audit_batch_seconds", Help: "Duration of a sequencing batch (one transaction).",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)})
	for _, c := range []prometheus.Collector{events, size, batch} {
		_ = p.HTTP.Registry().Register(c)
	}
	s := &audit.Sequencer{
		Signer: p.AuditSigner, BatchSize: p.Config.Audit.BatchSize, Log: p.Log,
		OnBatch: func(n int, treeSize int64, took time.Duration) {
			events.Add(float64(n))
			size.Set(float64(treeSize))
			batch.Observe(took.Seconds())
		},
	}
	s.Run(store.WithDB(ctx, p.DB), p.Config.Audit.SequencerInterval)
}
