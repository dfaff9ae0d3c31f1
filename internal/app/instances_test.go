package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

// Two `serve` instances on one database and one document store under
// concurrent load: every request is sent to both at once with one
// Idempotency-Key (a client retrying through a load balancer), and both
// instances' audit sequencers run at the same time. Nothing is duplicated
// or lost, every document version has its bytes, and the audit log
// verifies with each event sequenced once.
func TestTwoInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("drill")
	}
	t.Parallel()
	a := newCaseAPI(t, nil)
	progB, err := app.New(a.cfg, testenv.Open(t, a.appURL), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srvB := httptest.NewServer(progB.HTTP.Handler())
	t.Cleanup(srvB.Close)
	b := *a
	b.base = srvB.URL
	b.http = srvB.Client()

	owned := a.w.Case("owned").ID.String()
	const rounds = 12
	var wg sync.WaitGroup
	type pair struct{ a, b response }
	cases := make([]pair, rounds)
	docs := make([]pair, rounds)
	for i := range rounds {
		key := fmt.Sprintf("two-%d", i)
		body := `{"title": "two instances ` + key + `", "kind": "trafficking"}`
		wg.Add(4)
		go func() {
			defer wg.Done()
			cases[i].a = a.request("gdi-officer", "POST", "/api/v1/cases", body, "Idempotency-Key", key)
		}()
		go func() {
			defer wg.Done()
			cases[i].b = b.request("gdi-officer", "POST", "/api/v1/cases", body, "Idempotency-Key", key)
		}()
		meta := `{"title": "doc ` + key + `", "kind": "other", "classification": "restricted"}`
		pdf := "%PDF-1.4\n% " + key + "\n"
		path := "/api/v1/cases/" + owned + "/documents"
		go func() {
			defer wg.Done()
			docs[i].a = a.upload("gdi-officer", path, meta, "d.pdf", pdf, "Idempotency-Key", "doc-"+key)
		}()
		go func() {
			defer wg.Done()
			docs[i].b = b.upload("gdi-officer", path, meta, "d.pdf", pdf, "Idempotency-Key", "doc-"+key)
		}()
	}
	wg.Wait()
	for i := range rounds {
		for what, p := range map[string]pair{"case": cases[i], "document": docs[i]} {
			if p.a.status != 201 || p.b.status != 201 {
				t.Errorf("%s %d: %d on A, %d on B\n%s\n%s", what, i, p.a.status, p.b.status, p.a.body, p.b.body)
				continue
			}
			if p.a.header.Get("Location") != p.b.header.Get("Location") {
				t.Errorf("%s %d: two objects for one key: %s and %s", what, i, p.a.header.Get("Location"), p.b.header.Get("Location"))
			}
		}
	}
	var nCases, nDocs int
	a.owner.Raw(`SELECT count(*) FROM cases WHERE title LIKE 'two instances %'`).Scan(&nCases)
	a.owner.Raw(`SELECT count(*) FROM documents WHERE title LIKE 'doc two-%'`).Scan(&nDocs)
	if nCases != rounds || nDocs != rounds {
		t.Errorf("%d cases and %d documents for %d keys each", nCases, nDocs, rounds)
	}
	// Every version's bytes are in the store.
	store1, _ := blob.NewLocal(a.cfg.Blob.Dir)
	var shas []string
	a.owner.Raw(`SELECT sha256 FROM document_versions`).Scan(&shas)
	for _, s := range shas {
		if _, err := store1.Stat(context.Background(), s); err != nil {
			t.Errorf("version bytes %s: %v", s, err)
		}
	}
	// Both instances' sequencers at once.
	signer, _ := audit.NewSigner(drillAuditKey)
	ctxA := store.WithDB(t.Context(), testenv.Open(t, a.appURL))
	ctxB := store.WithDB(t.Context(), testenv.Open(t, a.appURL))
	var sw sync.WaitGroup
	for _, ctx := range []context.Context{ctxA, ctxB} {
		sw.Add(1)
		go func() {
			defer sw.Done()
			if _, err := (&audit.Sequencer{Signer: signer, BatchSize: 7}).Drain(ctx); err != nil {
				t.Errorf("drain: %v", err)
			}
		}()
	}
	sw.Wait()
	var events, leaves, dupLeaves int
	a.owner.Raw(`SELECT count(*) FROM audit_events`).Scan(&events)
	a.owner.Raw(`SELECT count(*), count(*) - count(DISTINCT event_id) FROM audit_leaves`).Row().Scan(&leaves, &dupLeaves) //nolint:errcheck
	if leaves != events || dupLeaves != 0 {
		t.Errorf("%d events, %d leaves (%d duplicate)", events, leaves, dupLeaves)
	}
	rep, err := audit.Verify(ctxA, audit.VerifyOptions{VerifierKey: signer.VerifierKey()})
	if err != nil || !rep.OK {
		t.Errorf("audit verify: %+v %v", rep, err)
	}
}
