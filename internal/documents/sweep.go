package documents

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/store"
)

// SweepResult counts what a sweep removed.
type SweepResult struct {
	Temp    int // temporary upload data (files, keys, unfinished multipart uploads)
	Orphans int // stored objects no version refers to
}

// sweepBatch is how many candidate hashes one query checks.
const sweepBatch = 500

// Sweep removes what crashed or abandoned uploads left in blobs: temporary
// upload data and stored objects that no document version refers to, both
// only when older than grace (so an upload in flight, whose row is about to
// commit, is never cut). Bytes that a version refers to are never removed.
//
// ctx must carry the database (store.WithDB); no principal is needed: the
// sweeper asks through SECURITY DEFINER functions that reveal only hashes.
func Sweep(ctx context.Context, blobs blob.Store, grace time.Duration) (SweepResult, error) {
	var res SweepResult
	cutoff := time.Now().Add(-grace)
	n, err := blobs.CleanTemp(ctx, cutoff)
	res.Temp = n
	if err != nil {
		return res, fmt.Errorf("sweep blobs: %w", err)
	}
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		defer func() { batch = batch[:0] }()
		var orphans []string
		if err := store.DB(ctx).Raw(`SELECT h FROM cb_unreferenced_blobs(?::text[]) AS h`, pgTextArray(batch)).
			Scan(&orphans).Error; err != nil {
			return fmt.Errorf("find unreferenced blobs: %w", err)
		}
		for _, sha := range orphans {
			removed, err := removeOrphan(ctx, blobs, sha, cutoff)
			if err != nil {
				return err
			}
			if removed {
				res.Orphans++
			}
		}
		return nil
	}
	err = blobs.Walk(ctx, func(inf blob.Info) error {
		if !inf.ModTime.Before(cutoff) {
			return nil
		}
		batch = append(batch, inf.SHA256)
		if len(batch) >= sweepBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return res, fmt.Errorf("sweep blobs: %w", err)
	}
	return res, nil
}

// removeOrphan removes one unreferenced object under its lock, after
// checking again that no version refers to it and that it was not written
// again within the grace period.
func removeOrphan(ctx context.Context, blobs blob.Store, sha string, cutoff time.Time) (bool, error) {
	removed := false
	err := store.WithTx(ctx, func(ctx context.Context) error {
		db := store.DB(ctx)
		if err := db.Exec(`SELECT pg_advisory_xact_lock(cb_blob_lock_key(?))`, sha).Error; err != nil {
			return fmt.Errorf("lock blob %s: %w", sha, err)
		}
		var referenced bool
		if err := db.Raw(`SELECT cb_blob_referenced(?)`, sha).Scan(&referenced).Error; err != nil {
			return fmt.Errorf("check blob %s: %w", sha, err)
		}
		if referenced {
			return nil
		}
		inf, err := blobs.Stat(ctx, sha)
		if errors.Is(err, blob.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !inf.ModTime.Before(cutoff) {
			return nil
		}
		if err := blobs.Remove(ctx, sha); err != nil && !errors.Is(err, blob.ErrNotFound) {
			return err
		}
		removed = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("remove orphan blob %s: %w", sha, err)
	}
	return removed, nil
}

// pgTextArray formats hex hashes as a PostgreSQL text[] literal (they need
// no quoting).
func pgTextArray(items []string) string {
	n := 2
	for _, s := range items {
		n += len(s) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, s := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, s...)
	}
	return string(append(b, '}'))
}

// Problem is a stored object or a version's bytes that failed verification.
type Problem struct {
	SHA256 string
	Kind   string // "missing" or "corrupt"
	Err    error
}

// VerifyResult counts what Verify checked.
type VerifyResult struct {
	Objects  int // stored objects re-hashed
	Recorded int // recorded blobs (what versions point to) checked for presence
	Problems []Problem
}

// Verify re-hashes every stored object, and checks that the bytes of every
// recorded blob (every version's) exist with their recorded size. ctx must
// carry the database; no principal is needed.
func Verify(ctx context.Context, blobs blob.Store) (VerifyResult, error) {
	var res VerifyResult
	corrupt := map[string]bool{}
	n, err := blob.Verify(ctx, blobs, func(p blob.Problem) {
		kind := "corrupt"
		if errors.Is(p.Err, blob.ErrNotFound) {
			kind = "missing"
		}
		corrupt[p.SHA256] = true
		res.Problems = append(res.Problems, Problem{SHA256: p.SHA256, Kind: kind, Err: p.Err})
	})
	res.Objects = n
	if err != nil {
		return res, fmt.Errorf("verify documents: %w", err)
	}
	after := ""
	for {
		var rows []struct {
			SHA256 string `gorm:"column:sha256"`
			Size   int64
		}
		if err := store.DB(ctx).Raw(`SELECT sha256, size FROM cb_recorded_blobs(?, 1000)`, after).
			Scan(&rows).Error; err != nil {
			return res, fmt.Errorf("verify documents: list recorded blobs: %w", err)
		}
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			res.Recorded++
			after = r.SHA256
			if corrupt[r.SHA256] {
				continue // reported by the re-hash
			}
			inf, err := blobs.Stat(ctx, r.SHA256)
			switch {
			case errors.Is(err, blob.ErrNotFound):
				res.Problems = append(res.Problems, Problem{SHA256: r.SHA256, Kind: "missing", Err: err})
			case err != nil:
				return res, fmt.Errorf("verify documents: %w", err)
			case inf.Size != r.Size:
				res.Problems = append(res.Problems, Problem{SHA256: r.SHA256, Kind: "corrupt",
					Err: fmt.Errorf("size %d, recorded %d: %w", inf.Size, r.Size, blob.ErrCorrupt)})
			}
		}
	}
	return res, nil
}
