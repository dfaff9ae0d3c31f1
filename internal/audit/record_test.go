package audit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/store"
)

func TestAppRoleCannotChangeAuditTables(t *testing.T) {
	t.Parallel()
	e := seeded(t, 3)
	e.record(officer(uuid.New()), 1) // one queued
	for _, stmt := range []string{
		`UPDATE audit_events SET outcome = 'denied'`,
		`DELETE FROM audit_events`,
		`TRUNCATE audit_events`,
		`UPDATE audit_leaves SET event_id = event_id`,
		`DELETE FROM audit_leaves`,
		`TRUNCATE audit_leaves`,
		`UPDATE audit_hashes SET hash = hash`,
		`DELETE FROM audit_hashes`,
		`TRUNCATE audit_hashes`,
		`UPDATE audit_checkpoints SET note = ''`,
		`DELETE FROM audit_checkpoints`,
		`TRUNCATE audit_checkpoints`,
		`UPDATE audit_queue SET event_id = event_id`,
		`TRUNCATE audit_queue`,
		`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`,
		`INSERT INTO audit_events (id, action, outcome) OVERRIDING SYSTEM VALUE VALUES (999, 'x', 'ok')`,
		`INSERT INTO audit_events (occurred_at, action, outcome) VALUES ('2000-01-01', 'x', 'ok')`,
	} {
		// As an admin with the system marker: the most the app role can be.
		ctx := access.WithPrincipal(e.ctx, admin())
		err := store.WithTx(ctx, func(ctx context.Context) error {
			if err := systemTx(ctx); err != nil {
				return err
			}
			return store.DB(ctx).Exec(stmt).Error
		})
		if code := store.PgCode(err); code != "42501" {
			t.Errorf("%s as casebridge_app: got %v (SQLSTATE %q), want permission denied (42501)", stmt, err, code)
		}
	}
	// The owner is refused too until it disables the trigger on purpose.
	for _, stmt := range []string{`UPDATE audit_events SET outcome = 'denied'`, `DELETE FROM audit_leaves`, `TRUNCATE audit_hashes`, `DELETE FROM audit_checkpoints`} {
		err := e.owner.Exec(stmt).Error
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s as owner with the trigger on: %v", stmt, err)
		}
	}
	if rep := e.verifyNow(); !rep.OK {
		t.Fatalf("log changed: %+v", rep)
	}
}

func TestRecordFollowsTheCallersTransaction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := officer(uuid.New())
	ctx := access.WithPrincipal(WithRequestInfo(e.ctx, "req-abc", "198.51.100.4"), p)
	caseID := uuid.New()
	boom := errors.New("boom")
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if err := Record(ctx, Event{Action: "case.update", ObjectType: "case", ObjectID: caseID.String(), CaseID: caseID}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	var n int64
	e.owner.Raw(`SELECT count(*) FROM audit_events`).Scan(&n)
	if n != 0 {
		t.Fatalf("event of a rolled-back change was kept")
	}
	// Refusals are recorded after the transaction, with the outer context.
	if err := Record(ctx, Event{Action: "case.update", ObjectType: "case", ObjectID: caseID.String(), CaseID: caseID, Outcome: Denied, Details: map[string]string{"missing": "case.update"}}); err != nil {
		t.Fatal(err)
	}
	// A refused sign-in has no principal in ctx; the handler names the actor.
	if err := Record(e.ctx, Event{Action: "auth.sign_in", Outcome: Denied, Actor: &access.Principal{Issuer: "https://idp.test", Subject: "mallory"}}); err != nil {
		t.Fatal(err)
	}
	var rows []row
	e.owner.Raw(`SELECT ` + eventColumns + ` FROM audit_events e ORDER BY id`).Scan(&rows)
	if len(rows) != 2 {
		t.Fatalf("%d events", len(rows))
	}
	got := rows[0].entry()
	if got.ActorUserID != p.UserID || got.AgencyID != p.AgencyID || got.AgencyCode != "kh-imm" || got.ActorSubject != "officer" ||
		got.CaseID != caseID || got.Outcome != Denied || got.RequestID != "req-abc" || got.ClientAddr != "198.51.100.4" ||
		got.Details != `{"missing": "case.update"}` || time.Since(got.Time) > time.Minute {
		t.Fatalf("stored %+v", got)
	}
	if s := rows[1].entry(); s.ActorSubject != "mallory" || s.ActorUserID != uuid.Nil || s.AgencyID != uuid.Nil {
		t.Fatalf("sign-in event %+v", s)
	}
	// Bad events are refused before the database.
	if err := Record(ctx, Event{}); !errors.Is(err, ErrBadEvent) {
		t.Fatalf("empty action: %v", err)
	}
	if err := Record(ctx, Event{Action: "x", Outcome: "maybe"}); !errors.Is(err, ErrBadEvent) {
		t.Fatalf("bad outcome: %v", err)
	}
	// Oversized request metadata is cut, not refused.
	long := WithRequestInfo(ctx, strings.Repeat("r", 5000), strings.Repeat("é", 5000))
	if err := Record(long, Event{Action: "case.read"}); err != nil {
		t.Fatalf("long request info refused: %v", err)
	}
}

func TestListIsAdminOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	agency := uuid.New()
	e.record(officer(agency), 12)
	e.record(officer(uuid.New()), 3)
	e.drain()

	// Not an admin: 403 by the service, and the table is empty to it.
	off := access.WithPrincipal(e.ctx, officer(agency))
	if _, err := List(off, Filter{}); !errors.Is(err, apperr.ErrForbidden) {
		t.Fatalf("officer listed the audit log: %v", err)
	}
	var n int64
	err := store.WithTx(off, func(ctx context.Context) error {
		return store.DB(ctx).Raw(`SELECT count(*) FROM audit_events`).Scan(&n).Error
	})
	if err != nil || n != 0 {
		t.Fatalf("officer sees %d audit rows (%v)", n, err)
	}

	adm := access.WithPrincipal(e.ctx, admin())
	seen := map[int64]bool{}
	cursor := ""
	var last time.Time
	for pages := 0; ; pages++ {
		p, err := List(adm, Filter{Agency: agency, Action: "case.read", Limit: 5, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			if it.AgencyID != agency || seen[it.ID] || it.TreeIndex == nil {
				t.Fatalf("item %+v", it)
			}
			if !last.IsZero() && it.Time.After(last) {
				t.Fatalf("not newest first")
			}
			last = it.Time
			seen[it.ID] = true
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if len(seen) != 12 {
		t.Fatalf("paged through %d events of the agency, want 12", len(seen))
	}
	// The officer's refused attempt and the admin's reads are audited.
	p, err := List(adm, Filter{Action: ActionList, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var denied, ok int
	for _, it := range p.Items {
		switch it.Outcome {
		case Denied:
			denied++
		case OK:
			ok++
		}
	}
	if denied != 1 || ok < 3 {
		t.Fatalf("audit reads audited: %d denied, %d ok", denied, ok)
	}
	p, err = List(adm, Filter{Action: "case.read", ObjectType: "case", ObjectID: "2"})
	if err != nil || len(p.Items) != 2 {
		t.Fatalf("object filter: %d items, %v", len(p.Items), err)
	}
	p, err = List(adm, Filter{From: time.Now().Add(time.Hour)})
	if err != nil || len(p.Items) != 0 {
		t.Fatalf("future time range: %d items, %v", len(p.Items), err)
	}
	for _, f := range []Filter{{Limit: 500}, {ObjectID: "x"}, {Cursor: "!!"}, {From: time.Now(), To: time.Now().Add(-time.Hour)}} {
		if _, err := List(adm, f); !errors.Is(err, apperr.ErrInvalid) {
			t.Errorf("filter %+v: %v", f, err)
		}
	}
}

func TestProofsCheckAgainstCheckpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.record(officer(uuid.New()), 23)
	e.drain()
	msg, err := Latest(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := OpenCheckpoint(msg, e.vkey)
	if err != nil {
		t.Fatal(err)
	}
	// Every event's inclusion in the latest tree, recomputing its leaf from
	// the listed event.
	adm := access.WithPrincipal(e.ctx, admin())
	page, err := List(adm, Filter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range page.Items {
		proof, leaf, err := InclusionProof(e.ctx, *it.TreeIndex, cp.Size)
		if err != nil {
			t.Fatal(err)
		}
		if leaf != LeafHash(&it.Entry) {
			t.Fatalf("event %d: served leaf hash differs from the recomputed one", it.ID)
		}
		if err := tlog.CheckRecord(proof, cp.Size, cp.Root, *it.TreeIndex, leaf); err != nil {
			t.Fatalf("event %d: inclusion proof: %v", it.ID, err)
		}
		if *it.TreeIndex > 0 {
			if tlog.CheckRecord(proof, cp.Size, cp.Root, *it.TreeIndex-1, leaf) == nil {
				t.Fatalf("proof checks at the wrong index")
			}
		}
	}
	// Consistency between every stored checkpoint and the latest.
	var cps []head
	e.owner.Raw(`SELECT size, root, note FROM audit_checkpoints ORDER BY size`).Scan(&cps)
	for _, c := range cps {
		old, _ := OpenCheckpoint([]byte(c.Note), e.vkey)
		p, err := ConsistencyProof(e.ctx, old.Size, cp.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckTree(p, cp.Size, cp.Root, old.Size, old.Root); err != nil {
			t.Fatalf("consistency %d→%d: %v", old.Size, cp.Size, err)
		}
	}
	for _, bad := range [][2]int64{{0, 5}, {5, 24}, {6, 5}} {
		if _, err := ConsistencyProof(e.ctx, bad[0], bad[1]); !errors.Is(err, apperr.ErrInvalid) {
			t.Errorf("consistency %v: %v", bad, err)
		}
	}
	if _, _, err := InclusionProof(e.ctx, 23, 23); !errors.Is(err, apperr.ErrInvalid) {
		t.Errorf("inclusion of index = size: %v", err)
	}
}
