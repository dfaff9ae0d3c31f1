package persons

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/cases"
	"github.com/casebridge/casebridge/internal/page"
	"github.com/casebridge/casebridge/internal/pgerr"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/validate"
)

// Service runs the person actions for the principal of ctx.
type Service struct {
	mandatory []string
	log       *slog.Logger
}

// NewService returns the person service. mandatory are the countries whose
// nationals' consular notification is mandatory (consular.mandatory_countries).
func NewService(mandatory []string, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{mandatory: slices.Clone(mandatory), log: log}
}

// Permissions, as the database names them in cb_can and its guards.
const (
	PermCreate         = "case.create"
	PermEdit           = "case.edit"
	PermScreen         = "person.screen"
	PermScreeningRead  = "person.screening.read"
	PermFlagSuspected  = "person.flag_suspected"
	PermConsularRead   = "consular.read"
	permConsularReason = "Only liaison officers of an embassy use the consular view."
)

// canPerson asks cb_can_person (migrations/00020) whether the principal may
// perform action on person id.
func canPerson(ctx context.Context, action string, id uuid.UUID) (bool, error) {
	var ok bool
	if err := store.DB(ctx).Raw(`SELECT COALESCE(cb_can_person(?, ?), false)`, action, id).Scan(&ok).Error; err != nil {
		return false, fmt.Errorf("check %s on person %s: %w", action, id, err)
	}
	return ok, nil
}

// notification is the consular notification a person of nationality gets
// when the caller asks for want.
func (s *Service) notification(nationality string, want Notification) Notification {
	if slices.Contains(s.mandatory, nationality) {
		return NotificationMandatory
	}
	if want == NotificationMandatory || want == "" {
		return NotificationRequested
	}
	return want
}

// NewLink links a person to a case as it is created.
type NewLink struct {
	CaseID uuid.UUID
	Role   Role
}

// Create records a new person, created by the principal's agency, and
// links it to a case when link is not nil. The person starts unscreened.
func (s *Service) Create(ctx context.Context, f Fields, link *NewLink) (Person, error) {
	f.normalize()
	if err := f.Validate(true, time.Now()); err != nil {
		return Person{}, fmt.Errorf("create person: %w", err)
	}
	if link != nil && !slices.Contains(Roles, link.Role) {
		return Person{}, fmt.Errorf("create person: %w", apperr.Invalid("role", "must be one of %s", join(Roles)))
	}
	want := NotificationRequested
	if f.ConsularNotification != nil {
		want = *f.ConsularNotification
	}
	note := s.notification(*f.Nationality, want)
	f.ConsularNotification = &note
	var p Person
	var refusedCase uuid.UUID
	err := store.WithTx(ctx, func(ctx context.Context) error {
		ok, err := cases.Can(ctx, PermCreate, uuid.Nil)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.Forbidden(PermCreate, "Only officers and supervisors of immigration police or counter-trafficking agencies record persons.")
		}
		if link != nil {
			refusedCase = link.CaseID
			if err := requireCaseEdit(ctx, link.CaseID); err != nil {
				return err
			}
		}
		cols, vals := f.columns()
		cols = append(cols, "created_by_agency_id")
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(cols)-1), ", ")
		var id uuid.UUID
		err = store.DB(ctx).Raw(`INSERT INTO persons (`+strings.Join(cols, ", ")+`)
			VALUES (`+marks+`, cb_agency_id()) RETURNING id`, vals...).Row().Scan(&id)
		if err != nil {
			return fmt.Errorf("insert person: %w", pgerr.Map(err, PermCreate))
		}
		if link != nil {
			if err := insertLink(ctx, link.CaseID, id, link.Role); err != nil {
				return err
			}
		}
		if p, err = getPerson(ctx, id); err != nil {
			return err
		}
		ev := audit.Event{Action: "person.create", ObjectType: "person", ObjectID: id.String(),
			Details: map[string]any{"nationality": p.Nationality}}
		if link != nil {
			ev.CaseID = link.CaseID
		}
		return audit.Record(ctx, ev)
	})
	if err != nil {
		s.refused(ctx, err, "person.create", "case", refusedCase)
		return Person{}, fmt.Errorf("create person: %w", err)
	}
	return p, nil
}

// columns lists the given fields as columns and values for an INSERT or
// UPDATE (nil dates as NULL).
func (f Fields) columns() ([]string, []any) {
	var cols []string
	var vals []any
	str := func(col string, v *string) {
		if v != nil {
			cols, vals = append(cols, col), append(vals, *v)
		}
	}
	date := func(col string, v **time.Time) {
		if v != nil {
			cols, vals = append(cols, col), append(vals, *v)
		}
	}
	str("family_name", f.FamilyName)
	str("given_names", f.GivenNames)
	str("family_name_native", f.FamilyNameNative)
	str("given_names_native", f.GivenNamesNative)
	if f.Sex != nil {
		cols, vals = append(cols, "sex"), append(vals, string(*f.Sex))
	}
	date("date_of_birth", f.DateOfBirth)
	str("nationality", f.Nationality)
	str("passport_number", f.PassportNumber)
	if f.PassportStatus != nil {
		cols, vals = append(cols, "passport_status"), append(vals, string(*f.PassportStatus))
	}
	date("passport_expires_on", f.PassportExpiresOn)
	str("work_permit_number", f.WorkPermitNumber)
	if f.WorkPermitStatus != nil {
		cols, vals = append(cols, "work_permit_status"), append(vals, string(*f.WorkPermitStatus))
	}
	str("address", f.Address)
	if f.CustodyStatus != nil {
		cols, vals = append(cols, "custody_status"), append(vals, string(*f.CustodyStatus))
	}
	str("facility", f.Facility)
	date("detained_at", f.DetainedAt)
	date("deported_at", f.DeportedAt)
	str("deported_via", f.DeportedVia)
	date("entry_ban_until", f.EntryBanUntil)
	if f.AsylumClaimed != nil {
		cols, vals = append(cols, "asylum_claimed"), append(vals, *f.AsylumClaimed)
	}
	if f.ConsularNotification != nil {
		cols, vals = append(cols, "consular_notification"), append(vals, string(*f.ConsularNotification))
	}
	return cols, vals
}

// checkDeported: a deported person has a deportation time (the database's
// CHECK, reported as a field).
func checkDeported(custody *Custody, deportedAt **time.Time) error {
	if custody != nil && *custody == CustodyDeported && (deportedAt == nil || *deportedAt == nil) {
		return apperr.Invalid("deported_at", "is required when custody_status is deported")
	}
	return nil
}

// Get returns person id in the projection the principal has.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Record, error) {
	var rec Record
	err := store.WithTx(ctx, func(ctx context.Context) error {
		proj, err := projection(ctx, id)
		if err != nil {
			return err
		}
		rec.Projection = proj
		switch proj {
		case ProjectionFull:
			p, err := getPerson(ctx, id)
			if err != nil {
				return err
			}
			rec.Person = &p
		case ProjectionSummary:
			sm, err := getSummary(ctx, id)
			if err != nil {
				return err
			}
			rec.Summary = &sm
		case ProjectionConsular:
			n, err := getNational(ctx, id)
			if err != nil {
				return err
			}
			rec.National = &n
		default:
			return fmt.Errorf("person %s: unknown projection %q: %w", id, proj, apperr.ErrNotFound)
		}
		return audit.Record(ctx, audit.Event{Action: "person.read", ObjectType: "person", ObjectID: id.String(),
			Details: map[string]any{"projection": proj}})
	})
	if err != nil {
		s.refused(ctx, err, "person.read", "person", id)
		return Record{}, fmt.Errorf("get person %s: %w", id, err)
	}
	return rec, nil
}

// Filter selects persons for List.
type Filter struct {
	Nationality     string
	CustodyStatuses []Custody
	Flags           []Flag
	Query           string // words of the names, by prefix
	Passport        string // a passport number, exact (case and spaces ignored)
	Limit           int
	Cursor          string
}

// nameKey is the keyset of person lists: (family name, given names, id).
type nameKey struct {
	Family string    `json:"f"`
	Given  string    `json:"g"`
	ID     uuid.UUID `json:"i"`
}

// Validate returns every bad field of the filter.
func (f Filter) Validate() error {
	f.Nationality = strings.ToUpper(strings.TrimSpace(f.Nationality))
	_, err := f.validate()
	return err
}

func (f *Filter) validate() (nameKey, error) {
	var fs apperr.Fields
	if f.Nationality != "" && !validate.Country(f.Nationality) {
		fs.Add("nationality", "must be an ISO 3166-1 alpha-2 country code, e.g. CN")
	}
	for _, c := range f.CustodyStatuses {
		if !slices.Contains(Custodies, c) {
			fs.Add("custody_status", "must be one of %s", join(Custodies))
			break
		}
	}
	for _, fl := range f.Flags {
		if !slices.Contains(Flags, fl) {
			fs.Add("trafficking_flag", "must be one of %s", join(Flags))
			break
		}
	}
	if len(f.Passport) > 40 {
		fs.Add("passport", "must be at most 40 characters")
	}
	if len(f.Query) > 200 {
		fs.Add("q", "must be at most 200 characters")
	}
	key := decodeCursor(&fs, f.Cursor, &f.Limit)
	return key, fs.Err()
}

// PersonPage is one page of persons.
type PersonPage struct {
	Items      []Person
	NextCursor string
}

func decodeCursor(fs *apperr.Fields, cursor string, limit *int) nameKey {
	var key nameKey
	l, err := page.Limit(*limit)
	if err != nil {
		fs.Add("limit", "must be between 1 and %d", page.MaxLimit)
	}
	*limit = l
	if cursor != "" {
		if err := page.Decode(cursor, &key); err != nil || key.ID == uuid.Nil {
			fs.Add("cursor", "is not a cursor this list returned")
		}
	}
	return key
}

// List returns the persons the principal sees in full, by name, a page at
// a time. (An embassy's nationals are listed by Nationals.)
func (s *Service) List(ctx context.Context, f Filter) (PersonPage, error) {
	f.Nationality = strings.ToUpper(strings.TrimSpace(f.Nationality))
	key, err := f.validate()
	if err != nil {
		return PersonPage{}, fmt.Errorf("list persons: %w", err)
	}
	var where []string
	var args []any
	if f.Nationality != "" {
		where, args = append(where, "p.nationality = ?"), append(args, f.Nationality)
	}
	if len(f.CustodyStatuses) > 0 {
		where, args = append(where, "p.custody_status IN ?"), append(args, strs(f.CustodyStatuses))
	}
	if len(f.Flags) > 0 {
		where, args = append(where, "p.trafficking_flag IN ?"), append(args, strs(f.Flags))
	}
	if q := nameQuery(f.Query); q != "" {
		where = append(where, "cb_person_names(p.family_name, p.given_names, p.family_name_native, p.given_names_native) @@ to_tsquery('simple', ?)")
		args = append(args, q)
	}
	if pp := passportKey(f.Passport); pp != "" {
		where = append(where, "upper(replace(p.passport_number, ' ', '')) = ?")
		args = append(args, pp)
	}
	if f.Cursor != "" {
		where = append(where, "(p.family_name, p.given_names, p.id) > (?, ?, ?)")
		args = append(args, key.Family, key.Given, key.ID)
	}
	q := selectPersons
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY p.family_name, p.given_names, p.id LIMIT %d", f.Limit+1)
	var pg PersonPage
	err = store.WithTx(ctx, func(ctx context.Context) error {
		items, err := queryPersons(ctx, q, args...)
		if err != nil {
			return err
		}
		if len(items) > f.Limit {
			items = items[:f.Limit]
			last := items[len(items)-1]
			pg.NextCursor = page.Encode(nameKey{Family: last.FamilyName, Given: last.GivenNames, ID: last.ID})
		}
		pg.Items = items
		return audit.Record(ctx, audit.Event{Action: "person.list", ObjectType: "person",
			Details: map[string]any{"ids": personIDs(items)}})
	})
	if err != nil {
		return PersonPage{}, fmt.Errorf("list persons: %w", err)
	}
	return pg, nil
}

func personIDs(ps []Person) []string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID.String()
	}
	return ids
}

// Update applies the given fields to person id when its version is still
// version (0, If-Match: *: whatever version is current). The database checks that the principal may change each column
// (editors of a linking case, or the creating agency while unlinked).
func (s *Service) Update(ctx context.Context, id uuid.UUID, version int, f Fields) (Person, error) {
	f.normalize()
	if err := f.Validate(false, time.Now()); err != nil {
		return Person{}, fmt.Errorf("update person %s: %w", id, err)
	}
	if cols, _ := f.columns(); len(cols) == 0 {
		return Person{}, fmt.Errorf("update person %s: %w", id, apperr.Invalid("body", "changes nothing; send at least one field"))
	}
	var p Person
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if _, err := projection(ctx, id); err != nil {
			return err
		}
		ok, err := canPerson(ctx, PermEdit, id)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.Forbidden(PermEdit, "Only officers and supervisors of the agency that owns a case linking the person edit it.")
		}
		cur, err := getPerson(ctx, id)
		if err != nil {
			return err
		}
		if version != 0 && cur.Version != version {
			return stale(cur.Version, version)
		}
		// The effective values, for the checks that span fields.
		custody, deportedAt := cur.CustodyStatus, cur.DeportedAt
		if f.CustodyStatus != nil {
			custody = *f.CustodyStatus
		}
		if f.DeportedAt != nil {
			deportedAt = *f.DeportedAt
		}
		if err := checkDeported(&custody, &deportedAt); err != nil {
			return err
		}
		nationality, want := cur.Nationality, cur.ConsularNotification
		if f.Nationality != nil {
			nationality = *f.Nationality
		}
		if f.ConsularNotification != nil {
			want = *f.ConsularNotification
		}
		if note := s.notification(nationality, want); note != cur.ConsularNotification || f.ConsularNotification != nil {
			f.ConsularNotification = &note
		}
		cols, vals := f.columns()
		if err := updatePerson(ctx, id, version, cols, vals, PermEdit); err != nil {
			return err
		}
		if p, err = getPerson(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "person.update", ObjectType: "person", ObjectID: id.String(),
			Details: map[string]any{"fields": cols, "version": p.Version}})
	})
	if err != nil {
		s.refused(ctx, err, "person.update", "person", id)
		return Person{}, fmt.Errorf("update person %s: %w", id, err)
	}
	return p, nil
}

// updatePerson writes cols of person id at version; the persons guard and
// the non-punishment trigger may refuse (403, 409).
func updatePerson(ctx context.Context, id uuid.UUID, version int, cols []string, vals []any, perm string) error {
	sets := []string{"version = version + 1", "updated_at = now()"}
	for _, c := range cols {
		sets = append(sets, c+" = ?")
	}
	// Version 0 (If-Match: *) writes whatever version is current.
	res := store.DB(ctx).Exec(`UPDATE persons SET `+strings.Join(sets, ", ")+` WHERE id = ? AND (version = ? OR ? = 0)`,
		append(vals, id, version, version)...)
	if res.Error != nil {
		return fmt.Errorf("update person: %w", pgerr.Map(res.Error, perm))
	}
	if res.RowsAffected == 0 {
		return stale(-1, version)
	}
	return nil
}

// Screen records trafficking screening for person id: counter-trafficking
// officers with a grant on a linked case set everything; the owner's
// officers may only raise a suspicion (the database's persons guard
// decides). When version is not nil it must be the person's version.
func (s *Service) Screen(ctx context.Context, id uuid.UUID, version *int, sc Screening) (Person, error) {
	if err := sc.Validate(); err != nil {
		return Person{}, fmt.Errorf("screen person %s: %w", id, err)
	}
	var p Person
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if _, err := projection(ctx, id); err != nil {
			return err
		}
		screen, err := canPerson(ctx, PermScreen, id)
		if err != nil {
			return err
		}
		if !screen {
			flag, err := canPerson(ctx, PermFlagSuspected, id)
			if err != nil {
				return err
			}
			if !flag {
				return apperr.Forbidden(PermScreen, "Only counter-trafficking officers with a grant on a linked case screen a person; officers of the owner agency may flag a suspicion.")
			}
		}
		cur, err := getPerson(ctx, id)
		if err != nil {
			return err
		}
		v := cur.Version
		if version != nil {
			if *version != cur.Version {
				return stale(cur.Version, *version)
			}
			v = *version
		}
		// Counter-trafficking's decisions, each with the reason, recorded
		// before the change that the database allows only with them.
		reason := ""
		if sc.Reason != nil {
			reason = strings.TrimSpace(*sc.Reason)
		}
		// (Only a screener decides; anyone else's attempt is refused below
		// by the column rules, 403.)
		var decided []string
		if screen {
			decided = sc.decisions(cur.TraffickingFlag, cur.ProceedingsCleared)
		}
		for _, d := range decided {
			if reason == "" && d != DecisionIdentified {
				return apperr.Invalid("reason", "is required: counter-trafficking's decision (%s) needs a reason", d)
			}
		}
		if reason == "" {
			decided = nil
		}
		who := ""
		if pr, ok := access.FromContext(ctx); ok {
			who = pr.Name
		}
		for _, d := range decided {
			if err := store.DB(ctx).Exec(`INSERT INTO screening_decisions (person_id, decision, reason, flag_before, decided_by_name)
				VALUES (?, ?, ?, ?, ?)`, id, d, reason, string(cur.TraffickingFlag), who).Error; err != nil {
				return fmt.Errorf("record screening decision: %w", pgerr.Map(err, PermScreen))
			}
		}
		var cols []string
		var vals []any
		if sc.TraffickingFlag != nil {
			cols, vals = append(cols, "trafficking_flag"), append(vals, string(*sc.TraffickingFlag))
		}
		if sc.ScreeningNotes != nil {
			cols, vals = append(cols, "screening_notes"), append(vals, *sc.ScreeningNotes)
		}
		if sc.VictimConsents != nil {
			cols, vals = append(cols, "victim_consents_to_embassy"), append(vals, *sc.VictimConsents)
		}
		if sc.ProceedingsCleared != nil {
			cols, vals = append(cols, "ct_proceedings_cleared"), append(vals, *sc.ProceedingsCleared)
		}
		if err := updatePerson(ctx, id, v, cols, vals, PermScreen); err != nil {
			return err
		}
		accessEnded := false
		if p, err = getPerson(ctx, id); errors.Is(err, apperr.ErrNotFound) {
			// The screening itself ended the screener's grant: clearing the
			// last possible victim of a case ends counter-trafficking's
			// trafficking duty (G3) on it. Answer with what was recorded.
			p, err, accessEnded = sc.applyTo(cur), nil, true
			p.Version = v + 1
		}
		if err != nil {
			return err
		}
		details := map[string]any{"fields": cols, "version": p.Version}
		if accessEnded {
			details["access_ended"] = true
		}
		if sc.TraffickingFlag != nil {
			details["trafficking_flag"] = *sc.TraffickingFlag
		}
		if len(decided) > 0 {
			details["decisions"] = decided
		}
		return audit.Record(ctx, audit.Event{Action: "person.screen", ObjectType: "person", ObjectID: id.String(),
			Details: details})
	})
	if err != nil {
		s.refused(ctx, err, "person.screen", "person", id)
		return Person{}, fmt.Errorf("screen person %s: %w", id, err)
	}
	return p, nil
}

// applyTo returns p with the screening's fields set.
func (sc Screening) applyTo(p Person) Person {
	if sc.TraffickingFlag != nil {
		p.TraffickingFlag = *sc.TraffickingFlag
	}
	if sc.ScreeningNotes != nil {
		p.ScreeningNotes = *sc.ScreeningNotes
	}
	if sc.VictimConsents != nil {
		p.VictimConsents = *sc.VictimConsents
	}
	if sc.ProceedingsCleared != nil {
		p.ProceedingsCleared = *sc.ProceedingsCleared
	}
	return p
}

func stale(current, sent int) error {
	if current < 0 {
		return apperr.With(apperr.ErrPreconditionFailed, "The person changed while you were saving; read it again.")
	}
	return apperr.With(apperr.ErrPreconditionFailed,
		"The person changed since you read them (you sent version %d, it is now %d); read again.", sent, current)
}

// refused writes the audit event of a refusal: a 403, or a 404 on an object
// that exists (objType "person" or "case"), outside the request's
// transaction so that it survives the rollback.
func (s *Service) refused(ctx context.Context, err error, action, objType string, id uuid.UUID) {
	var outcome audit.Outcome
	switch {
	case errors.Is(err, errNoLink):
		return
	case errors.Is(err, apperr.ErrForbidden):
		outcome = audit.Denied
	case errors.Is(err, apperr.ErrNotFound) && id != uuid.Nil && exists(ctx, objType, id):
		outcome = audit.NotFound
	default:
		return
	}
	ev := audit.Event{Action: action, ObjectType: objType, Outcome: outcome}
	if id != uuid.Nil {
		ev.ObjectID = id.String()
		if objType == "case" {
			ev.CaseID = id
		}
	}
	var pe *apperr.PermissionError
	if errors.As(err, &pe) {
		ev.Details = map[string]any{"missing_permission": pe.Permission}
	}
	if rerr := audit.Record(store.Detached(ctx), ev); rerr != nil {
		s.log.ErrorContext(ctx, "audit refusal", "error", rerr.Error(), "action", action)
	}
}

// exists asks, past row-level security, whether the object exists at all;
// only for the audit record of a 404.
func exists(ctx context.Context, objType string, id uuid.UUID) bool {
	if objType == "case" {
		return cases.Exists(ctx, id)
	}
	var ok bool
	err := store.WithTx(store.Detached(ctx), func(ctx context.Context) error {
		return store.DB(ctx).Raw(`SELECT cb_person_exists(?)`, id).Scan(&ok).Error
	})
	return err == nil && ok
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// ScreeningHistory lists counter-trafficking's decisions on person id,
// newest first, for whoever sees the person in full (404 for those who do
// not see them, 403 for those who see less).
func (s *Service) ScreeningHistory(ctx context.Context, id uuid.UUID) ([]ScreeningDecision, error) {
	var out []ScreeningDecision
	err := store.WithTx(ctx, func(ctx context.Context) error {
		proj, err := projection(ctx, id)
		if err != nil {
			return err
		}
		switch proj {
		case ProjectionFull:
		case ProjectionConsular:
			// The person's own state learns nothing of a screening, not even
			// that there is a history to refuse.
			return fmt.Errorf("person %s: %w", id, apperr.ErrNotFound)
		default:
			return apperr.Forbidden(PermScreeningRead, "The screening history is for those who see the person in full.")
		}
		if err := store.DB(ctx).Raw(`SELECT d.id, d.decision, d.reason, d.flag_before, d.decided_at, d.decided_by_name,
			a.id AS agency_id, a.code AS agency_code, a.name AS agency_name, a.kind AS agency_kind
			FROM screening_decisions d LEFT JOIN agencies a ON a.id = d.decided_by_agency
			WHERE d.person_id = ? ORDER BY d.decided_at DESC, d.id DESC`, id).Scan(&out).Error; err != nil {
			return fmt.Errorf("query screening decisions: %w", err)
		}
		return audit.Record(ctx, audit.Event{Action: "person.screening.history", ObjectType: "person", ObjectID: id.String(),
			Details: map[string]any{"count": len(out)}})
	})
	if err != nil {
		s.refused(ctx, err, "person.screening.history", "person", id)
		return nil, fmt.Errorf("screening history of person %s: %w", id, err)
	}
	return out, nil
}
