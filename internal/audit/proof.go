package audit

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/store"
)

// dbHashes reads stored hashes from audit_hashes for tlog's proof
// functions.
type dbHashes struct{ ctx context.Context }

func (r dbHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) { return readHashes(r.ctx, indexes) }

// Latest returns the latest signed checkpoint note, or nil when nothing has
// been sequenced yet.
func Latest(ctx context.Context) ([]byte, error) {
	var h head
	err := store.WithTx(ctx, func(ctx context.Context) (err error) {
		h, err = latestHead(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	if h.Size == 0 {
		return nil, nil
	}
	return []byte(h.Note), nil
}

// InclusionProof proves that the record at index is in the tree of the given
// size: the hashes tlog.CheckRecord needs, with the record's leaf hash.
func InclusionProof(ctx context.Context, index, size int64) (proof tlog.RecordProof, leaf tlog.Hash, err error) {
	err = store.WithTx(ctx, func(ctx context.Context) (err error) {
		proof, leaf, err = inclusionProof(ctx, index, size)
		return err
	})
	return proof, leaf, err
}

func inclusionProof(ctx context.Context, index, size int64) (proof tlog.RecordProof, leaf tlog.Hash, err error) {
	h, err := latestHead(ctx)
	if err != nil {
		return nil, leaf, err
	}
	var f apperr.Fields
	if size < 1 || size > h.Size {
		f.Add("size", "must be between 1 and the tree size %d", h.Size)
	}
	if index < 0 || (size >= 1 && index >= size) {
		f.Add("index", "must be at least 0 and below size")
	}
	if err := f.Err(); err != nil {
		return nil, leaf, fmt.Errorf("prove audit record %d in %d: %w", index, size, err)
	}
	proof, err = tlog.ProveRecord(size, index, dbHashes{ctx})
	if err != nil {
		return nil, leaf, fmt.Errorf("prove audit record %d in %d: %w", index, size, err)
	}
	hs, err := readHashes(ctx, []int64{tlog.StoredHashIndex(0, index)})
	if err != nil {
		return nil, leaf, fmt.Errorf("prove audit record %d in %d: %w", index, size, err)
	}
	return proof, hs[0], nil
}

// ConsistencyProof proves that the tree of size from is a prefix of the
// tree of size to: the hashes tlog.CheckTree needs.
func ConsistencyProof(ctx context.Context, from, to int64) (p tlog.TreeProof, err error) {
	err = store.WithTx(ctx, func(ctx context.Context) (err error) {
		p, err = consistencyProof(ctx, from, to)
		return err
	})
	return p, err
}

func consistencyProof(ctx context.Context, from, to int64) (tlog.TreeProof, error) {
	h, err := latestHead(ctx)
	if err != nil {
		return nil, err
	}
	var f apperr.Fields
	if to < 1 || to > h.Size {
		f.Add("to", "must be between 1 and the tree size %d", h.Size)
	}
	if from < 1 || from > to {
		f.Add("from", "must be between 1 and to")
	}
	if err := f.Err(); err != nil {
		return nil, fmt.Errorf("prove audit tree %d in %d: %w", from, to, err)
	}
	p, err := tlog.ProveTree(to, from, dbHashes{ctx})
	if err != nil {
		return nil, fmt.Errorf("prove audit tree %d in %d: %w", from, to, err)
	}
	return p, nil
}

// treeIndexes maps event ids to their tree indexes (unsequenced events are
// absent).
func treeIndexes(ctx context.Context, ids []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		Idx     int64
		EventID int64
	}
	if err := store.DB(ctx).Raw(`SELECT idx, event_id FROM audit_leaves WHERE event_id = ANY($1)`, ids).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read audit tree indexes: %w", err)
	}
	for _, r := range rows {
		out[r.EventID] = r.Idx
	}
	return out, nil
}
