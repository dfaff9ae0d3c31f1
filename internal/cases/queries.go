package cases

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/store"
)

// caseRow is one row of selectCases. Every column of the case is read;
// toCase keeps what the access level the database reports allows.
type caseRow struct {
	ID             uuid.UUID  `gorm:"column:id"`
	Reference      string     `gorm:"column:reference"`
	Title          string     `gorm:"column:title"`
	Kind           string     `gorm:"column:kind"`
	Status         string     `gorm:"column:status"`
	Summary        string     `gorm:"column:summary"`
	Notes          string     `gorm:"column:notes"`
	OperationName  *string    `gorm:"column:operation_name"`
	OperationPlace *string    `gorm:"column:operation_place"`
	OperationDate  *time.Time `gorm:"column:operation_date"`
	LegalBasis     *string    `gorm:"column:legal_basis"`
	HearingDate    *time.Time `gorm:"column:hearing_date"`
	PossibleVictim bool       `gorm:"column:possible_victim"`
	Version        int        `gorm:"column:version"`
	CreatedAt      time.Time  `gorm:"column:created_at"`
	UpdatedAt      time.Time  `gorm:"column:updated_at"`
	OwnerID        uuid.UUID  `gorm:"column:owner_id"`
	OwnerCode      string     `gorm:"column:owner_code"`
	OwnerName      string     `gorm:"column:owner_name"`
	OwnerKind      string     `gorm:"column:owner_kind"`
	CourtID        *uuid.UUID `gorm:"column:court_id"`
	CourtCode      *string    `gorm:"column:court_code"`
	CourtName      *string    `gorm:"column:court_name"`
	AccessLevel    string     `gorm:"column:access_level"`
	AccessCeiling  *string    `gorm:"column:access_ceiling"`
	PersonsCount   int        `gorm:"column:persons_count"`
}

// selectCases reads cases under the principal's row-level security, with
// the principal's access to each (cb_case_access) and the linked persons
// the principal sees.
const selectCases = `SELECT c.id, c.reference, c.title, c.kind, c.status, c.summary, c.notes,
	c.operation_name, c.operation_place, c.operation_date, c.legal_basis, c.hearing_date,
	c.possible_victim, c.version, c.created_at, c.updated_at,
	o.id AS owner_id, o.code AS owner_code, o.name AS owner_name, o.kind AS owner_kind,
	ct.id AS court_id, ct.code AS court_code, ct.name AS court_name,
	a.level AS access_level, cb_class_name(a.ceiling) AS access_ceiling,
	(SELECT count(*) FROM case_persons cp WHERE cp.case_id = c.id) AS persons_count
FROM cases c
JOIN agencies o ON o.id = c.owner_agency_id
LEFT JOIN agencies ct ON ct.id = c.court_agency_id
CROSS JOIN LATERAL cb_case_access(c.id) a`

func queryCases(ctx context.Context, where []string, args []any, order string, limit int) ([]caseRow, error) {
	q := selectCases
	if len(where) > 0 {
		q += "\nWHERE " + strings.Join(where, " AND ")
	}
	q += "\n" + order
	if limit > 0 {
		q += fmt.Sprintf("\nLIMIT %d", limit)
	}
	return scanCases(ctx, q, args)
}

// scanCases runs q and scans its rows (selectCases' columns, in order)
// without GORM's reflection, which took a quarter of a case list's CPU.
func scanCases(ctx context.Context, q string, args []any) ([]caseRow, error) {
	rows, err := store.DB(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("query cases: %w", err)
	}
	defer rows.Close()
	var out []caseRow
	for rows.Next() {
		var r caseRow
		if err := rows.Scan(&r.ID, &r.Reference, &r.Title, &r.Kind, &r.Status, &r.Summary, &r.Notes,
			&r.OperationName, &r.OperationPlace, &r.OperationDate, &r.LegalBasis, &r.HearingDate,
			&r.PossibleVictim, &r.Version, &r.CreatedAt, &r.UpdatedAt,
			&r.OwnerID, &r.OwnerCode, &r.OwnerName, &r.OwnerKind,
			&r.CourtID, &r.CourtCode, &r.CourtName,
			&r.AccessLevel, &r.AccessCeiling, &r.PersonsCount); err != nil {
			return nil, fmt.Errorf("scan cases: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query cases: %w", err)
	}
	return out, nil
}

// ListSQL is the statement of a page of the case list: the cases matching
// every condition of where, most recently updated first, at most limit.
// Its two branches are chosen by cb_sees_only_shared_cases() (an InitPlan,
// evaluated once; the branch whose one-time filter is false never runs):
// a principal who sees cases only through shares (an embassy) starts from
// its shares, a handful of rows, instead of walking every case in list
// order through the policy; everyone else walks the list index as before.
// Row-Level Security filters both. The arguments of where are needed twice:
// ListArgs.
func ListSQL(where []string, limit int) string {
	cond := ""
	if len(where) > 0 {
		cond = " AND " + strings.Join(where, " AND ")
	}
	// Each branch is ordered and limited on its own, so the usual one
	// plans exactly as the list always did (the list index, walked under
	// the LIMIT), and the outer sort sees at most one page.
	page := fmt.Sprintf("\nORDER BY c.updated_at DESC, c.id DESC LIMIT %d", limit)
	return "(" + selectCases + "\nWHERE NOT (SELECT cb_sees_only_shared_cases())" + cond + page + ")" +
		"\nUNION ALL\n(" + selectCases +
		"\nWHERE (SELECT cb_sees_only_shared_cases()) AND c.id IN (SELECT sc FROM cb_shared_cases() sc)" + cond + page + ")" +
		fmt.Sprintf("\nORDER BY updated_at DESC, id DESC LIMIT %d", limit)
}

// ListArgs are the arguments of ListSQL for where's arguments args.
func ListArgs(args []any) []any {
	return append(append(make([]any, 0, 2*len(args)), args...), args...)
}

func listCases(ctx context.Context, where []string, args []any, limit int) ([]caseRow, error) {
	return scanCases(ctx, ListSQL(where, limit), ListArgs(args))
}

// getCase is the list filtered by id: a case the principal has no grant
// on does not exist (ErrNotFound).
func getCase(ctx context.Context, id uuid.UUID) (Case, error) {
	rows, err := queryCases(ctx, []string{"c.id = ?"}, []any{id}, "", 0)
	if err != nil {
		return Case{}, err
	}
	if len(rows) == 0 {
		return Case{}, fmt.Errorf("case %s: %w", id, apperr.ErrNotFound)
	}
	return rows[0].toCase(), nil
}

// toCase shapes the projection: the summary fields for any grant, the
// details only when the database reports a full grant.
func (r caseRow) toCase() Case {
	c := Case{
		ID: r.ID, Reference: r.Reference, Title: r.Title, Kind: Kind(r.Kind), Status: Status(r.Status),
		Owner:       AgencyRef{ID: r.OwnerID, Code: r.OwnerCode, Name: r.OwnerName, Kind: access.Kind(r.OwnerKind)},
		HearingDate: r.HearingDate, UpdatedAt: r.UpdatedAt, Version: r.Version,
		Access: Access{Level: Level(r.AccessLevel)},
	}
	if r.CourtID != nil {
		c.Court = &AgencyRef{ID: *r.CourtID, Code: deref(r.CourtCode), Name: deref(r.CourtName), Kind: access.KindCourt}
	}
	if c.Access.Level != LevelFull {
		c.Access.Level = LevelSummary
		return c
	}
	if r.AccessCeiling != nil {
		cl := access.Classification(*r.AccessCeiling)
		c.Access.Ceiling = &cl
	}
	c.Details = &Details{
		Summary: r.Summary, Notes: r.Notes,
		Operation:  Operation{Name: deref(r.OperationName), Place: deref(r.OperationPlace), Date: r.OperationDate},
		LegalBasis: deref(r.LegalBasis), PersonsCount: r.PersonsCount, PossibleVictim: r.PossibleVictim,
		CreatedAt: r.CreatedAt,
	}
	return c
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
