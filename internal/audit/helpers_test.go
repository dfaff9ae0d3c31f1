package audit

import (
	"encoding/json"
	"net/http"

	"context"
	"fmt"
	"golang.org/x/mod/sumdb/tlog"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

// env is one fresh database with an app connection, an owner connection
// and a signer.
type env struct {
	t      *testing.T
	dbinfo testenv.Database
	app    *gorm.DB
	owner  *gorm.DB
	ctx    context.Context
	signer *Signer
	vkey   string
}

func newEnv(t *testing.T) *env { return newEnvTB(t, t) }

// newBenchEnv is newEnv for benchmarks (no *testing.T helpers used).
func newBenchEnv(b *testing.B) *env { return newEnvTB(b, nil) }

func newEnvTB(tb testing.TB, t *testing.T) *env {
	tb.Helper()
	d := testenv.NewDatabase(tb)
	e := &env{t: t, dbinfo: d, app: testenv.Open(tb, d.AppURL), owner: testenv.Open(tb, d.OwnerURL)}
	e.ctx = testenv.Context(tb, e.app)
	skey, vkey, err := GenerateKey("casebridge.test/audit")
	if err != nil {
		tb.Fatal(err)
	}
	e.vkey = vkey
	if e.signer, err = NewSigner(skey); err != nil {
		tb.Fatal(err)
	}
	return e
}

func officer(agency uuid.UUID) access.Principal {
	return access.Principal{
		UserID: uuid.New(), Issuer: "https://idp.test", Subject: "officer", Name: "Officer",
		AgencyID: agency, AgencyCode: "kh-imm", Kind: access.KindImmigrationPolice,
		Roles: []access.Role{access.RoleOfficer},
	}
}

func admin() access.Principal {
	return access.Principal{
		UserID: uuid.New(), Issuer: "https://idp.test", Subject: "admin", Name: "Admin",
		AgencyID: uuid.New(), AgencyCode: "kh-moi", Kind: access.KindInteriorMinistry,
		Roles: []access.Role{access.RoleAdmin},
	}
}

// record writes n events as p, one transaction each, and fails t on error.
func (e *env) record(p access.Principal, n int) {
	e.t.Helper()
	ctx := access.WithPrincipal(WithRequestInfo(e.ctx, "req", "192.0.2.1"), p)
	for i := range n {
		err := store.WithTx(ctx, func(ctx context.Context) error {
			return Record(ctx, Event{Action: "case.read", ObjectType: "case", ObjectID: fmt.Sprint(i),
				CaseID: uuid.New(), Details: map[string]any{"i": i, "note": "é\"<>"}})
		})
		if err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) sequencer() *Sequencer { return &Sequencer{Signer: e.signer, BatchSize: 7} }

func (e *env) drain() int {
	e.t.Helper()
	n, err := e.sequencer().Drain(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// ownerExec runs SQL as the database owner (tamper tests).
func (e *env) ownerExec(sql string, args ...any) {
	e.t.Helper()
	if err := e.owner.Exec(sql, args...).Error; err != nil {
		e.t.Fatalf("owner: %s: %v", sql, err)
	}
}

func storedIndex(i int64) int64 { return tlog.StoredHashIndex(0, i) }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
