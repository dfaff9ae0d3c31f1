package audit

import (
	"context"
	"testing"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/store"
)

// BenchmarkSequencer measures integrating a backlog, per event.
//
//	go test -run '^$' -bench Sequencer -benchtime 20000x ./internal/audit/
func BenchmarkSequencer(b *testing.B) {
	d := newBenchEnv(b)
	ctx := access.WithPrincipal(d.ctx, officer([16]byte{1}))
	err := store.WithTx(ctx, func(ctx context.Context) error {
		return store.DB(ctx).Exec(`INSERT INTO audit_events (actor_user_id, agency_id, agency_code, action, object_type, object_id, case_id, outcome, request_id, client_addr, details)
			SELECT gen_random_uuid(), gen_random_uuid(), 'kh-imm', 'case.read', 'case', g::text, gen_random_uuid(), 'ok', 'req', '192.0.2.1', '{"fields": ["status"]}'
			FROM generate_series(1, $1::int) g`, b.N).Error
	})
	if err != nil {
		b.Fatal(err)
	}
	s := &Sequencer{Signer: d.signer, BatchSize: 2000}
	b.ResetTimer()
	n, err := s.Drain(d.ctx)
	if err != nil || n != b.N {
		b.Fatalf("drained %d of %d: %v", n, b.N, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
