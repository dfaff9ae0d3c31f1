package cases

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/page"
	"github.com/casebridge/casebridge/internal/pgerr"
	"github.com/casebridge/casebridge/internal/store"
)

// Service runs the case actions for the principal of ctx.
type Service struct {
	log *slog.Logger
}

// NewService returns the case service.
func NewService(log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{log: log}
}

// Permissions, as cb_can names them and 403 problems show them.
const (
	PermCreate       = "case.create"
	PermEdit         = "case.edit"
	PermChangeStatus = "case.change_status"
	PermShare        = "case.share"
)

// Can asks the database whether the principal may perform action on case
// id (cb_can, migrations/00020): the one statement of ACCESS.md's action
// table. Use uuid.Nil for actions on no case (case.create).
func Can(ctx context.Context, action string, id uuid.UUID) (bool, error) {
	var arg any
	if id != uuid.Nil {
		arg = id
	}
	var ok bool
	if err := store.DB(ctx).Raw(`SELECT COALESCE(cb_can(?, ?::uuid), false)`, action, arg).Scan(&ok).Error; err != nil {
		return false, fmt.Errorf("check %s: %w", action, err)
	}
	return ok, nil
}

func require(ctx context.Context, action string, id uuid.UUID, reason string) error {
	ok, err := Can(ctx, action, id)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Forbidden(action, reason)
	}
	return nil
}

// Create opens a case owned by the principal's agency, with the next
// reference of that agency and year: <AGENCY CODE>-<YEAR>-<NNNNNN>.
func (s *Service) Create(ctx context.Context, n NewCase) (Case, error) {
	n.normalize()
	if err := n.Validate(); err != nil {
		return Case{}, fmt.Errorf("create case: %w", err)
	}
	p, _ := access.FromContext(ctx)
	var c Case
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if err := require(ctx, PermCreate, uuid.Nil,
			"Only officers and supervisors of immigration police or counter-trafficking agencies open cases."); err != nil {
			return err
		}
		var counter struct {
			Year int
			Last int64
		}
		err := store.DB(ctx).Raw(`INSERT INTO case_reference_counters AS c (agency_id, year, last)
			VALUES (cb_agency_id(), extract(year FROM now() AT TIME ZONE 'UTC')::int, 1)
			ON CONFLICT (agency_id, year) DO UPDATE SET last = c.last + 1
			RETURNING year, last`).Scan(&counter).Error
		if err != nil {
			return fmt.Errorf("next case reference: %w", err)
		}
		ref := fmt.Sprintf("%s-%d-%06d", strings.ToUpper(p.AgencyCode), counter.Year, counter.Last)
		var id uuid.UUID
		err = store.DB(ctx).Raw(`INSERT INTO cases (reference, owner_agency_id, title, kind, operation_name,
				operation_place, operation_date, summary, notes)
			VALUES (?, cb_agency_id(), ?, ?, NULLIF(?, ''), NULLIF(?, ''), ?, ?, ?) RETURNING id`,
			ref, n.Title, string(n.Kind), n.Operation.Name, n.Operation.Place, n.Operation.Date,
			n.Summary, n.Notes).Row().Scan(&id)
		if err != nil {
			return fmt.Errorf("insert case: %w", pgerr.Map(err, PermCreate))
		}
		if c, err = getCase(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "case.create", ObjectType: "case", ObjectID: id.String(),
			CaseID: id, Details: map[string]any{"reference": ref, "kind": n.Kind}})
	})
	if err != nil {
		s.refused(ctx, err, "case.create", uuid.Nil)
		return Case{}, fmt.Errorf("create case: %w", err)
	}
	return c, nil
}

// Get returns case id in the projection the principal's access allows.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Case, error) {
	var c Case
	err := store.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if c, err = getCase(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "case.read", ObjectType: "case", ObjectID: id.String(),
			CaseID: id, Details: map[string]any{"level": c.Access.Level}})
	})
	if err != nil {
		s.refused(ctx, err, "case.read", id)
		return Case{}, fmt.Errorf("get case %s: %w", id, err)
	}
	return c, nil
}

// Filter selects cases for List.
type Filter struct {
	Statuses     []Status
	Kinds        []Kind
	Owner        string // agency code
	Query        string // full text
	UpdatedSince *time.Time
	Limit        int
	Cursor       string
}

// Page is one page of a list.
type Page struct {
	Items      []Case
	NextCursor string
}

type cursorKey struct {
	UpdatedAt time.Time `json:"u"`
	ID        uuid.UUID `json:"i"`
}

// Validate returns every bad field of the filter.
func (f Filter) Validate() error {
	_, err := f.validate()
	return err
}

func (f *Filter) validate() (cursorKey, error) {
	var fs apperr.Fields
	var key cursorKey
	for _, st := range f.Statuses {
		if !st.Valid() {
			fs.Add("status", "must be one of %s", join(Statuses))
			break
		}
	}
	for _, k := range f.Kinds {
		if !k.Valid() {
			fs.Add("kind", "must be one of %s", joinKinds())
			break
		}
	}
	f.Query = strings.TrimSpace(f.Query)
	if len(f.Query) > 200 || strings.ContainsRune(f.Query, 0) {
		fs.Add("q", "must be at most 200 characters of text")
	}
	if strings.ContainsRune(f.Owner, 0) || len(f.Owner) > 40 {
		fs.Add("owner", "must be an agency code")
	}
	limit, err := page.Limit(f.Limit)
	if err != nil {
		fs = append(fs, err.(*apperr.ValidationError).Fields...) //nolint:errorlint // page.Limit returns exactly this type
	}
	f.Limit = limit
	if f.Cursor != "" {
		if err := page.Decode(f.Cursor, &key); err != nil || key.ID == uuid.Nil {
			fs.Add("cursor", "is not a cursor this list returned")
		}
	}
	return key, fs.Err()
}

// List returns the cases the principal sees, most recently updated first,
// a page at a time.
func (s *Service) List(ctx context.Context, f Filter) (Page, error) {
	key, err := f.validate()
	if err != nil {
		return Page{}, fmt.Errorf("list cases: %w", err)
	}
	var where []string
	var args []any
	if len(f.Statuses) > 0 {
		where = append(where, "c.status IN ?")
		args = append(args, strs(f.Statuses))
	}
	if len(f.Kinds) > 0 {
		where = append(where, "c.kind IN ?")
		args = append(args, strs(f.Kinds))
	}
	if f.Owner != "" {
		where = append(where, "c.owner_agency_id = (SELECT id FROM agencies WHERE code = ?)")
		args = append(args, strings.ToLower(f.Owner))
	}
	if f.Query != "" {
		where = append(where, "c.search @@ plainto_tsquery('simple', ?)")
		args = append(args, f.Query)
	}
	if f.UpdatedSince != nil {
		where = append(where, "c.updated_at >= ?")
		args = append(args, *f.UpdatedSince)
	}
	if f.Cursor != "" {
		where = append(where, "(c.updated_at, c.id) < (?, ?)")
		args = append(args, key.UpdatedAt, key.ID)
	}
	var pg Page
	err = store.WithTx(ctx, func(ctx context.Context) error {
		rows, err := listCases(ctx, where, args, f.Limit+1)
		if err != nil {
			return err
		}
		if len(rows) > f.Limit {
			rows = rows[:f.Limit]
			last := rows[len(rows)-1]
			pg.NextCursor = page.Encode(cursorKey{UpdatedAt: last.UpdatedAt, ID: last.ID})
		}
		ids := make([]string, len(rows))
		pg.Items = make([]Case, len(rows))
		for i, r := range rows {
			pg.Items[i] = r.toCase()
			ids[i] = r.ID.String()
		}
		return audit.Record(ctx, audit.Event{Action: "case.list", ObjectType: "case",
			Details: map[string]any{"ids": ids}})
	})
	if err != nil {
		return Page{}, fmt.Errorf("list cases: %w", err)
	}
	return pg, nil
}

// Update applies p to case id when its version is still version; version 0
// (If-Match: *) applies it to whatever version is current.
func (s *Service) Update(ctx context.Context, id uuid.UUID, version int, p Patch) (Case, error) {
	p.normalize()
	if err := p.Validate(); err != nil {
		return Case{}, fmt.Errorf("update case %s: %w", id, err)
	}
	var c Case
	err := store.WithTx(ctx, func(ctx context.Context) error {
		cur, err := getCase(ctx, id)
		if err != nil {
			return err
		}
		if err := require(ctx, PermEdit, id, "Only officers and supervisors of the agency that owns the case edit it."); err != nil {
			return err
		}
		if version != 0 && cur.Version != version {
			return stale(cur.Version, version)
		}
		sets := []string{"version = version + 1", "updated_at = now()"}
		var args []any
		set := func(col string, v any) { sets = append(sets, col+" = ?"); args = append(args, v) }
		if p.Title != nil {
			set("title", *p.Title)
		}
		if p.Kind != nil {
			set("kind", string(*p.Kind))
		}
		if p.Summary != nil {
			set("summary", *p.Summary)
		}
		if p.Notes != nil {
			set("notes", *p.Notes)
		}
		if p.OperationName != nil {
			set("operation_name", nullIfEmpty(*p.OperationName))
		}
		if p.OperationPlace != nil {
			set("operation_place", nullIfEmpty(*p.OperationPlace))
		}
		if p.OperationDate != nil {
			set("operation_date", *p.OperationDate)
		}
		// Version 0 (If-Match: *) writes whatever version is current.
		args = append(args, id, version)
		res := store.DB(ctx).Exec(`UPDATE cases SET `+strings.Join(sets, ", ")+` WHERE id = ? AND (version = ? OR ? = 0)`,
			append(args, version)...)
		if res.Error != nil {
			return fmt.Errorf("update case: %w", pgerr.Map(res.Error, PermEdit))
		}
		if res.RowsAffected == 0 {
			return stale(-1, version)
		}
		if c, err = getCase(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "case.update", ObjectType: "case", ObjectID: id.String(),
			CaseID: id, Details: map[string]any{"fields": p.fields(), "version": c.Version}})
	})
	if err != nil {
		s.refused(ctx, err, "case.update", id)
		return Case{}, fmt.Errorf("update case %s: %w", id, err)
	}
	return c, nil
}

func (p Patch) fields() []string {
	var out []string
	add := func(set bool, name string) {
		if set {
			out = append(out, name)
		}
	}
	add(p.Title != nil, "title")
	add(p.Kind != nil, "kind")
	add(p.Summary != nil, "summary")
	add(p.Notes != nil, "notes")
	add(p.OperationName != nil, "operation.name")
	add(p.OperationPlace != nil, "operation.place")
	add(p.OperationDate != nil, "operation.date")
	return out
}

// ChangeStatus moves case id to another status (a referral to court when
// the status is before_court) and records it in the case's history. When
// version is not nil it must be the case's version. The database refuses a
// referral while a linked person may be a trafficking victim whose
// proceedings counter-trafficking has not cleared (ErrConflict).
func (s *Service) ChangeStatus(ctx context.Context, id uuid.UUID, version *int, ch StatusChange) (Case, error) {
	ch.Note = strings.TrimSpace(ch.Note)
	if ch.LegalBasis != nil {
		lb := strings.TrimSpace(*ch.LegalBasis)
		ch.LegalBasis = &lb
	}
	if err := ch.Validate(); err != nil {
		return Case{}, fmt.Errorf("change status of case %s: %w", id, err)
	}
	var c Case
	err := store.WithTx(ctx, func(ctx context.Context) error {
		cur, err := getCase(ctx, id)
		if err != nil {
			return err
		}
		if err := require(ctx, PermChangeStatus, id,
			"Only a supervisor of the agency that owns the case changes its status or refers it to court."); err != nil {
			return err
		}
		if version != nil && cur.Version != *version {
			return stale(cur.Version, *version)
		}
		if !CanMove(cur.Status, ch.Status) {
			next := join(Next(cur.Status))
			if next == "" {
				next = "none"
			}
			return apperr.Coded(apperr.ErrConflict, "case.transition_not_allowed", "A case that is %s cannot become %s; it may become: %s.",
				cur.Status, ch.Status, next)
		}
		if ch.Status == StatusBeforeCourt {
			if err := checkCourt(ctx, *ch.CourtAgencyID); err != nil {
				return err
			}
		}
		res := store.DB(ctx).Exec(`UPDATE cases SET status = ?,
				court_agency_id = COALESCE(?::uuid, court_agency_id),
				hearing_date = COALESCE(?::date, hearing_date),
				legal_basis = COALESCE(?, legal_basis),
				version = version + 1, updated_at = now()
			WHERE id = ? AND version = ?`,
			string(ch.Status), ch.CourtAgencyID, ch.HearingDate, ch.LegalBasis, id, cur.Version)
		if res.Error != nil {
			return fmt.Errorf("update case status: %w", pgerr.Map(res.Error, PermChangeStatus))
		}
		if res.RowsAffected == 0 {
			return stale(-1, cur.Version)
		}
		err = store.DB(ctx).Exec(`INSERT INTO case_status_history (case_id, from_status, to_status, note)
			VALUES (?, ?, ?, ?)`, id, string(cur.Status), string(ch.Status), ch.Note).Error
		if err != nil {
			return fmt.Errorf("record status change: %w", pgerr.Map(err, PermChangeStatus))
		}
		if c, err = getCase(ctx, id); err != nil {
			return err
		}
		details := map[string]any{"from": cur.Status, "to": ch.Status}
		if ch.CourtAgencyID != nil {
			details["court_agency_id"] = ch.CourtAgencyID.String()
		}
		return audit.Record(ctx, audit.Event{Action: "case.status_change", ObjectType: "case",
			ObjectID: id.String(), CaseID: id, Details: details})
	})
	if err != nil {
		s.refused(ctx, err, "case.status_change", id)
		return Case{}, fmt.Errorf("change status of case %s: %w", id, err)
	}
	return c, nil
}

// checkCourt makes sure a referral names an enabled court (agencies are
// directory data every principal reads).
func checkCourt(ctx context.Context, id uuid.UUID) error {
	var kind struct {
		Kind    string
		Enabled bool
	}
	res := store.DB(ctx).Raw(`SELECT kind, enabled FROM agencies WHERE id = ?`, id).Scan(&kind)
	if res.Error != nil {
		return fmt.Errorf("load court %s: %w", id, res.Error)
	}
	switch {
	case res.RowsAffected == 0:
		return apperr.Invalid("court_agency_id", "names no agency")
	case kind.Kind != string(access.KindCourt):
		return apperr.Invalid("court_agency_id", "must name a court")
	case !kind.Enabled:
		return apperr.Invalid("court_agency_id", "names a disabled court")
	}
	return nil
}

func stale(current, sent int) error {
	if current < 0 {
		return apperr.With(apperr.ErrPreconditionFailed, "The case changed while you were saving; read it again.")
	}
	return apperr.With(apperr.ErrPreconditionFailed,
		"The case changed since you read it (you sent version %d, it is now %d); read it again.", sent, current)
}

// refused writes the audit event of a refusal: a 403, or a 404 on a case
// that exists. It runs outside the request's transaction so that it survives
// the rollback.
func (s *Service) refused(ctx context.Context, err error, action string, id uuid.UUID) {
	var outcome audit.Outcome
	switch {
	case errors.Is(err, errNoShare):
		return
	case errors.Is(err, apperr.ErrForbidden):
		outcome = audit.Denied
	case errors.Is(err, apperr.ErrNotFound) && id != uuid.Nil && Exists(ctx, id):
		outcome = audit.NotFound
	default:
		return
	}
	ev := audit.Event{Action: action, ObjectType: "case", Outcome: outcome}
	if id != uuid.Nil {
		ev.ObjectID, ev.CaseID = id.String(), id
	}
	var pe *apperr.PermissionError
	if errors.As(err, &pe) {
		ev.Details = map[string]any{"missing_permission": pe.Permission}
	}
	if rerr := audit.Record(store.Detached(ctx), ev); rerr != nil {
		s.log.ErrorContext(ctx, "audit refusal", "error", rerr.Error(), "action", action)
	}
}

// Exists asks, past row-level security, whether case id exists at all.
// Only for the audit record of a 404; never tell a client.
func Exists(ctx context.Context, id uuid.UUID) bool {
	var ok bool
	err := store.WithTx(store.Detached(ctx), func(ctx context.Context) error {
		return store.DB(ctx).Raw(`SELECT cb_case_exists(?)`, id).Scan(&ok).Error
	})
	return err == nil && ok
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}
