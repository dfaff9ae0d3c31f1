package audit

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/store"
)

// verifyNow runs Verify and returns the report.
func (e *env) verifyNow(anchors ...[]byte) Report {
	e.t.Helper()
	rep, err := Verify(e.ctx, VerifyOptions{VerifierKey: e.vkey, Anchors: anchors, Chunk: 9})
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

func wantBad(t *testing.T, rep Report, index int64, words string) {
	t.Helper()
	if rep.OK {
		t.Fatalf("verify passed a tampered log: %+v", rep)
	}
	if rep.FirstBadIndex == nil || *rep.FirstBadIndex != index {
		got := "none"
		if rep.FirstBadIndex != nil {
			got = strconv.FormatInt(*rep.FirstBadIndex, 10)
		}
		t.Fatalf("first bad index %s, want %d (%s)", got, index, rep.Problem)
	}
	if !strings.Contains(rep.Problem, words) {
		t.Fatalf("problem %q does not mention %q", rep.Problem, words)
	}
}

// eventAt returns the id of the event at tree index i.
func (e *env) eventAt(i int64) int64 {
	e.t.Helper()
	var id int64
	if err := e.owner.Raw(`SELECT event_id FROM audit_leaves WHERE idx = $1`, i).Scan(&id).Error; err != nil {
		e.t.Fatal(err)
	}
	return id
}

// disable turns off the append-only triggers, as an insider with the owner
// role would.
func (e *env) disable(tables ...string) {
	for _, t := range tables {
		e.ownerExec(`ALTER TABLE ` + t + ` DISABLE TRIGGER ` + t + `_append_only`)
	}
}

func seeded(t *testing.T, n int) *env {
	e := newEnv(t)
	e.record(officer(uuid.New()), n)
	e.drain()
	if rep := e.verifyNow(); !rep.OK || rep.Size != int64(n) {
		t.Fatalf("untouched log fails verification: %+v", rep)
	}
	return e
}

func TestVerifyCatchesEditedEvent(t *testing.T) {
	t.Parallel()
	e := seeded(t, 40)
	e.disable("audit_events")
	e.ownerExec(`UPDATE audit_events SET outcome = 'denied' WHERE id = $1`, e.eventAt(23))
	wantBad(t, e.verifyNow(), 23, "does not match its leaf hash")
}

func TestVerifyCatchesEditedEventWithRecomputedHashes(t *testing.T) {
	t.Parallel()
	// The insider also rewrites the stored hashes consistently; the signed
	// checkpoints still disagree.
	e := seeded(t, 40)
	e.disable("audit_events", "audit_hashes")
	e.ownerExec(`UPDATE audit_events SET actor_name = 'someone else' WHERE id = $1`, e.eventAt(30))
	rehash(t, e)
	rep := e.verifyNow()
	// Batches of 7: the last checkpoint that still matches is size 28.
	wantBad(t, rep, 28, "does not match the recomputed tree")
}

// rehash recomputes every stored hash from the events, as the owner.
func rehash(t *testing.T, e *env) {
	t.Helper()
	var rows []row
	if err := e.owner.Raw(`SELECT ` + eventColumns + ` FROM audit_leaves l JOIN audit_events e ON e.id = l.event_id ORDER BY l.idx`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	tr, _ := newTree(0, nil)
	e.ownerExec(`DELETE FROM audit_hashes`)
	for i := range rows {
		hs, err := tr.Append(LeafHash(rows[i].entry()))
		if err != nil {
			t.Fatal(err)
		}
		base := storedIndex(int64(i))
		for k, h := range hs {
			e.ownerExec(`INSERT INTO audit_hashes (idx, hash) VALUES ($1, $2)`, base+int64(k), h[:])
		}
	}
}

func TestVerifyCatchesDeletedEvent(t *testing.T) {
	t.Parallel()
	e := seeded(t, 40)
	e.disable("audit_events")
	e.ownerExec(`DELETE FROM audit_events WHERE id = $1`, e.eventAt(11))
	wantBad(t, e.verifyNow(), 11, "missing")
}

func TestVerifyCatchesDeletedEventAndLeaf(t *testing.T) {
	t.Parallel()
	e := seeded(t, 40)
	e.disable("audit_events", "audit_leaves")
	id := e.eventAt(11)
	e.ownerExec(`DELETE FROM audit_events WHERE id = $1`, id)
	e.ownerExec(`DELETE FROM audit_leaves WHERE idx = 11`)
	wantBad(t, e.verifyNow(), 11, "no leaf")
}

func TestVerifyCatchesSwappedEvents(t *testing.T) {
	t.Parallel()
	e := seeded(t, 40)
	e.disable("audit_leaves")
	a, b := e.eventAt(5), e.eventAt(17)
	// Swap which event each index points to (the unique constraint is
	// checked per statement, hence the detour through -1).
	e.ownerExec(`UPDATE audit_leaves SET event_id = -1 WHERE idx = 5`)
	e.ownerExec(`UPDATE audit_leaves SET event_id = $1 WHERE idx = 17`, a)
	e.ownerExec(`UPDATE audit_leaves SET event_id = $1 WHERE idx = 5`, b)
	wantBad(t, e.verifyNow(), 5, "does not match its leaf hash")
}

func TestVerifyCatchesSwappedEventContents(t *testing.T) {
	t.Parallel()
	e := seeded(t, 40)
	e.disable("audit_events")
	a, b := e.eventAt(8), e.eventAt(9)
	// Swap two events' contents but keep their ids and positions.
	e.ownerExec(`UPDATE audit_events x SET object_id = y.object_id, case_id = y.case_id, details = y.details
		FROM audit_events y WHERE (x.id, y.id) IN (($1, $2), ($2, $1))`, a, b)
	wantBad(t, e.verifyNow(), 8, "does not match its leaf hash")
}

func TestVerifyCatchesTruncatedLog(t *testing.T) {
	t.Parallel()
	e := seeded(t, 40)
	// Keep the latest checkpoint (a witness holds it); cut the tail.
	latest, err := Latest(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.disable("audit_events", "audit_leaves", "audit_hashes")
	e.ownerExec(`DELETE FROM audit_events WHERE id IN (SELECT event_id FROM audit_leaves WHERE idx >= 33)`)
	wantBad(t, e.verifyNow(), 33, "missing")
	e.ownerExec(`DELETE FROM audit_leaves WHERE idx >= 33`)
	e.ownerExec(`DELETE FROM audit_hashes WHERE idx >= $1`, storedIndex(33))
	wantBad(t, e.verifyNow(), 33, "no leaf")

	// A thorough insider also removes the checkpoints above the cut: the
	// database alone is consistent again, a kept checkpoint is not.
	e.disable("audit_checkpoints")
	e.ownerExec(`DELETE FROM audit_checkpoints WHERE size > 28`)
	e.ownerExec(`DELETE FROM audit_events WHERE id IN (SELECT event_id FROM audit_leaves WHERE idx >= 28)`)
	e.ownerExec(`DELETE FROM audit_leaves WHERE idx >= 28`)
	e.ownerExec(`DELETE FROM audit_hashes WHERE idx >= $1`, storedIndex(28))
	if rep := e.verifyNow(); !rep.OK {
		t.Fatalf("a consistently truncated log without anchors: %+v", rep)
	}
	wantBad(t, e.verifyNow(latest), 28, "truncated")
}

func TestVerifyCatchesRemovedCheckpoints(t *testing.T) {
	t.Parallel()
	e := seeded(t, 40)
	e.disable("audit_checkpoints")
	e.ownerExec(`DELETE FROM audit_checkpoints WHERE size > 21`)
	wantBad(t, e.verifyNow(), 21, "checkpoints were removed")
}

func TestVerifyCatchesForgedCheckpoint(t *testing.T) {
	t.Parallel()
	e := seeded(t, 40)
	e.disable("audit_checkpoints")
	e.ownerExec(`UPDATE audit_checkpoints SET note = replace(note, E'\n14\n', E'\n15\n') WHERE size = 14`)
	wantBad(t, e.verifyNow(), 7, "not validly signed")
}

func TestVerifyCatchesDroppedQueueEntry(t *testing.T) {
	t.Parallel()
	e := seeded(t, 10)
	e.record(officer(uuid.New()), 3)
	e.ownerExec(`DELETE FROM audit_queue WHERE event_id = (SELECT min(event_id) FROM audit_queue)`)
	rep := e.verifyNow()
	if rep.OK || !strings.Contains(rep.Problem, "neither in the tree nor queued") {
		t.Fatalf("dropped queue entry not reported: %+v", rep)
	}
}

func TestSequencerRefusesAnotherKey(t *testing.T) {
	t.Parallel()
	e := seeded(t, 5)
	skey, _, _ := GenerateKey("casebridge.test/audit")
	e.signer, _ = NewSigner(skey)
	e.record(officer(uuid.New()), 1)
	if _, err := e.sequencer().Step(e.ctx); !errors.Is(err, ErrInconsistent) || !strings.Contains(err.Error(), "signing_key") {
		t.Fatalf("sequencer extended a log signed by another key: %v", err)
	}
}

func TestSequencerRefusesTamperedTree(t *testing.T) {
	t.Parallel()
	e := seeded(t, 10)
	e.disable("audit_hashes")
	e.ownerExec(`UPDATE audit_hashes SET hash = sha256(hash) WHERE idx = (SELECT max(idx) FROM audit_hashes)`)
	e.record(officer(uuid.New()), 1)
	if _, err := e.sequencer().Step(e.ctx); !errors.Is(err, ErrInconsistent) {
		t.Fatalf("sequencer extended a tampered tree: %v", err)
	}
}

// testServer serves the public audit endpoints straight from the package
// functions (the real routes are in internal/httpapi; this keeps the
// witness test inside the package).
func testServer(t *testing.T, e *env) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathCheckpoint, func(w http.ResponseWriter, r *http.Request) {
		msg, err := Latest(store.WithDB(r.Context(), e.app))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		if msg == nil {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(msg)
	})
	mux.HandleFunc("GET "+PathKey, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(e.signer.VerifierKey() + "\n"))
	})
	mux.HandleFunc("GET "+PathConsistency, func(w http.ResponseWriter, r *http.Request) {
		from, _ := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
		to, _ := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
		p, err := ConsistencyProof(store.WithDB(r.Context(), e.app), from, to)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		writeJSON(w, ProofResponse{From: &from, To: &to, Hashes: p})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestWitnessCatchesRebuiltLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := testServer(t, e)
	state := t.TempDir()
	w := &Witness{BaseURL: srv.URL, StateDir: state}

	// Empty log: nothing to keep yet.
	if res, err := w.Run(e.ctx); err != nil || res.Current != nil || !res.KeyFetched {
		t.Fatalf("empty log: %+v %v", res, err)
	}
	e.record(officer(uuid.New()), 20)
	e.drain()
	res, err := w.Run(e.ctx)
	if err != nil || res.Current.Size != 20 {
		t.Fatalf("first checkpoint: %+v %v", res, err)
	}
	e.record(officer(uuid.New()), 9)
	e.drain()
	if res, err = w.Run(e.ctx); err != nil || res.Previous.Size != 20 || res.Current.Size != 29 {
		t.Fatalf("growing log: %+v %v", res, err)
	}
	kept, _ := os.ReadFile(filepath.Join(state, "checkpoint"))

	// The insider rebuilds the log without event 12 and re-signs it with the
	// server's own key; it even grows past what the witness holds.
	e.disable("audit_events", "audit_leaves", "audit_hashes", "audit_checkpoints")
	gone := e.eventAt(12)
	e.ownerExec(`DELETE FROM audit_events WHERE id = $1`, gone)
	e.ownerExec(`TRUNCATE audit_leaves, audit_hashes, audit_checkpoints`)
	e.ownerExec(`INSERT INTO audit_queue (event_id) SELECT id FROM audit_events`)
	e.record(officer(uuid.New()), 5)
	e.drain()
	if rep := e.verifyNow(); !rep.OK || rep.Size != 33 {
		t.Fatalf("rebuilt log should look fine from inside: %+v", rep)
	}
	_, err = w.Run(e.ctx)
	if !errors.Is(err, ErrInconsistent) || !strings.Contains(err.Error(), "history was rewritten") {
		t.Fatalf("witness accepted a rebuilt log: %v", err)
	}
	if now, _ := os.ReadFile(filepath.Join(state, "checkpoint")); string(now) != string(kept) {
		t.Fatalf("witness replaced its kept checkpoint with a rejected one")
	}
	if m, _ := filepath.Glob(filepath.Join(state, "rejected-*.note")); len(m) != 1 {
		t.Fatalf("rejected checkpoint not kept as evidence: %v", m)
	}
	// And verify, given the witness's checkpoint, catches it too.
	rep := e.verifyNow(kept)
	if rep.OK {
		t.Fatalf("verify with the kept checkpoint passed a rebuilt log")
	}
}

func TestWitnessRefusesOtherKeyAndShrinking(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := testServer(t, e)
	e.record(officer(uuid.New()), 5)
	e.drain()
	state := t.TempDir()
	if _, err := (&Witness{BaseURL: srv.URL, StateDir: state, VerifierKey: e.vkey}).Run(e.ctx); err != nil {
		t.Fatal(err)
	}
	// A server that signs with another key of the same name.
	skey2, _, _ := GenerateKey("casebridge.test/audit")
	e.signer, _ = NewSigner(skey2)
	e.disable("audit_checkpoints", "audit_leaves", "audit_hashes")
	e.ownerExec(`TRUNCATE audit_leaves, audit_hashes, audit_checkpoints`)
	e.ownerExec(`INSERT INTO audit_queue (event_id) SELECT id FROM audit_events`)
	e.drain()
	_, err := (&Witness{BaseURL: srv.URL, StateDir: state}).Run(e.ctx)
	if !errors.Is(err, ErrBadCheckpoint) {
		t.Fatalf("checkpoint signed by another key accepted: %v", err)
	}
	_, other, _ := GenerateKey("casebridge.test/audit")
	if _, err := (&Witness{BaseURL: srv.URL, StateDir: state, VerifierKey: other}).Run(e.ctx); err == nil || !strings.Contains(err.Error(), "differs from the key pinned") {
		t.Fatalf("another --key accepted against pinned state: %v", err)
	}
}
