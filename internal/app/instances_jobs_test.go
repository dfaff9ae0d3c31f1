package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/authztest"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/imports"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

// Two instances work one job queue at once: each job is run by one of
// them, once. Here the jobs are background import commits (every import of
// more than one row is one): each import ends committed, its persons are
// created once, and one import.commit event records it.
func TestTwoInstancesRunEachJobOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("drill")
	}
	t.Parallel()
	d := testenv.NewDatabase(t)
	owner := testenv.Open(t, d.OwnerURL)
	w := authztest.New()
	w.Insert(t, owner)
	cfg := config.Default()
	cfg.Database.URL = d.AppURL
	cfg.Blob.Dir = t.TempDir()
	cfg.Jobs.PollInterval = 20 * time.Millisecond
	cfg.Imports.JobAboveRows = 1
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for range 2 {
		prog, err := app.New(cfg, testenv.Open(t, d.AppURL), quiet)
		if err != nil {
			t.Fatal(err)
		}
		stop, err := prog.StartJobs(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			_ = stop(ctx)
		})
	}

	ctx := access.WithPrincipal(store.WithDB(t.Context(), testenv.Open(t, d.AppURL)), w.Principal("gdi-officer").Access())
	svc := imports.NewService(imports.LimitsFrom(cfg.Imports), nil, quiet)
	const n, rows = 12, 30
	ids := make([]uuid.UUID, n)
	for i := range n {
		var b strings.Builder
		b.WriteString("family_name,given_names,nationality,passport_number,custody_status,facility,detained_at\n")
		for r := range rows {
			fmt.Fprintf(&b, "Wang,Wei %d,CN,T%02d%04d,detained,Phnom Penh IDC,2026-11-14T06:30:00+07:00\n", r, i, r)
		}
		im, err := svc.Create(ctx, w.Case("owned").ID, func() (imports.File, error) {
			return imports.File{Name: "raid.csv", Body: bytes.NewReader([]byte(b.String()))}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := svc.Commit(ctx, im.ID, false); err != nil || got.Status != imports.StatusCommitting {
			t.Fatalf("commit %d: %v %s", i, err, got.Status)
		}
		ids[i] = im.ID
	}
	count := func(q string, args ...any) int64 {
		t.Helper()
		var c int64
		if err := owner.Raw(q, args...).Scan(&c).Error; err != nil {
			t.Fatal(err)
		}
		return c
	}
	waitFor(t, "every import to be committed and its job completed", 120*time.Second, func() bool {
		return count(`SELECT count(*) FROM imports WHERE id = ANY(?) AND status = 'committed'`, uuidArray(ids)) == n &&
			count(`SELECT count(*) FROM river_job WHERE kind = 'imports.commit' AND finalized_at IS NOT NULL`) == n
	})
	if got := count(`SELECT count(*) FROM persons WHERE passport_number LIKE 'T%'`); got != n*rows {
		t.Errorf("%d persons, want %d: a job ran twice or not at all", got, n*rows)
	}
	if got := count(`SELECT count(*) FROM audit_events WHERE action = 'import.commit' AND object_id = ANY(?)`, uuidArray(ids)); got != n {
		t.Errorf("%d import.commit events, want %d", got, n)
	}
	if got := count(`SELECT count(*) FROM river_job WHERE kind = 'imports.commit' AND (state <> 'completed' OR attempt <> 1)`); got != 0 {
		var errs []string
		_ = owner.Raw(`SELECT state::text || ' ' || attempt || ' ' || coalesce(array_to_string(errors, ' | '), '') FROM river_job
			WHERE kind = 'imports.commit' AND (state <> 'completed' OR attempt <> 1)`).Scan(&errs).Error
		t.Errorf("%d import jobs not completed at their first attempt (a second run, or a failure): %v", got, errs)
	}
}

// uuidArray is ids as a PostgreSQL array literal.
func uuidArray(ids []uuid.UUID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return "{" + strings.Join(s, ",") + "}"
}
