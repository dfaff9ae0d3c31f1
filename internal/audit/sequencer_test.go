package audit

import (
	"testing"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/tlog"
)

func TestSequencerBuildsSignedTree(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.record(officer(uuid.New()), 30)
	if n := e.drain(); n != 30 {
		t.Fatalf("sequenced %d events, want 30", n)
	}
	if n := e.drain(); n != 0 {
		t.Fatalf("second drain sequenced %d", n)
	}
	var cps []head
	if err := e.owner.Raw(`SELECT size, root, note FROM audit_checkpoints ORDER BY size`).Scan(&cps).Error; err != nil {
		t.Fatal(err)
	}
	// Batches of 7: sizes 7, 14, 21, 28, 30.
	if len(cps) != 5 || cps[4].Size != 30 {
		t.Fatalf("checkpoints %+v", cps)
	}
	// Recompute the tree independently from the leaves (tlog with full
	// in-memory storage) and compare with the signed checkpoint.
	var rows []row
	if err := e.owner.Raw(`SELECT ` + eventColumns + ` FROM audit_leaves l JOIN audit_events e ON e.id = l.event_id ORDER BY l.idx`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var full memStorage
	for i := range rows {
		hs, err := tlog.StoredHashes(int64(i), EncodeLeaf(rows[i].entry()), full)
		if err != nil {
			t.Fatal(err)
		}
		full = append(full, hs...)
	}
	root, _ := tlog.TreeHash(30, full)
	c, err := OpenCheckpoint([]byte(cps[4].Note), e.vkey)
	if err != nil {
		t.Fatal(err)
	}
	if c.Root != root || c.Size != 30 {
		t.Fatalf("checkpoint %+v does not match the recomputed root %s", c, root)
	}
	var stored int64
	e.owner.Raw(`SELECT count(*) FROM audit_hashes`).Scan(&stored)
	if stored != tlog.StoredHashCount(30) {
		t.Fatalf("%d stored hashes, want %d", stored, tlog.StoredHashCount(30))
	}
	if rows[0].Details != `{"i": 0, "note": "é\"<>"}` || rows[0].RequestID != "req" || rows[0].ClientAddr != "192.0.2.1" {
		t.Fatalf("stored event %+v", rows[0])
	}
}
