package imports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/pgerr"
	"github.com/casebridge/casebridge/internal/store"
)

// PermImport is the permission to run a bulk import into a case (ACCESS.md,
// Actions: officer, supervisor of the owner agency).
const PermImport = "import.run"

const reasonImport = "Only officers and supervisors of the agency that owns the case import persons into it."

// Status of an import.
const (
	StatusValidated  = "validated"  // every row is good: ready to commit
	StatusInvalid    = "invalid"    // some rows are bad: fix the file and upload it again
	StatusCommitting = "committing" // a background job is writing the rows
	StatusCommitted  = "committed"
	StatusFailed     = "failed" // the job's commit was refused; CommitError says why
)

// Match is a row whose passport is that of a person already on file and
// visible to the importer: commit links that person instead of creating one.
type Match struct {
	Line          int       `json:"line"`
	PersonID      uuid.UUID `json:"person_id"`
	AlreadyLinked bool      `json:"already_linked"`
}

// Result is what a commit did.
type Result struct {
	Created       []uuid.UUID `json:"created"`
	Linked        []uuid.UUID `json:"linked"`
	AlreadyLinked []uuid.UUID `json:"already_linked"`
}

// Import is an import and its validation report.
type Import struct {
	ID          uuid.UUID
	CaseID      uuid.UUID
	Filename    string
	Format      Format
	SHA256      string
	Size        int64
	Status      string
	TotalRows   int
	Errors      []RowError
	Matches     []Match
	Result      *Result
	CreatedAt   time.Time
	CommittedAt *time.Time
	// Progress of a commit by a background job: rows written of total.
	ProgressDone, ProgressTotal int
	// CommitError is why the last commit failed (StatusFailed).
	CommitError string
}

// BadRows is the number of distinct bad rows.
func (im Import) BadRows() int {
	lines := map[int]bool{}
	for _, e := range im.Errors {
		lines[e.Line] = true
	}
	return len(lines)
}

// Service runs imports for the principal of ctx.
type Service struct {
	lim       Limits
	mandatory []string
	log       *slog.Logger
}

// NewService returns the import service.
func NewService(lim Limits, mandatory []string, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{lim: lim, mandatory: slices.Clone(mandatory), log: log}
}

// Limits returns the service's limits.
func (s *Service) Limits() Limits { return s.lim }

// File is the uploaded file: its name and its bytes (read up to the limit).
type File struct {
	Name string
	Body io.Reader
}

// requireImport: the case is visible (else 404) and the principal may
// import into it (else 403).
func requireImport(ctx context.Context, caseID uuid.UUID) error {
	var n int64
	if err := store.DB(ctx).Raw(`SELECT count(*) FROM cases WHERE id = ?`, caseID).Scan(&n).Error; err != nil {
		return fmt.Errorf("load case %s: %w", caseID, err)
	}
	if n == 0 {
		return fmt.Errorf("case %s: %w", caseID, apperr.ErrNotFound)
	}
	var ok bool
	if err := store.DB(ctx).Raw(`SELECT cb_can_import(?)`, caseID).Scan(&ok).Error; err != nil {
		return fmt.Errorf("check import on case %s: %w", caseID, err)
	}
	if !ok {
		return apperr.Forbidden(PermImport, reasonImport)
	}
	return nil
}

// Create checks the principal may import into caseID, then reads the file
// (open is called only then), checks every row and stores the import with
// its report. A file that cannot be read at all (encoding, header, size,
// formulas, zip bomb) is an error and stores nothing.
func (s *Service) Create(ctx context.Context, caseID uuid.UUID, open func() (File, error)) (Import, error) {
	err := store.WithTx(ctx, func(ctx context.Context) error { return requireImport(ctx, caseID) })
	if err != nil {
		s.refused(ctx, err, caseID)
		return Import{}, fmt.Errorf("import: %w", err)
	}
	f, err := open()
	if err != nil {
		return Import{}, fmt.Errorf("import: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(f.Body, s.lim.MaxBytes+1))
	if err != nil {
		var me interface{ Error() string }
		if errors.As(err, &me) && me.Error() == "http: request body too large" {
			return Import{}, apperr.With(apperr.ErrTooLarge, "The import file exceeds the limit of %d bytes.", s.lim.MaxBytes)
		}
		return Import{}, fmt.Errorf("import: read file: %w", err)
	}
	return s.create(ctx, caseID, f.Name, data)
}

func (s *Service) create(ctx context.Context, caseID uuid.UUID, name string, data []byte) (Import, error) {
	if len(name) > 255 {
		name = name[:255]
	}
	t, err := read(data, name, s.lim)
	if err != nil {
		return Import{}, fmt.Errorf("import: %w", err)
	}
	sum := sha256.Sum256(data)
	im := Import{CaseID: caseID, Filename: name, Format: t.Format, SHA256: hex.EncodeToString(sum[:]),
		Size: int64(len(data)), TotalRows: len(t.Rows)}
	err = store.WithTx(ctx, func(ctx context.Context) error {
		if err := requireImport(ctx, caseID); err != nil {
			return err
		}
		var names []string
		if err := store.DB(ctx).Raw(`SELECT name FROM facilities`).Scan(&names).Error; err != nil {
			return fmt.Errorf("load facilities: %w", err)
		}
		facilities := map[string]bool{}
		for _, n := range names {
			facilities[n] = true
		}
		rows, bad := checkRows(t, facilities, s.mandatory, time.Now())
		matches, unlinkable, err := findMatches(ctx, caseID, rows)
		if err != nil {
			return err
		}
		bad = append(bad, unlinkable...)
		slices.SortStableFunc(bad, func(a, b RowError) int { return a.Line - b.Line })
		im.Errors, im.Matches = bad, matches
		if im.Errors == nil {
			im.Errors = []RowError{}
		}
		im.Status = StatusValidated
		if len(bad) > 0 {
			im.Status, rows = StatusInvalid, nil
		}
		errJSON, _ := json.Marshal(im.Errors)
		rowsJSON, err := json.Marshal(rows)
		if err != nil {
			return fmt.Errorf("encode rows: %w", err)
		}
		if rows == nil {
			rowsJSON = []byte("[]")
		}
		err = store.DB(ctx).Raw(`INSERT INTO imports (case_id, agency_id, created_by, filename, format, sha256, size,
				status, total_rows, errors, rows)
			VALUES (?, cb_agency_id(), cb_user_id(), ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb) RETURNING id, created_at`,
			caseID, im.Filename, string(im.Format), im.SHA256, im.Size, im.Status, im.TotalRows,
			string(errJSON), string(rowsJSON)).Row().Scan(&im.ID, &im.CreatedAt)
		if err != nil {
			return fmt.Errorf("insert import: %w", pgerr.Map(err, PermImport))
		}
		return audit.Record(ctx, audit.Event{Action: "import.validate", ObjectType: "import", ObjectID: im.ID.String(),
			CaseID: caseID, Details: map[string]any{"format": im.Format, "sha256": im.SHA256, "size": im.Size,
				"rows": im.TotalRows, "bad_rows": im.BadRows(), "matches": len(im.Matches)}})
	})
	if err != nil {
		s.refused(ctx, err, caseID)
		return Import{}, fmt.Errorf("import: %w", err)
	}
	return im, nil
}

// findMatches looks up the rows' passports among the persons the principal
// sees. A match seen in full is linked on commit; one seen only in the
// summary projection cannot be linked and is reported as a bad row.
func findMatches(ctx context.Context, caseID uuid.UUID, rows []Row) ([]Match, []RowError, error) {
	type key struct {
		Number      string `json:"number"`
		Nationality string `json:"nationality"`
	}
	var keys []key
	lines := map[passportKey]int{}
	for _, r := range rows {
		if k, ok := r.passport(); ok {
			keys = append(keys, key(k))
			lines[k] = r.Line
		}
	}
	matches := []Match{}
	if len(keys) == 0 {
		return matches, nil, nil
	}
	keysJSON, err := json.Marshal(keys)
	if err != nil {
		return nil, nil, fmt.Errorf("encode passports: %w", err)
	}
	var found []struct {
		ID             uuid.UUID
		PassportNumber string
		Nationality    string
		Access         string
		Linked         bool
	}
	err = store.DB(ctx).Raw(`SELECT p.id, p.passport_number, p.nationality, cb_person_access(p.id) AS access,
			EXISTS (SELECT 1 FROM case_persons cp WHERE cp.case_id = ? AND cp.person_id = p.id) AS linked
		FROM persons p JOIN jsonb_to_recordset(?::jsonb) AS k(number text, nationality text)
		  ON p.passport_number = k.number AND p.nationality = k.nationality
		WHERE p.passport_number <> ''
		ORDER BY p.created_at, p.id`, caseID, string(keysJSON)).Scan(&found).Error
	if err != nil {
		return nil, nil, fmt.Errorf("find existing persons: %w", err)
	}
	var bad []RowError
	seen := map[passportKey]bool{}
	for _, f := range found {
		k := passportKey{f.PassportNumber, f.Nationality}
		if seen[k] {
			continue // several persons on file with one passport: the oldest
		}
		seen[k] = true
		if f.Access != "full" {
			bad = append(bad, RowError{Line: lines[k], Column: "passport_number",
				Reason: "matches a person on file that you cannot link (you see only a summary of them); ask the agency that records them"})
			continue
		}
		matches = append(matches, Match{Line: lines[k], PersonID: f.ID, AlreadyLinked: f.Linked})
	}
	slices.SortFunc(matches, func(a, b Match) int { return a.Line - b.Line })
	return matches, bad, nil
}

type importRow struct {
	ID            uuid.UUID
	CaseID        uuid.UUID
	Filename      string
	Format        string
	SHA256        string `gorm:"column:sha256"`
	Size          int64
	Status        string
	TotalRows     int
	Errors        []byte
	Rows          []byte
	Result        []byte
	CreatedAt     time.Time
	CommittedAt   *time.Time
	LinkExisting  bool
	ProgressDone  int
	ProgressTotal int
	CommitError   *string
}

func loadImport(ctx context.Context, id uuid.UUID, lock bool) (importRow, error) {
	q := `SELECT id, case_id, filename, format, sha256, size, status, total_rows, errors::text AS errors,
		rows::text AS rows, result::text AS result, created_at, committed_at, link_existing,
		progress_done, progress_total, commit_error FROM imports WHERE id = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	var rs []importRow
	if err := store.DB(ctx).Raw(q, id).Scan(&rs).Error; err != nil {
		return importRow{}, fmt.Errorf("load import %s: %w", id, err)
	}
	if len(rs) == 0 {
		return importRow{}, fmt.Errorf("import %s: %w", id, apperr.ErrNotFound)
	}
	return rs[0], nil
}

func (r importRow) toImport() (Import, error) {
	im := Import{ID: r.ID, CaseID: r.CaseID, Filename: r.Filename, Format: Format(r.Format), SHA256: r.SHA256,
		Size: r.Size, Status: r.Status, TotalRows: r.TotalRows, CreatedAt: r.CreatedAt, CommittedAt: r.CommittedAt,
		ProgressDone: r.ProgressDone, ProgressTotal: r.ProgressTotal}
	if r.CommitError != nil {
		im.CommitError = *r.CommitError
	}
	if err := json.Unmarshal(r.Errors, &im.Errors); err != nil {
		return im, fmt.Errorf("decode import errors: %w", err)
	}
	if len(r.Result) > 0 {
		im.Result = &Result{}
		if err := json.Unmarshal(r.Result, im.Result); err != nil {
			return im, fmt.Errorf("decode import result: %w", err)
		}
	}
	return im, nil
}

// Get returns import id with its report; the matches are looked up now.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Import, error) {
	var im Import
	err := store.WithTx(ctx, func(ctx context.Context) error {
		r, err := loadImport(ctx, id, false)
		if err != nil {
			return err
		}
		if im, err = r.toImport(); err != nil {
			return err
		}
		im.Matches = []Match{}
		if im.Status == StatusValidated {
			var rows []Row
			if err := json.Unmarshal(r.Rows, &rows); err != nil {
				return fmt.Errorf("decode import rows: %w", err)
			}
			if im.Matches, _, err = findMatches(ctx, im.CaseID, rows); err != nil {
				return err
			}
		}
		return audit.Record(ctx, audit.Event{Action: "import.read", ObjectType: "import", ObjectID: id.String(), CaseID: im.CaseID})
	})
	if err != nil {
		return Import{}, fmt.Errorf("get import %s: %w", id, err)
	}
	return im, nil
}

// refused records a refused import (403, or 404 on a case that exists).
func (s *Service) refused(ctx context.Context, err error, caseID uuid.UUID) {
	var outcome audit.Outcome
	switch {
	case errors.Is(err, apperr.ErrForbidden):
		outcome = audit.Denied
	case errors.Is(err, apperr.ErrNotFound) && caseID != uuid.Nil:
		var exists bool
		if store.DB(store.Detached(ctx)).Raw(`SELECT cb_case_exists(?)`, caseID).Scan(&exists).Error != nil || !exists {
			return
		}
		outcome = audit.NotFound
	default:
		return
	}
	ev := audit.Event{Action: "import.create", ObjectType: "case", Outcome: outcome}
	if caseID != uuid.Nil {
		ev.ObjectID, ev.CaseID = caseID.String(), caseID
	}
	var pe *apperr.PermissionError
	if errors.As(err, &pe) {
		ev.Details = map[string]any{"missing_permission": pe.Permission}
	}
	if rerr := audit.Record(store.Detached(ctx), ev); rerr != nil {
		s.log.ErrorContext(ctx, "audit refusal", "error", rerr.Error())
	}
}
