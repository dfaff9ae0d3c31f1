package persons

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/cases"
	"github.com/casebridge/casebridge/internal/page"
	"github.com/casebridge/casebridge/internal/pgerr"
	"github.com/casebridge/casebridge/internal/store"
)

// errNoLink: the case is visible but does not link the person (not audited
// as a refusal).
var errNoLink = fmt.Errorf("the case does not link the person: %w", apperr.ErrNotFound)

// caseVisible reports ErrNotFound for a case the principal has no grant on
// (RLS on cases).
func caseVisible(ctx context.Context, caseID uuid.UUID) error {
	var n int64
	if err := store.DB(ctx).Raw(`SELECT count(*) FROM cases WHERE id = ?`, caseID).Scan(&n).Error; err != nil {
		return fmt.Errorf("load case %s: %w", caseID, err)
	}
	if n == 0 {
		return fmt.Errorf("case %s: %w", caseID, apperr.ErrNotFound)
	}
	return nil
}

// requireCaseEdit: the case is visible (else ErrNotFound) and the
// principal may edit it (else ErrForbidden).
func requireCaseEdit(ctx context.Context, caseID uuid.UUID) error {
	if err := caseVisible(ctx, caseID); err != nil {
		return err
	}
	ok, err := cases.Can(ctx, cases.PermEdit, caseID)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Forbidden(cases.PermEdit, "Only officers and supervisors of the agency that owns the case link and unlink its persons.")
	}
	return nil
}

func insertLink(ctx context.Context, caseID, personID uuid.UUID, role Role) error {
	res := store.DB(ctx).Exec(`INSERT INTO case_persons (case_id, person_id, role) VALUES (?, ?, ?)
		ON CONFLICT (case_id, person_id) DO NOTHING`, caseID, personID, string(role))
	if res.Error != nil {
		return fmt.Errorf("link person: %w", pgerr.Map(res.Error, cases.PermEdit))
	}
	if res.RowsAffected == 0 {
		return apperr.Coded(apperr.ErrConflict, "case.person_already_linked", "The person is already linked to this case.")
	}
	return nil
}

// LinkedPage is one page of the persons of a case.
type LinkedPage struct {
	Items      []Linked
	NextCursor string
}

// CaseFilter pages through the persons of a case.
type CaseFilter struct {
	// Query: words of the names, by prefix. Only the names of the summary
	// projection (family and given names in Latin script) are searched, so
	// a search tells nobody more than the list itself shows.
	Query  string
	Limit  int
	Cursor string
}

// Validate returns every bad field of the filter.
func (f CaseFilter) Validate() error {
	var fs apperr.Fields
	if len(f.Query) > 200 {
		fs.Add("q", "must be at most 200 characters")
	}
	decodeCursor(&fs, f.Cursor, &f.Limit)
	return fs.Err()
}

// OfCase lists the persons linked to case caseID, by name: in full where
// the principal sees them in full (RLS on persons), else in the summary
// projection. The database's cb_case_person_list decides which persons are
// listed at all (none of an invisible case; never an embassy's own
// nationals).
func (s *Service) OfCase(ctx context.Context, caseID uuid.UUID, f CaseFilter) (LinkedPage, error) {
	if err := f.Validate(); err != nil {
		return LinkedPage{}, fmt.Errorf("list persons of case %s: %w", caseID, err)
	}
	var fs apperr.Fields
	key := decodeCursor(&fs, f.Cursor, &f.Limit)
	// cb_case_person_list reads the case's links through case_persons'
	// (case_id, person_id) key, so a search never goes beyond the case's
	// own rows; the name match filters those.
	q := `SELECT l.person_id, l.role, l.linked_at, l.family_name, l.given_names, l.sex, l.nationality,
		l.custody_status FROM cb_case_person_list(?) l`
	args := []any{caseID}
	var where []string
	if nq := nameQuery(f.Query); nq != "" {
		where = append(where, `to_tsvector('simple'::regconfig, l.family_name || ' ' || l.given_names) @@ to_tsquery('simple', ?)`)
		args = append(args, nq)
	}
	if f.Cursor != "" {
		where = append(where, `(l.family_name, l.given_names, l.person_id) > (?, ?, ?)`)
		args = append(args, key.Family, key.Given, key.ID)
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(` ORDER BY l.family_name, l.given_names, l.person_id LIMIT %d`, f.Limit+1)
	var pg LinkedPage
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if err := caseVisible(ctx, caseID); err != nil {
			return err
		}
		var links []struct {
			PersonID      uuid.UUID `gorm:"column:person_id"`
			Role          string    `gorm:"column:role"`
			LinkedAt      time.Time `gorm:"column:linked_at"`
			FamilyName    string    `gorm:"column:family_name"`
			GivenNames    string    `gorm:"column:given_names"`
			Sex           string    `gorm:"column:sex"`
			Nationality   string    `gorm:"column:nationality"`
			CustodyStatus string    `gorm:"column:custody_status"`
		}
		if err := store.DB(ctx).Raw(q, args...).Scan(&links).Error; err != nil {
			return fmt.Errorf("query links: %w", err)
		}
		ids := make([]uuid.UUID, len(links))
		for i, l := range links {
			ids[i] = l.PersonID
		}
		ps, err := queryPersons(ctx, selectPersons+` WHERE p.id IN ?`, ids)
		if err != nil {
			return err
		}
		byID := map[uuid.UUID]Person{}
		for _, p := range ps {
			byID[p.ID] = p
		}
		for _, l := range links {
			it := Linked{Role: Role(l.Role), LinkedAt: l.LinkedAt}
			if p, ok := byID[l.PersonID]; ok {
				it.Person = &p
			} else {
				it.Summary = &Summary{ID: l.PersonID, FamilyName: l.FamilyName, GivenNames: l.GivenNames,
					Sex: Sex(l.Sex), Nationality: l.Nationality, CustodyStatus: Custody(l.CustodyStatus),
					Cases: []CaseLink{}}
			}
			pg.Items = append(pg.Items, it)
		}
		if len(pg.Items) > f.Limit {
			pg.Items = pg.Items[:f.Limit]
			pg.NextCursor = page.Encode(pg.Items[len(pg.Items)-1].key())
		}
		shown := make([]string, len(pg.Items))
		for i, it := range pg.Items {
			shown[i] = it.key().ID.String()
		}
		details := map[string]any{"ids": shown}
		if f.Query != "" {
			details["q"] = f.Query
		}
		return audit.Record(ctx, audit.Event{Action: "case.persons.read", ObjectType: "case",
			ObjectID: caseID.String(), CaseID: caseID, Details: details})
	})
	if err != nil {
		s.refused(ctx, err, "case.persons.read", "case", caseID)
		return LinkedPage{}, fmt.Errorf("list persons of case %s: %w", caseID, err)
	}
	return pg, nil
}

// Link links person personID to case caseID in role. The person must be
// one the principal sees in full.
func (s *Service) Link(ctx context.Context, caseID, personID uuid.UUID, role Role) (Linked, error) {
	var fs apperr.Fields
	if personID == uuid.Nil {
		fs.Add("person_id", "is required")
	}
	if !slices.Contains(Roles, role) {
		fs.Add("role", "must be one of %s", join(Roles))
	}
	if err := fs.Err(); err != nil {
		return Linked{}, fmt.Errorf("link person to case %s: %w", caseID, err)
	}
	var l Linked
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if err := requireCaseEdit(ctx, caseID); err != nil {
			return err
		}
		if proj, err := projection(ctx, personID); err != nil || proj != ProjectionFull {
			return apperr.Invalid("person_id", "names no person you can see in full")
		}
		if err := insertLink(ctx, caseID, personID, role); err != nil {
			return err
		}
		p, err := getPerson(ctx, personID)
		if err != nil {
			return err
		}
		l = Linked{Role: role, Person: &p}
		for _, c := range p.Cases {
			if c.CaseID == caseID {
				l.LinkedAt = c.LinkedAt
			}
		}
		return audit.Record(ctx, audit.Event{Action: "case.person.link", ObjectType: "person",
			ObjectID: personID.String(), CaseID: caseID, Details: map[string]any{"role": role}})
	})
	if err != nil {
		s.refused(ctx, err, "case.person.link", "case", caseID)
		return Linked{}, fmt.Errorf("link person %s to case %s: %w", personID, caseID, err)
	}
	return l, nil
}

// Unlink removes person personID from case caseID.
func (s *Service) Unlink(ctx context.Context, caseID, personID uuid.UUID) error {
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if err := requireCaseEdit(ctx, caseID); err != nil {
			return err
		}
		res := store.DB(ctx).Exec(`DELETE FROM case_persons WHERE case_id = ? AND person_id = ?`, caseID, personID)
		if res.Error != nil {
			return fmt.Errorf("unlink person: %w", pgerr.Map(res.Error, cases.PermEdit))
		}
		if res.RowsAffected == 0 {
			return errNoLink
		}
		return audit.Record(ctx, audit.Event{Action: "case.person.unlink", ObjectType: "person",
			ObjectID: personID.String(), CaseID: caseID})
	})
	if err != nil {
		s.refused(ctx, err, "case.person.unlink", "case", caseID)
		return fmt.Errorf("unlink person %s from case %s: %w", personID, caseID, err)
	}
	return nil
}

// NationalFilter selects an embassy's nationals.
type NationalFilter struct {
	CustodyStatuses []Custody
	Query           string     // words of the names (family and given, Latin script), by prefix
	Facility        string     // part of the facility's name, case ignored
	HearingBefore   *time.Time // a hearing date before this date in one of the charges
	Limit           int
	Cursor          string
}

// Validate returns every bad field of the filter.
func (f NationalFilter) Validate() error {
	_, err := f.validate()
	return err
}

func (f *NationalFilter) validate() (nameKey, error) {
	var fs apperr.Fields
	for _, c := range f.CustodyStatuses {
		if !slices.Contains(Custodies, c) {
			fs.Add("custody_status", "must be one of %s", join(Custodies))
			break
		}
	}
	checkText(&fs, "facility", f.Facility, maxFacility)
	if len(f.Query) > 200 {
		fs.Add("q", "must be at most 200 characters")
	}
	key := decodeCursor(&fs, f.Cursor, &f.Limit)
	return key, fs.Err()
}

// likeEscaper quotes LIKE's wildcards so a search matches them literally.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// NationalPage is one page of nationals.
type NationalPage struct {
	Items      []National
	NextCursor string
	Total      int64 // how many nationals match the filter, on every page
}

// requireConsular: only embassy liaison officers use the consular view
// (the database's cb_consular_viewer says who).
func requireConsular(ctx context.Context) error {
	var ok bool
	if err := store.DB(ctx).Raw(`SELECT cb_consular_viewer()`).Scan(&ok).Error; err != nil {
		return fmt.Errorf("check consular viewer: %w", err)
	}
	if !ok {
		return apperr.Forbidden(PermConsularRead, permConsularReason)
	}
	return nil
}

// Nationals lists the embassy's nationals in the consular view, by name.
func (s *Service) Nationals(ctx context.Context, f NationalFilter) (NationalPage, error) {
	f.Facility = strings.TrimSpace(f.Facility)
	key, err := f.validate()
	if err != nil {
		return NationalPage{}, fmt.Errorf("list nationals: %w", err)
	}
	var where []string
	var args []any
	if len(f.CustodyStatuses) > 0 {
		where, args = append(where, "n.custody_status IN ?"), append(args, strs(f.CustodyStatuses))
	}
	if f.Facility != "" {
		where, args = append(where, `n.facility ILIKE ? ESCAPE '\'`), append(args, "%"+likeEscaper.Replace(f.Facility)+"%")
	}
	if nq := nameQuery(f.Query); nq != "" {
		where = append(where, `to_tsvector('simple'::regconfig, n.family_name || ' ' || n.given_names) @@ to_tsquery('simple', ?)`)
		args = append(args, nq)
	}
	if f.HearingBefore != nil {
		where = append(where, "EXISTS (SELECT 1 FROM cb_consular_charges(n.id) ch WHERE ch.hearing_date < ?::date)")
		args = append(args, *f.HearingBefore)
	}
	// The total counts what the filters match, whatever the page.
	countQ := "SELECT count(*) FROM consular_nationals n"
	if len(where) > 0 {
		countQ += " WHERE " + strings.Join(where, " AND ")
	}
	countArgs := slices.Clone(args)
	if f.Cursor != "" {
		where = append(where, "(n.family_name, n.given_names, n.id) > (?, ?, ?)")
		args = append(args, key.Family, key.Given, key.ID)
	}
	q := selectNationals
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY n.family_name, n.given_names, n.id LIMIT %d", f.Limit+1)
	var pg NationalPage
	err = store.WithTx(ctx, func(ctx context.Context) error {
		if err := requireConsular(ctx); err != nil {
			return err
		}
		items, err := queryNationals(ctx, q, args...)
		if err != nil {
			return err
		}
		if err := store.DB(ctx).Raw(countQ, countArgs...).Scan(&pg.Total).Error; err != nil {
			return fmt.Errorf("count nationals: %w", err)
		}
		if len(items) > f.Limit {
			items = items[:f.Limit]
			last := items[len(items)-1]
			pg.NextCursor = page.Encode(nameKey{Family: last.FamilyName, Given: last.GivenNames, ID: last.ID})
		}
		pg.Items = items
		ids := make([]string, len(items))
		for i, n := range items {
			ids[i] = n.ID.String()
		}
		return audit.Record(ctx, audit.Event{Action: "consular.list", ObjectType: "person",
			Details: map[string]any{"ids": ids}})
	})
	if err != nil {
		s.refused(ctx, err, "consular.list", "person", uuid.Nil)
		return NationalPage{}, fmt.Errorf("list nationals: %w", err)
	}
	return pg, nil
}

// National returns one national in the consular projection.
func (s *Service) National(ctx context.Context, id uuid.UUID) (National, error) {
	var n National
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if err := requireConsular(ctx); err != nil {
			return err
		}
		var err error
		if n, err = getNational(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "consular.read", ObjectType: "person", ObjectID: id.String()})
	})
	if err != nil {
		s.refused(ctx, err, "consular.read", "person", id)
		return National{}, fmt.Errorf("get national %s: %w", id, err)
	}
	return n, nil
}

// getNational is the consular list filtered by id.
func getNational(ctx context.Context, id uuid.UUID) (National, error) {
	ns, err := queryNationals(ctx, selectNationals+` WHERE n.id = ?`, id)
	if err != nil {
		return National{}, err
	}
	if len(ns) == 0 {
		return National{}, fmt.Errorf("national %s: %w", id, apperr.ErrNotFound)
	}
	return ns[0], nil
}
