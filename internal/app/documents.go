package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/documents"
	"github.com/casebridge/casebridge/internal/store"
)

// OpenBlobStore builds the document byte store the settings name. It does
// not contact it; Ping does (Serve calls it at start).
func OpenBlobStore(ctx context.Context, cfg config.Blob) (blob.Store, error) {
	switch cfg.Backend {
	case "s3":
		st, err := blob.NewS3(ctx, blob.S3Config{
			Endpoint: cfg.S3Endpoint, Region: cfg.S3Region, Bucket: cfg.S3Bucket,
			AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey, PathStyle: cfg.S3PathStyle,
			Prefix: cfg.S3Prefix, PartSize: cfg.S3PartSize, Concurrency: cfg.S3Concurrency,
		})
		if err != nil {
			return nil, Startupf("blob.s3_bucket: %v", err)
		}
		return st, nil
	default:
		st, err := blob.NewLocal(cfg.Dir)
		if err != nil {
			return nil, Startupf("blob.dir: %v", err)
		}
		return st, nil
	}
}

// pingBlobs checks the blob store at start-up, naming the setting at fault.
func pingBlobs(ctx context.Context, cfg config.Blob, st blob.Store) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := st.Ping(ctx); err != nil {
		if cfg.Backend == "s3" {
			return Startupf("blob.s3_endpoint: %v", err)
		}
		return Startupf("blob.dir: %v", err)
	}
	return nil
}

// sweepLockKey is the session advisory lock that lets one instance at a
// time sweep (several sweeping at once would be safe, only wasteful).
const sweepLockKey = 7250

func sweepOnce(ctx context.Context, db *gorm.DB, blobs blob.Store, grace time.Duration, log *slog.Logger) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, sweepLockKey).Scan(&got); err != nil {
		return fmt.Errorf("sweep: lock: %w", err)
	}
	if !got {
		return nil // another instance is sweeping
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, sweepLockKey) //nolint:errcheck
	res, err := documents.Sweep(store.WithDB(ctx, db), blobs, grace)
	if res.Temp > 0 || res.Orphans > 0 {
		log.Info("swept document blobs", "temporary", res.Temp, "orphans", res.Orphans)
	}
	return err
}
