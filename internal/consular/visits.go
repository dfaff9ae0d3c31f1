package consular

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/page"
	"github.com/casebridge/casebridge/internal/pgerr"
	"github.com/casebridge/casebridge/internal/store"
)

// Visit statuses.
const (
	VisitRequested = "requested"
	VisitScheduled = "scheduled"
	VisitRefused   = "refused"
)

// Visit is a consular visit request and its answer.
type Visit struct {
	ID            uuid.UUID  `gorm:"column:id"`
	Country       string     `gorm:"column:country"`
	AgencyName    string     `gorm:"column:agency_name"`
	RequestedAt   time.Time  `gorm:"column:requested_at"`
	PreferredFrom time.Time  `gorm:"column:preferred_from"`
	PreferredTo   time.Time  `gorm:"column:preferred_to"`
	Note          string     `gorm:"column:note"`
	Status        string     `gorm:"column:status"`
	VisitAt       *time.Time `gorm:"column:visit_at"`
	Place         *string    `gorm:"column:place"`
	RefusalReason *string    `gorm:"column:refusal_reason"`
	AnsweredBy    *string    `gorm:"column:answered_by_name"`
	AnsweredAt    *time.Time `gorm:"column:answered_at"`
	Overdue       bool       `gorm:"-"`
	Person
}

const selectVisits = `SELECT v.id, v.country, a.name AS agency_name, v.requested_at, v.preferred_from, v.preferred_to,
	v.note, v.status, v.visit_at, v.place, v.refusal_reason, ans.name AS answered_by_name, v.answered_at,
	v.person_id,
	COALESCE(cn.family_name, p.family_name, '') AS family_name,
	COALESCE(cn.given_names, p.given_names, '') AS given_names,
	COALESCE(cn.nationality, p.nationality, v.country) AS nationality,
	COALESCE(cn.custody_status, p.custody_status, '') AS custody_status,
	COALESCE(cn.facility, p.facility, '') AS facility
FROM consular_visits v
JOIN agencies a ON a.id = v.agency_id
LEFT JOIN agencies ans ON ans.id = v.answered_by_agency
LEFT JOIN consular_nationals cn ON cn.id = v.person_id
LEFT JOIN persons p ON p.id = v.person_id`

func (s *Service) queryVisits(ctx context.Context, q string, args ...any) ([]Visit, error) {
	var out []Visit
	if err := store.DB(ctx).Raw(q, args...).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("query visits: %w", err)
	}
	now := time.Now()
	for i := range out {
		out[i].Overdue = out[i].Status == VisitRequested && now.Sub(out[i].RequestedAt) > s.visitOverdue
	}
	return out, nil
}

// personVisible: the person exists for the principal (any projection), or
// ErrNotFound.
func personVisible(ctx context.Context, id uuid.UUID) error {
	var p *string
	if err := store.DB(ctx).Raw(`SELECT cb_person_access(?)`, id).Scan(&p).Error; err != nil {
		return fmt.Errorf("person access: %w", err)
	}
	if p == nil {
		return fmt.Errorf("person %s: %w", id, apperr.ErrNotFound)
	}
	return nil
}

// VisitsOf lists the visit requests about person id that the principal
// sees, newest first.
func (s *Service) VisitsOf(ctx context.Context, id uuid.UUID) ([]Visit, error) {
	var out []Visit
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if err := personVisible(ctx, id); err != nil {
			return err
		}
		var err error
		if out, err = s.queryVisits(ctx, selectVisits+` WHERE v.person_id = ? ORDER BY v.requested_at DESC, v.id DESC LIMIT 200`, id); err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "visit.list", ObjectType: "person", ObjectID: id.String(),
			Details: map[string]any{"count": len(out)}})
	})
	if err != nil {
		return nil, fmt.Errorf("list visits of person %s: %w", id, err)
	}
	return out, nil
}

// VisitFilter selects visit requests across persons (the ministry's overdue
// list; an agency's open requests).
type VisitFilter struct {
	State  string // "", requested, overdue, scheduled, refused
	Limit  int
	Cursor string
}

// Validate returns every bad field of the filter.
func (f VisitFilter) Validate() error {
	var fs apperr.Fields
	if f.State != "" && !slices.Contains([]string{VisitRequested, StateOverdue, VisitScheduled, VisitRefused}, f.State) {
		fs.Add("state", "must be one of requested, overdue, scheduled, refused")
	}
	if _, err := page.Limit(f.Limit); err != nil {
		fs.Add("limit", "must be between 1 and %d", page.MaxLimit)
	}
	if f.Cursor != "" {
		var k timeKey
		if page.Decode(f.Cursor, &k) != nil {
			fs.Add("cursor", "is not a cursor this list returned")
		}
	}
	return fs.Err()
}

// VisitPage is one page of visit requests.
type VisitPage struct {
	Items      []Visit
	NextCursor string
}

// Visits lists the visit requests the principal sees, oldest first (the
// longest waiting on top).
func (s *Service) Visits(ctx context.Context, f VisitFilter) (VisitPage, error) {
	if err := f.Validate(); err != nil {
		return VisitPage{}, fmt.Errorf("list visits: %w", err)
	}
	limit, _ := page.Limit(f.Limit)
	q := selectVisits + ` WHERE true`
	var args []any
	switch f.State {
	case VisitRequested, VisitScheduled, VisitRefused:
		q += ` AND v.status = ?`
		args = append(args, f.State)
	case StateOverdue:
		q += ` AND v.status = 'requested' AND v.requested_at < now() - ?::interval`
		args = append(args, fmt.Sprintf("%d seconds", int64(s.visitOverdue.Seconds())))
	}
	if f.Cursor != "" {
		var k timeKey
		_ = page.Decode(f.Cursor, &k)
		q += ` AND (v.requested_at, v.id) > (?, ?)`
		args = append(args, k.At, k.ID)
	}
	q += fmt.Sprintf(` ORDER BY v.requested_at, v.id LIMIT %d`, limit+1)
	var pg VisitPage
	err := store.WithTx(ctx, func(ctx context.Context) error {
		items, err := s.queryVisits(ctx, q, args...)
		if err != nil {
			return err
		}
		if len(items) > limit {
			items = items[:limit]
			last := items[limit-1]
			pg.NextCursor = page.Encode(timeKey{At: last.RequestedAt, ID: last.ID})
		}
		pg.Items = items
		return audit.Record(ctx, audit.Event{Action: "visit.list", ObjectType: "visit",
			Details: map[string]any{"state": f.State, "count": len(items)}})
	})
	if err != nil {
		return VisitPage{}, fmt.Errorf("list visits: %w", err)
	}
	return pg, nil
}

// VisitRequest is what a liaison asks for.
type VisitRequest struct {
	PreferredFrom *time.Time
	PreferredTo   *time.Time
	Note          string
}

// Validate returns every bad field.
func (r VisitRequest) Validate(now time.Time) error {
	var fs apperr.Fields
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	switch {
	case r.PreferredFrom == nil:
		fs.Add("preferred_from", "is required")
	case r.PreferredFrom.Before(today):
		fs.Add("preferred_from", "must not be in the past")
	}
	switch {
	case r.PreferredTo == nil:
		fs.Add("preferred_to", "is required")
	case r.PreferredFrom != nil && r.PreferredTo.Before(*r.PreferredFrom):
		fs.Add("preferred_to", "must not be before preferred_from")
	case r.PreferredFrom != nil && r.PreferredTo.Sub(*r.PreferredFrom) > 90*24*time.Hour:
		fs.Add("preferred_to", "must be at most 90 days after preferred_from")
	}
	checkText(&fs, "note", r.Note, 2000, false)
	return fs.Err()
}

// RequestVisit records a liaison's request to visit person id, a national
// its embassy sees in the consular view.
func (s *Service) RequestVisit(ctx context.Context, id uuid.UUID, r VisitRequest) (Visit, error) {
	if err := r.Validate(time.Now().UTC()); err != nil {
		return Visit{}, fmt.Errorf("request visit: %w", err)
	}
	var v Visit
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if err := personVisible(ctx, id); err != nil {
			return err
		}
		var ok bool
		if err := store.DB(ctx).Raw(`SELECT cb_consular_viewer() AND cb_person_consular(?)`, id).Scan(&ok).Error; err != nil {
			return fmt.Errorf("check consular view: %w", err)
		}
		if !ok {
			return apperr.Forbidden(PermRequest, "Only a liaison of the person's embassy requests a consular visit.")
		}
		var vid uuid.UUID
		err := store.DB(ctx).Raw(`INSERT INTO consular_visits (person_id, country, agency_id, preferred_from, preferred_to, note)
			VALUES (?, cb_country(), cb_agency_id(), ?, ?, ?) RETURNING id`, id, *r.PreferredFrom, *r.PreferredTo,
			strings.TrimSpace(r.Note)).Row().Scan(&vid)
		if err != nil {
			return fmt.Errorf("insert visit: %w", pgerr.Map(err, PermRequest))
		}
		vs, err := s.queryVisits(ctx, selectVisits+` WHERE v.id = ?`, vid)
		if err != nil {
			return err
		}
		if len(vs) != 1 {
			return fmt.Errorf("visit %s not readable after insert", vid)
		}
		v = vs[0]
		return audit.Record(ctx, audit.Event{Action: "visit.request", ObjectType: "visit", ObjectID: vid.String(),
			Details: map[string]any{"person_id": id.String()}})
	})
	if err != nil {
		s.refused(ctx, err, "visit.request", "person", id)
		return Visit{}, fmt.Errorf("request visit to person %s: %w", id, err)
	}
	return v, nil
}

// Answer is an officer's answer: a date and place, or a refusal with a reason.
type Answer struct {
	Status        string
	VisitAt       *time.Time
	Place         string
	RefusalReason string
}

// Validate returns every bad field.
func (a Answer) Validate() error {
	var fs apperr.Fields
	switch a.Status {
	case VisitScheduled:
		if a.VisitAt == nil {
			fs.Add("visit_at", "is required when the visit is scheduled")
		}
		checkText(&fs, "place", a.Place, 300, true)
		if a.RefusalReason != "" {
			fs.Add("refusal_reason", "is only for a refusal")
		}
	case VisitRefused:
		checkText(&fs, "refusal_reason", a.RefusalReason, 2000, true)
		if a.VisitAt != nil || a.Place != "" {
			fs.Add("visit_at", "is only for a scheduled visit")
		}
	default:
		fs.Add("status", "must be one of scheduled, refused")
	}
	return fs.Err()
}

// AnswerVisit answers visit request id, once.
func (s *Service) AnswerVisit(ctx context.Context, id uuid.UUID, a Answer) (Visit, error) {
	if err := a.Validate(); err != nil {
		return Visit{}, fmt.Errorf("answer visit: %w", err)
	}
	var v Visit
	err := store.WithTx(ctx, func(ctx context.Context) error {
		vs, err := s.queryVisits(ctx, selectVisits+` WHERE v.id = ?`, id)
		if err != nil {
			return err
		}
		if len(vs) == 0 {
			return fmt.Errorf("visit %s: %w", id, apperr.ErrNotFound)
		}
		var ok bool
		if err := store.DB(ctx).Raw(`SELECT cb_can_answer_visit(?)`, vs[0].Person.ID).Scan(&ok).Error; err != nil {
			return fmt.Errorf("check answer permission: %w", err)
		}
		if !ok {
			return apperr.Forbidden(PermAnswer, "Only officers and supervisors of the agency holding the person in a case answer a visit request.")
		}
		if vs[0].Status != VisitRequested {
			return apperr.Coded(apperr.ErrConflict, "visit.already_answered", "The visit request has been answered already.")
		}
		var visitAt, place, reason any
		if a.Status == VisitScheduled {
			visitAt, place = *a.VisitAt, strings.TrimSpace(a.Place)
		} else {
			reason = strings.TrimSpace(a.RefusalReason)
		}
		res := store.DB(ctx).Exec(`UPDATE consular_visits SET status = ?, visit_at = ?, place = ?, refusal_reason = ?,
			answered_by = cb_user_id(), answered_by_agency = cb_agency_id(), answered_at = now()
			WHERE id = ? AND status = 'requested'`, a.Status, visitAt, place, reason, id)
		if res.Error != nil {
			return fmt.Errorf("answer visit: %w", pgerr.Map(res.Error, PermAnswer))
		}
		if res.RowsAffected == 0 { // answered meanwhile by someone else
			return apperr.Coded(apperr.ErrConflict, "visit.already_answered", "The visit request has been answered already.")
		}
		if vs, err = s.queryVisits(ctx, selectVisits+` WHERE v.id = ?`, id); err != nil {
			return err
		}
		v = vs[0]
		return audit.Record(ctx, audit.Event{Action: "visit.answer", ObjectType: "visit", ObjectID: id.String(),
			Details: map[string]any{"status": a.Status}})
	})
	if err != nil {
		s.refused(ctx, err, "visit.answer", "visit", id)
		return Visit{}, fmt.Errorf("answer visit %s: %w", id, err)
	}
	return v, nil
}
