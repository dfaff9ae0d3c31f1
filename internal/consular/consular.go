// Package consular is the consular duty of ACCESS.md, "Consular
// notifications and visits": the embassy's inbox of notifications about its
// detained nationals, their acknowledgement, the ministry's overdue list,
// and consular visit requests and their answers.
//
// The database decides everything that matters: a trigger creates each
// notification in the transaction of the change that makes it due and
// withdraws it when the person stops being visible to the embassy; RLS
// decides who sees and acknowledges which notification, who requests and
// who answers a visit (migrations/access/60_consular_notifications.sql).
// This package reads and writes through those rules and shapes the answers.
package consular

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/page"
	"github.com/casebridge/casebridge/internal/pgerr"
	"github.com/casebridge/casebridge/internal/store"
)

// Permissions named in 403 problems.
const (
	PermAcknowledge = "notification.acknowledge"
	PermRequest     = "visit.request"
	PermAnswer      = "visit.answer"
)

// States of a notification, as the inbox filters them.
const (
	StateNew          = "new"
	StateAcknowledged = "acknowledged"
	StateOverdue      = "overdue"
	StateWithdrawn    = "withdrawn"
)

// Person is what a notification or visit says of its person: for an
// embassy the consular projection's identity and custody fields (a shelter
// shown as "in the care of the authorities"); for a coordinator the same
// fields from the full record.
type Person struct {
	ID            uuid.UUID `gorm:"column:person_id"`
	FamilyName    string    `gorm:"column:family_name"`
	GivenNames    string    `gorm:"column:given_names"`
	Nationality   string    `gorm:"column:nationality"`
	CustodyStatus string    `gorm:"column:custody_status"`
	Facility      string    `gorm:"column:facility"`
}

// Notification is one consular notification.
type Notification struct {
	ID             uuid.UUID
	Person         Person
	Country        string
	Episode        int
	DueAt          time.Time
	AcknowledgedAt *time.Time
	WithdrawnAt    *time.Time
	Overdue        bool
}

// State is the notification's state for the inbox.
func (n Notification) State() string {
	switch {
	case n.WithdrawnAt != nil:
		return StateWithdrawn
	case n.AcknowledgedAt != nil:
		return StateAcknowledged
	case n.Overdue:
		return StateOverdue
	}
	return StateNew
}

// Service reads and acknowledges notifications and handles visits.
type Service struct {
	overdue      time.Duration
	visitOverdue time.Duration
	log          *slog.Logger
}

// NewService returns a service; overdue and visitOverdue are the settings
// consular.overdue_after and consular.visit_overdue_after.
func NewService(overdue, visitOverdue time.Duration, log *slog.Logger) *Service {
	return &Service{overdue: overdue, visitOverdue: visitOverdue, log: log}
}

// Filter selects notifications.
type Filter struct {
	State  string // "", new, acknowledged, overdue, withdrawn
	Limit  int
	Cursor string
}

type timeKey struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"i"`
}

// Validate returns every bad field of the filter.
func (f Filter) Validate() error {
	var fs apperr.Fields
	if f.State != "" && !slices.Contains([]string{StateNew, StateAcknowledged, StateOverdue, StateWithdrawn}, f.State) {
		fs.Add("state", "must be one of new, acknowledged, overdue, withdrawn")
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

// Page is one page of notifications.
type Page struct {
	Items      []Notification
	NextCursor string
}

// selectNotifications reads notifications under RLS with their person: the
// consular view for an embassy (its own nationals are not in persons for
// it), the persons table for a coordinator (who sees persons in full).
const selectNotifications = `SELECT n.id, n.country, n.episode, n.due_at, n.acknowledged_at, n.withdrawn_at,
	n.person_id,
	COALESCE(cn.family_name, p.family_name, '') AS family_name,
	COALESCE(cn.given_names, p.given_names, '') AS given_names,
	COALESCE(cn.nationality, p.nationality, n.country) AS nationality,
	COALESCE(cn.custody_status, p.custody_status, '') AS custody_status,
	COALESCE(cn.facility, p.facility, '') AS facility
FROM consular_notifications n
LEFT JOIN consular_nationals cn ON cn.id = n.person_id
LEFT JOIN persons p ON p.id = n.person_id`

type notificationRow struct {
	ID             uuid.UUID  `gorm:"column:id"`
	Country        string     `gorm:"column:country"`
	Episode        int        `gorm:"column:episode"`
	DueAt          time.Time  `gorm:"column:due_at"`
	AcknowledgedAt *time.Time `gorm:"column:acknowledged_at"`
	WithdrawnAt    *time.Time `gorm:"column:withdrawn_at"`
	Person
}

func (s *Service) toNotification(r notificationRow, now time.Time) Notification {
	return Notification{ID: r.ID, Person: r.Person, Country: r.Country, Episode: r.Episode, DueAt: r.DueAt,
		AcknowledgedAt: r.AcknowledgedAt, WithdrawnAt: r.WithdrawnAt,
		Overdue: r.AcknowledgedAt == nil && r.WithdrawnAt == nil && now.Sub(r.DueAt) > s.overdue}
}

// Inbox lists the notifications the principal sees, newest due first: an
// embassy liaison its own (never withdrawn ones), a coordinator all.
func (s *Service) Inbox(ctx context.Context, f Filter) (Page, error) {
	if err := f.Validate(); err != nil {
		return Page{}, fmt.Errorf("list notifications: %w", err)
	}
	limit, _ := page.Limit(f.Limit)
	q := selectNotifications + ` WHERE true`
	var args []any
	switch f.State {
	case StateNew:
		q += ` AND n.acknowledged_at IS NULL AND n.withdrawn_at IS NULL`
	case StateAcknowledged:
		q += ` AND n.acknowledged_at IS NOT NULL AND n.withdrawn_at IS NULL`
	case StateOverdue:
		q += ` AND n.acknowledged_at IS NULL AND n.withdrawn_at IS NULL AND n.due_at < now() - ?::interval`
		args = append(args, fmt.Sprintf("%d seconds", int64(s.overdue.Seconds())))
	case StateWithdrawn:
		q += ` AND n.withdrawn_at IS NOT NULL`
	}
	if f.Cursor != "" {
		var k timeKey
		_ = page.Decode(f.Cursor, &k)
		q += ` AND (n.due_at, n.id) < (?, ?)`
		args = append(args, k.At, k.ID)
	}
	q += fmt.Sprintf(` ORDER BY n.due_at DESC, n.id DESC LIMIT %d`, limit+1)
	var pg Page
	err := store.WithTx(ctx, func(ctx context.Context) error {
		var rows []notificationRow
		if err := store.DB(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
			return fmt.Errorf("query notifications: %w", err)
		}
		now := time.Now()
		for i, r := range rows {
			if i == limit {
				last := rows[i-1]
				pg.NextCursor = page.Encode(timeKey{At: last.DueAt, ID: last.ID})
				break
			}
			pg.Items = append(pg.Items, s.toNotification(r, now))
		}
		return audit.Record(ctx, audit.Event{Action: "notification.list", ObjectType: "notification",
			Details: map[string]any{"state": f.State, "count": len(pg.Items)}})
	})
	if err != nil {
		return Page{}, fmt.Errorf("list notifications: %w", err)
	}
	return pg, nil
}

// Acknowledge records that the embassy received notification id. It is
// idempotent: a second acknowledgement changes nothing and answers the same.
func (s *Service) Acknowledge(ctx context.Context, id uuid.UUID) (Notification, error) {
	var n Notification
	err := store.WithTx(ctx, func(ctx context.Context) error {
		var rows []notificationRow
		if err := store.DB(ctx).Raw(selectNotifications+` WHERE n.id = ?`, id).Scan(&rows).Error; err != nil {
			return fmt.Errorf("load notification: %w", err)
		}
		if len(rows) == 0 {
			return fmt.Errorf("notification %s: %w", id, apperr.ErrNotFound)
		}
		var viewer bool
		if err := store.DB(ctx).Raw(`SELECT cb_consular_viewer() AND ? = cb_country()`, rows[0].Country).Scan(&viewer).Error; err != nil {
			return fmt.Errorf("check liaison: %w", err)
		}
		if !viewer || rows[0].WithdrawnAt != nil {
			return apperr.Forbidden(PermAcknowledge, "Only a liaison of the notified embassy acknowledges a notification.")
		}
		if rows[0].AcknowledgedAt == nil {
			res := store.DB(ctx).Exec(`UPDATE consular_notifications SET acknowledged_at = now(), acknowledged_by = cb_user_id()
				WHERE id = ? AND acknowledged_at IS NULL`, id)
			if res.Error != nil {
				return fmt.Errorf("acknowledge: %w", pgerr.Map(res.Error, PermAcknowledge))
			}
			if err := store.DB(ctx).Raw(selectNotifications+` WHERE n.id = ?`, id).Scan(&rows).Error; err != nil {
				return fmt.Errorf("reload notification: %w", err)
			}
			if err := audit.Record(ctx, audit.Event{Action: "notification.acknowledge", ObjectType: "notification",
				ObjectID: id.String()}); err != nil {
				return err
			}
		}
		n = s.toNotification(rows[0], time.Now())
		return nil
	})
	if err != nil {
		s.refused(ctx, err, "notification.acknowledge", "notification", id)
		return Notification{}, fmt.Errorf("acknowledge notification %s: %w", id, err)
	}
	return n, nil
}

// refused audits a 403, and a 404 on a record that exists.
func (s *Service) refused(ctx context.Context, err error, action, kind string, id uuid.UUID) {
	outcome := audit.Denied
	switch {
	case errors.Is(err, apperr.ErrForbidden):
	case errors.Is(err, apperr.ErrNotFound):
		var ok bool
		rerr := store.WithTx(store.Detached(ctx), func(ctx context.Context) error {
			return store.DB(ctx).Raw(`SELECT cb_consular_record_exists(?, ?)`, kind, id).Scan(&ok).Error
		})
		if rerr != nil || !ok {
			return
		}
		outcome = audit.NotFound
	default:
		return
	}
	ev := audit.Event{Action: action, ObjectType: kind, ObjectID: id.String(), Outcome: outcome}
	var pe *apperr.PermissionError
	if errors.As(err, &pe) {
		ev.Details = map[string]any{"missing_permission": pe.Permission}
	}
	if rerr := audit.Record(store.Detached(ctx), ev); rerr != nil {
		s.log.ErrorContext(ctx, "audit refusal", "error", rerr.Error(), "action", action)
	}
}

// checkText reports a bad free-text field.
func checkText(fs *apperr.Fields, name, v string, max int, required bool) {
	switch {
	case required && strings.TrimSpace(v) == "":
		fs.Add(name, "is required")
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0) || strings.ContainsRune(v, utf8.RuneError):
		fs.Add(name, "must be valid text")
	case utf8.RuneCountInString(v) > max:
		fs.Add(name, "must be at most %d characters", max)
	}
}
