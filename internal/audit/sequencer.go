package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/casebridge/casebridge/internal/store"
)

// sequencerLock is the advisory lock key that makes one sequencer run at a
// time across every instance sharing the database ("cbaudit" in ASCII).
const sequencerLock int64 = 0x63626175646974

// ErrInconsistent means the stored tree does not match its own latest
// checkpoint: someone changed the audit tables. The sequencer refuses to
// extend such a tree.
var ErrInconsistent = errors.New("audit tree is inconsistent")

// Sequencer integrates queued events into the tree: it assigns tree indexes
// in batches, stores the new hashes and signs a checkpoint after each batch.
// Several instances may run one; the advisory lock lets one work at a time.
type Sequencer struct {
	Signer    *Signer
	BatchSize int          // events per batch (transaction); default 2000
	Log       *slog.Logger // default slog.Default()
	// OnBatch, when set, is called after each committed batch (metrics).
	OnBatch func(events int, size int64, took time.Duration)
}

func (s *Sequencer) batchSize() int {
	if s.BatchSize <= 0 {
		return 2000
	}
	return s.BatchSize
}

// systemTx marks the transaction of ctx as the audit system's own, which the
// audit_events read policy lets through (the sequencer and the verifier have
// no principal).
func systemTx(ctx context.Context) error {
	if err := store.DB(ctx).Exec(`SELECT set_config('casebridge.audit_system', 'on', true)`).Error; err != nil {
		return fmt.Errorf("mark audit system transaction: %w", err)
	}
	return nil
}

// head is the latest checkpoint as stored.
type head struct {
	Size int64
	Root []byte
	Note string
}

func latestHead(ctx context.Context) (head, error) {
	var h []head
	err := store.DB(ctx).Raw(`SELECT size, root, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&h).Error
	if err != nil {
		return head{}, fmt.Errorf("read latest checkpoint: %w", err)
	}
	if len(h) == 0 {
		return head{}, nil
	}
	return h[0], nil
}

// eventColumns are read, in this order, by scanEntry.
const eventColumns = `e.id, e.occurred_at, e.actor_user_id, e.actor_issuer, e.actor_subject, e.actor_name,
	e.agency_id, e.agency_code, e.action, e.object_type, e.object_id, e.case_id, e.outcome,
	e.request_id, e.client_addr, e.details::text`

// row is the scan target for eventColumns.
type row struct {
	ID           int64
	OccurredAt   time.Time
	ActorUserID  uuid.NullUUID
	ActorIssuer  string
	ActorSubject string
	ActorName    string
	AgencyID     uuid.NullUUID
	AgencyCode   string
	Action       string
	ObjectType   string
	ObjectID     string
	CaseID       uuid.NullUUID
	Outcome      string
	RequestID    string
	ClientAddr   string
	Details      string
}

func (r *row) entry() *Entry {
	return &Entry{
		ID: r.ID, Time: r.OccurredAt.UTC(), ActorUserID: r.ActorUserID.UUID, ActorIssuer: r.ActorIssuer,
		ActorSubject: r.ActorSubject, ActorName: r.ActorName, AgencyID: r.AgencyID.UUID,
		AgencyCode: r.AgencyCode, Action: r.Action, ObjectType: r.ObjectType, ObjectID: r.ObjectID,
		CaseID: r.CaseID.UUID, Outcome: Outcome(r.Outcome), RequestID: r.RequestID,
		ClientAddr: r.ClientAddr, Details: r.Details,
	}
}

// loadTree reads the frontier of the tree of the given size from
// audit_hashes and checks that it hashes to root.
func loadTree(ctx context.Context, size int64, root []byte) (*tree, error) {
	idx := frontier(size)
	got, err := readHashes(ctx, idx)
	if err != nil {
		return nil, err
	}
	t, err := newTree(size, got)
	if err != nil {
		return nil, err
	}
	r, err := t.Root()
	if err != nil {
		return nil, err
	}
	if size > 0 && string(r[:]) != string(root) {
		return nil, fmt.Errorf("%w: stored hashes of size %d do not hash to the latest checkpoint's root", ErrInconsistent, size)
	}
	return t, nil
}

// readHashes reads stored hashes by index, in the order asked.
func readHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	var rows []struct {
		Idx  int64
		Hash []byte
	}
	err := store.DB(ctx).Raw(`SELECT idx, hash FROM audit_hashes WHERE idx = ANY($1)`, indexes).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read audit hashes: %w", err)
	}
	m := make(map[int64][]byte, len(rows))
	for _, r := range rows {
		m[r.Idx] = r.Hash
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := m[x]
		if !ok || len(h) != tlog.HashSize {
			return nil, fmt.Errorf("%w: stored hash %d is missing", ErrInconsistent, x)
		}
		copy(out[i][:], h)
	}
	return out, nil
}

// Step integrates up to BatchSize queued events in one transaction and
// returns how many it integrated: 0 when the queue is empty or another
// instance is sequencing.
func (s *Sequencer) Step(ctx context.Context) (int, error) {
	var done int
	var size int64
	start := time.Now()
	err := store.WithTx(ctx, func(ctx context.Context) error {
		db := store.DB(ctx)
		var locked bool
		if err := db.Raw(`SELECT pg_try_advisory_xact_lock($1)`, sequencerLock).Scan(&locked).Error; err != nil {
			return fmt.Errorf("take sequencer lock: %w", err)
		}
		if !locked {
			return nil
		}
		if err := systemTx(ctx); err != nil {
			return err
		}
		h, err := latestHead(ctx)
		if err != nil {
			return err
		}
		// Take the batch: the lowest queued ids, which are committed events
		// (uncommitted queue rows are invisible and will be taken later).
		var rows []row
		err = db.Raw(`WITH taken AS (
				DELETE FROM audit_queue
				WHERE event_id IN (SELECT event_id FROM audit_queue ORDER BY event_id LIMIT $1)
				RETURNING event_id)
			SELECT `+eventColumns+` FROM audit_events e JOIN taken ON taken.event_id = e.id
			ORDER BY e.id`, s.batchSize()).Scan(&rows).Error
		if err != nil {
			return fmt.Errorf("take queued audit events: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		if h.Size > 0 {
			// Never extend a log this key did not sign: a changed
			// audit.signing_key would otherwise start a second log on top
			// of the first, which no verifier could check.
			c, err := OpenCheckpoint([]byte(h.Note), s.Signer.VerifierKey())
			if err != nil || c.Size != h.Size || string(c.Root[:]) != string(h.Root) {
				return fmt.Errorf("%w: the latest checkpoint (size %d) is not signed by this server's key; was audit.signing_key changed?", ErrInconsistent, h.Size)
			}
		}
		t, err := loadTree(ctx, h.Size, h.Root)
		if err != nil {
			return err
		}
		ids := make([]int64, len(rows))
		hashes := make([]byte, 0, 2*len(rows)*tlog.HashSize+64)
		for i := range rows {
			e := rows[i].entry()
			hs, err := t.Append(LeafHash(e))
			if err != nil {
				return err
			}
			ids[i] = e.ID
			for _, x := range hs {
				hashes = append(hashes, x[:]...)
			}
		}
		err = db.Exec(`INSERT INTO audit_leaves (idx, event_id)
			SELECT $1::bigint + g.n - 1, g.id FROM unnest($2::bigint[]) WITH ORDINALITY AS g(id, n)`,
			h.Size, ids).Error
		if err != nil {
			return fmt.Errorf("insert audit leaves: %w", err)
		}
		// The new stored hashes are contiguous from StoredHashIndex(0, old
		// size): send them as one bytea and cut it in SQL.
		err = db.Exec(`INSERT INTO audit_hashes (idx, hash)
			SELECT $1::bigint + g, substring($2::bytea FROM g * 32 + 1 FOR 32)
			FROM generate_series(0, $3::int - 1) AS g`,
			tlog.StoredHashIndex(0, h.Size), hashes, len(hashes)/tlog.HashSize).Error
		if err != nil {
			return fmt.Errorf("insert audit hashes: %w", err)
		}
		root, err := t.Root()
		if err != nil {
			return err
		}
		msg, err := s.Signer.Sign(t.Size(), root)
		if err != nil {
			return err
		}
		err = db.Exec(`INSERT INTO audit_checkpoints (size, root, note) VALUES ($1, $2, $3)`,
			t.Size(), root[:], string(msg)).Error
		if err != nil {
			return fmt.Errorf("insert audit checkpoint: %w", err)
		}
		done, size = len(rows), t.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sequence audit events: %w", err)
	}
	if done > 0 && s.OnBatch != nil {
		s.OnBatch(done, size, time.Since(start))
	}
	return done, nil
}

// Drain runs batches until the queue is empty (or another instance holds
// the lock) and returns how many events it integrated.
func (s *Sequencer) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.Step(ctx)
		total += n
		if err != nil || n < s.batchSize() {
			return total, err
		}
	}
}

// Run drains the queue every interval until ctx ends. Errors are logged and
// retried at the next tick: the audit log must not stop the server, and a
// failed batch leaves its events queued.
func (s *Sequencer) Run(ctx context.Context, interval time.Duration) {
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if _, err := s.Drain(ctx); err != nil && ctx.Err() == nil {
			log.Error("audit sequencer", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
