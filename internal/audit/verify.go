package audit

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/casebridge/casebridge/internal/store"
)

// Report is the outcome of Verify.
type Report struct {
	OK          bool  `json:"ok"`
	Size        int64 `json:"size"`        // tree size checked (the latest checkpoint's)
	Checkpoints int   `json:"checkpoints"` // signed checkpoints checked
	// FirstBadIndex is the first tree index whose event, leaf or hashes do
	// not match, or from which the log no longer matches a checkpoint.
	FirstBadIndex *int64 `json:"first_bad_index,omitempty"`
	Problem       string `json:"problem,omitempty"`
}

func (r *Report) fail(index int64, format string, args ...any) {
	r.OK = false
	r.FirstBadIndex = &index
	r.Problem = fmt.Sprintf(format, args...)
}

// VerifyOptions tunes Verify.
type VerifyOptions struct {
	// VerifierKey checks every stored checkpoint's signature.
	VerifierKey string
	// Anchors are checkpoints kept outside the database (a witness's
	// state, a printed copy). The log must still contain each of them:
	// this is what catches a consistently truncated or rebuilt log.
	Anchors [][]byte
	// Chunk is how many leaves are read per query; default 10000.
	Chunk int
}

// Verify recomputes the tree from the stored events, in tree order, and
// checks it against the stored hashes, every stored checkpoint (root and
// signature) and the anchors. It also finds events that are neither in the
// tree nor queued. It reads the log up to the latest checkpoint at the
// start; what is sequenced meanwhile is checked next time. An error is a
// failure to check (database, bad key); a tampered log is a Report with OK
// false.
func Verify(ctx context.Context, opt VerifyOptions) (Report, error) {
	if opt.Chunk <= 0 {
		opt.Chunk = 10000
	}
	var rep Report
	var anchors []Checkpoint
	for _, a := range opt.Anchors {
		c, err := OpenCheckpoint(a, opt.VerifierKey)
		if err != nil {
			return rep, fmt.Errorf("verify audit log: anchor: %w", err)
		}
		anchors = append(anchors, c)
	}
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if err := systemTx(ctx); err != nil {
			return err
		}
		var err error
		rep, err = verify(ctx, opt, anchors)
		return err
	})
	if err != nil {
		return rep, fmt.Errorf("verify audit log: %w", err)
	}
	return rep, nil
}

func verify(ctx context.Context, opt VerifyOptions, anchors []Checkpoint) (Report, error) {
	rep := Report{OK: true}
	db := store.DB(ctx)
	h, err := latestHead(ctx)
	if err != nil {
		return rep, err
	}
	size := h.Size
	rep.Size = size

	// Anchors: a kept checkpoint larger than the log means it was cut.
	for _, a := range anchors {
		if a.Size > size {
			rep.fail(size, "the log holds %d events but a kept checkpoint says it held %d: it was truncated or rebuilt", size, a.Size)
			return rep, nil
		}
	}
	var cps []head
	if err := db.Raw(`SELECT size, root, note FROM audit_checkpoints WHERE size <= $1 ORDER BY size`, size).Scan(&cps).Error; err != nil {
		return rep, fmt.Errorf("read audit checkpoints: %w", err)
	}
	// Checks due at each size: stored checkpoints and anchors.
	type due struct {
		root   tlog.Hash
		what   string
		stored *head
	}
	dues := map[int64][]due{}
	for i := range cps {
		c, err := OpenCheckpoint([]byte(cps[i].Note), opt.VerifierKey)
		if err != nil || c.Size != cps[i].Size || string(c.Root[:]) != string(cps[i].Root) {
			rep.fail(prevSize(cps, i), "the stored checkpoint of size %d is not validly signed by the log's key or does not match its row", cps[i].Size)
			if err != nil {
				rep.Problem += ": " + err.Error()
			}
			return rep, nil
		}
		dues[c.Size] = append(dues[c.Size], due{root: c.Root, what: "stored checkpoint", stored: &cps[i]})
		rep.Checkpoints++
	}
	for _, a := range anchors {
		dues[a.Size] = append(dues[a.Size], due{root: a.Root, what: "kept (anchor) checkpoint"})
	}
	lastGood := int64(0) // size of the last checkpoint that matched

	t, _ := newTree(0, nil)
	for lo := int64(0); lo < size; lo += int64(opt.Chunk) {
		hi := min(lo+int64(opt.Chunk), size)
		var leaves []struct {
			Idx     int64
			EventID int64
			Found   bool
			Event   row `gorm:"embedded"`
		}
		err := db.Raw(`SELECT l.idx, l.event_id, e.id IS NOT NULL AS found, `+eventColumns+`
			FROM audit_leaves l LEFT JOIN audit_events e ON e.id = l.event_id
			WHERE l.idx >= $1 AND l.idx < $2 ORDER BY l.idx`, lo, hi).Scan(&leaves).Error
		if err != nil {
			return rep, fmt.Errorf("read audit leaves: %w", err)
		}
		hlo, hhi := tlog.StoredHashIndex(0, lo), tlog.StoredHashCount(hi)
		var hashes []struct {
			Idx  int64
			Hash []byte
		}
		err = db.Raw(`SELECT idx, hash FROM audit_hashes WHERE idx >= $1 AND idx < $2 ORDER BY idx`, hlo, hhi).Scan(&hashes).Error
		if err != nil {
			return rep, fmt.Errorf("read audit hashes: %w", err)
		}
		hpos := 0
		for i, li := lo, 0; i < hi; i++ {
			if li >= len(leaves) || leaves[li].Idx != i {
				rep.fail(i, "tree index %d has no leaf: it was deleted", i)
				return rep, nil
			}
			l := &leaves[li]
			li++
			if !l.Found {
				rep.fail(i, "tree index %d: event %d is missing: it was deleted", i, l.EventID)
				return rep, nil
			}
			if l.Event.ID != l.EventID {
				rep.fail(i, "tree index %d: leaf names event %d but the row read is %d", i, l.EventID, l.Event.ID)
				return rep, nil
			}
			hs, err := t.Append(LeafHash(l.Event.entry()))
			if err != nil {
				return rep, err
			}
			base := tlog.StoredHashIndex(0, i)
			for k, want := range hs {
				for hpos < len(hashes) && hashes[hpos].Idx < base+int64(k) {
					hpos++ // an extra row: the count check below reports it
				}
				if hpos >= len(hashes) || hashes[hpos].Idx != base+int64(k) {
					rep.fail(i, "tree index %d: stored hash %d is missing", i, base+int64(k))
					return rep, nil
				}
				if string(hashes[hpos].Hash) != string(want[:]) {
					if k == 0 {
						rep.fail(i, "tree index %d: event %d does not match its leaf hash: it was changed, or events were swapped", i, l.EventID)
					} else {
						rep.fail(i, "tree index %d: stored hash %d does not match the recomputed tree", i, base+int64(k))
					}
					return rep, nil
				}
				hpos++
			}
			if ds, ok := dues[i+1]; ok {
				root, err := t.Root()
				if err != nil {
					return rep, err
				}
				for _, d := range ds {
					if d.root != root {
						rep.fail(lastGood, "the %s of size %d does not match the recomputed tree: the log differs at or after index %d", d.what, i+1, lastGood)
						return rep, nil
					}
				}
				lastGood = i + 1
			}
		}
	}
	if lastGood != size {
		rep.fail(lastGood, "no signed checkpoint of size %d", size)
		return rep, nil
	}

	// Leaves beyond the latest checkpoint: the sequencer writes leaves and
	// their checkpoint in one transaction, so a leaf beyond it whose
	// checkpoint still does not exist (read after it) means checkpoints
	// were removed.
	var maxLeaf struct{ N *int64 }
	if err := db.Raw(`SELECT max(idx) AS n FROM audit_leaves`).Scan(&maxLeaf).Error; err != nil {
		return rep, fmt.Errorf("read audit leaves: %w", err)
	}
	if maxLeaf.N != nil && *maxLeaf.N >= size {
		h2, err := latestHead(ctx)
		if err != nil {
			return rep, err
		}
		if *maxLeaf.N >= h2.Size {
			rep.fail(h2.Size, "leaves up to index %d exist but the latest checkpoint has size %d: checkpoints were removed", *maxLeaf.N, h2.Size)
			return rep, nil
		}
	}
	// Events outside the tree and the queue will never be sequenced.
	var orphan struct{ ID *int64 }
	err = db.Raw(`SELECT min(e.id) AS id FROM audit_events e
		WHERE NOT EXISTS (SELECT FROM audit_leaves l WHERE l.event_id = e.id)
		  AND NOT EXISTS (SELECT FROM audit_queue q WHERE q.event_id = e.id)`).Scan(&orphan).Error
	if err != nil {
		return rep, fmt.Errorf("find unsequenced audit events: %w", err)
	}
	if orphan.ID != nil {
		rep.OK = false
		rep.Problem = fmt.Sprintf("event %d is neither in the tree nor queued for it: its queue entry was removed", *orphan.ID)
	}
	return rep, nil
}

func prevSize(cps []head, i int) int64 {
	if i == 0 {
		return 0
	}
	return cps[i-1].Size
}
