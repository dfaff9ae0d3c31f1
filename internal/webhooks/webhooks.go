// Package webhooks sends consular events to embassy systems: an admin sets
// an embassy's endpoint (a URL the policy allows, and a signing secret the
// server generates, shows once and keeps encrypted); every
// notification.created, notification.withdrawn and visit.answered event is
// delivered to it, signed in the Standard Webhooks style, through the River
// job queue with exponential backoff; every attempt is logged for admins.
//
// The database decides what is sent and to whom
// (migrations/access/62_webhooks.sql): triggers on consular_notifications
// and consular_visits write each event to an outbox in the transaction of
// the change, and the body is built at delivery by cb_webhook_data as the
// embassy's liaison would read it through the consular view, so a webhook
// can never carry more than the consular projection. docs/webhooks.md
// describes the scheme for receivers.
package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/page"
	"github.com/casebridge/casebridge/internal/store"
)

// PermManage is named in 403 problems: setting a webhook and reading its
// delivery log (admins).
const PermManage = "webhook.manage"

// Event types.
const (
	EventNotificationCreated   = "notification.created"
	EventNotificationWithdrawn = "notification.withdrawn"
	EventVisitAnswered         = "visit.answered"
)

// Service manages endpoints and reads the delivery log.
type Service struct {
	sealer *Sealer // nil: no webhooks.secret_key, webhooks cannot be set
	policy Policy
	log    *slog.Logger
}

// NewService returns the service; sealer may be nil (no key configured).
func NewService(sealer *Sealer, policy Policy, log *slog.Logger) *Service {
	return &Service{sealer: sealer, policy: policy, log: log}
}

// Endpoint is an agency's webhook as an admin sees it: never the secret.
type Endpoint struct {
	AgencyID    uuid.UUID
	Configured  bool
	URL         string
	Enabled     bool
	SecretHint  string
	SecretSetAt *time.Time
	UpdatedAt   *time.Time
	Version     int
}

type endpointRow struct {
	AgencyID    uuid.UUID `gorm:"column:agency_id"`
	URL         string    `gorm:"column:url"`
	Enabled     bool      `gorm:"column:enabled"`
	SecretHint  string    `gorm:"column:secret_hint"`
	SecretSetAt time.Time `gorm:"column:secret_set_at"`
	UpdatedAt   time.Time `gorm:"column:updated_at"`
	Version     int       `gorm:"column:version"`
}

// checkAdmin loads the agency's kind: 404 when it does not exist, 403 when
// the principal is no admin.
func checkAdmin(ctx context.Context, agency uuid.UUID) (kind string, err error) {
	var row struct {
		Kind  string `gorm:"column:kind"`
		Admin bool   `gorm:"column:admin"`
	}
	res := store.DB(ctx).Raw(`SELECT a.kind, cb_has_role('admin') AS admin FROM agencies a WHERE a.id = ?`, agency).Scan(&row)
	if res.Error != nil {
		return "", fmt.Errorf("load agency: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return "", fmt.Errorf("agency %s: %w", agency, apperr.ErrNotFound)
	}
	if !row.Admin {
		return "", apperr.Forbidden(PermManage, "Only an admin sets an agency's webhook and reads its deliveries.")
	}
	return row.Kind, nil
}

func loadEndpoint(ctx context.Context, agency uuid.UUID) (Endpoint, error) {
	var rows []endpointRow
	if err := store.DB(ctx).Raw(`SELECT agency_id, url, enabled, secret_hint, secret_set_at, updated_at, version
		FROM agency_webhooks WHERE agency_id = ?`, agency).Scan(&rows).Error; err != nil {
		return Endpoint{}, fmt.Errorf("load webhook: %w", err)
	}
	if len(rows) == 0 {
		return Endpoint{AgencyID: agency}, nil
	}
	r := rows[0]
	return Endpoint{AgencyID: agency, Configured: true, URL: r.URL, Enabled: r.Enabled, SecretHint: r.SecretHint,
		SecretSetAt: &r.SecretSetAt, UpdatedAt: &r.UpdatedAt, Version: r.Version}, nil
}

// Get returns the agency's webhook (Configured false when none is set).
func (s *Service) Get(ctx context.Context, agency uuid.UUID) (Endpoint, error) {
	var e Endpoint
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if _, err := checkAdmin(ctx, agency); err != nil {
			return err
		}
		var err error
		if e, err = loadEndpoint(ctx, agency); err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "webhook.read", ObjectType: "agency", ObjectID: agency.String()})
	})
	if err != nil {
		s.refused(ctx, err, "webhook.read", agency)
		return Endpoint{}, fmt.Errorf("read webhook of agency %s: %w", agency, err)
	}
	return e, nil
}

// Change sets an agency's webhook.
type Change struct {
	URL          string
	Enabled      *bool // nil: true for a new endpoint, unchanged otherwise
	RotateSecret bool  // a new secret; always for a new endpoint
}

// Put sets the agency's webhook and returns it, with the new signing
// secret when one was generated (the only time it is ever shown).
func (s *Service) Put(ctx context.Context, agency uuid.UUID, ch Change) (Endpoint, string, error) {
	var (
		e      Endpoint
		secret string
	)
	err := store.WithTx(ctx, func(ctx context.Context) error {
		kind, err := checkAdmin(ctx, agency)
		if err != nil {
			return err
		}
		var fs apperr.Fields
		if kind != "embassy" {
			fs.Add("agency", "webhooks are sent to embassy systems only")
		}
		if ch.URL == "" {
			fs.Add("url", "is required")
		} else if err := s.policy.CheckURL(ch.URL); err != nil {
			fs.Add("url", "%s", err.Error())
		}
		if err := fs.Err(); err != nil {
			return err
		}
		if s.sealer == nil {
			return apperr.With(apperr.ErrUnprocessable, "webhooks are not available on this server (setting webhooks.secret_key is not set)")
		}
		cur, err := loadEndpoint(ctx, agency)
		if err != nil {
			return err
		}
		enabled := true
		if ch.Enabled != nil {
			enabled = *ch.Enabled
		} else if cur.Configured {
			enabled = cur.Enabled
		}
		var sealed []byte
		if !cur.Configured || ch.RotateSecret {
			if secret, err = NewSecret(); err != nil {
				return err
			}
			if sealed, err = s.sealer.Seal(agency, secret); err != nil {
				return err
			}
		}
		if !cur.Configured {
			err = store.DB(ctx).Exec(`INSERT INTO agency_webhooks (agency_id, url, secret_sealed, secret_hint, enabled)
				VALUES (?, ?, ?, ?, ?)`, agency, ch.URL, sealed, Hint(secret), enabled).Error
		} else if sealed != nil {
			err = store.DB(ctx).Exec(`UPDATE agency_webhooks SET url = ?, enabled = ?, secret_sealed = ?, secret_hint = ?,
				secret_set_at = now(), updated_at = now(), updated_by = cb_user_id(), version = version + 1
				WHERE agency_id = ?`, ch.URL, enabled, sealed, Hint(secret), agency).Error
		} else {
			err = store.DB(ctx).Exec(`UPDATE agency_webhooks SET url = ?, enabled = ?, updated_at = now(),
				updated_by = cb_user_id(), version = version + 1 WHERE agency_id = ?`, ch.URL, enabled, agency).Error
		}
		if err != nil {
			return fmt.Errorf("store webhook: %w", err)
		}
		if e, err = loadEndpoint(ctx, agency); err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "webhook.update", ObjectType: "agency", ObjectID: agency.String(),
			Details: map[string]any{"enabled": enabled, "secret_rotated": secret != "", "new": !cur.Configured}})
	})
	if err != nil {
		s.refused(ctx, err, "webhook.update", agency)
		return Endpoint{}, "", fmt.Errorf("set webhook of agency %s: %w", agency, err)
	}
	return e, secret, nil
}

// Attempt is one delivery attempt in the log.
type Attempt struct {
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	StatusCode *int      `json:"status_code"`
	Error      *string   `json:"error"`
	DurationMS int       `json:"duration_ms"`
}

// Delivery is one event sent (or to be sent) to an agency.
type Delivery struct {
	ID             uuid.UUID  `gorm:"column:id"`
	EventType      string     `gorm:"column:type"`
	Status         string     `gorm:"column:status"`
	Attempts       int        `gorm:"column:attempts"`
	CreatedAt      time.Time  `gorm:"column:created_at"`
	LastAttemptAt  *time.Time `gorm:"column:last_attempt_at"`
	LastStatusCode *int       `gorm:"column:last_status_code"`
	LastError      *string    `gorm:"column:last_error"`
	DeliveredAt    *time.Time `gorm:"column:delivered_at"`
	AttemptLog     []Attempt  `gorm:"-"`
	AttemptsJSON   string     `gorm:"column:attempt_log"`
}

// DeliveryFilter pages the log.
type DeliveryFilter struct {
	Limit  int
	Cursor string
}

type timeKey struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"i"`
}

// Validate returns every bad field of the filter.
func (f DeliveryFilter) Validate() error {
	var fs apperr.Fields
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

// DeliveryPage is one page of the log.
type DeliveryPage struct {
	Items      []Delivery
	NextCursor string
}

// Deliveries lists the agency's deliveries, newest first, each with its
// attempts.
func (s *Service) Deliveries(ctx context.Context, agency uuid.UUID, f DeliveryFilter) (DeliveryPage, error) {
	if err := f.Validate(); err != nil {
		return DeliveryPage{}, fmt.Errorf("list webhook deliveries: %w", err)
	}
	limit, _ := page.Limit(f.Limit)
	q := `SELECT d.id, d.type, d.status, d.attempts, d.created_at, d.last_attempt_at, d.last_status_code,
		d.last_error, d.delivered_at,
		(SELECT COALESCE(json_agg(json_build_object('attempt', a.attempt, 'at', a.at, 'status_code', a.status_code,
		        'error', a.error, 'duration_ms', a.duration_ms) ORDER BY a.attempt), '[]')
		   FROM webhook_attempts a WHERE a.delivery_id = d.id)::text AS attempt_log
		FROM webhook_deliveries d WHERE d.agency_id = ?`
	args := []any{agency}
	if f.Cursor != "" {
		var k timeKey
		_ = page.Decode(f.Cursor, &k)
		q += ` AND (d.created_at, d.id) < (?, ?)`
		args = append(args, k.At, k.ID)
	}
	q += fmt.Sprintf(` ORDER BY d.created_at DESC, d.id DESC LIMIT %d`, limit+1)
	var pg DeliveryPage
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if _, err := checkAdmin(ctx, agency); err != nil {
			return err
		}
		var rows []Delivery
		if err := store.DB(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
			return fmt.Errorf("query deliveries: %w", err)
		}
		for i, r := range rows {
			if i == limit {
				last := rows[i-1]
				pg.NextCursor = page.Encode(timeKey{At: last.CreatedAt, ID: last.ID})
				break
			}
			if err := json.Unmarshal([]byte(r.AttemptsJSON), &r.AttemptLog); err != nil {
				return fmt.Errorf("decode attempts: %w", err)
			}
			pg.Items = append(pg.Items, r)
		}
		return audit.Record(ctx, audit.Event{Action: "webhook.deliveries.list", ObjectType: "agency",
			ObjectID: agency.String(), Details: map[string]any{"count": len(pg.Items)}})
	})
	if err != nil {
		s.refused(ctx, err, "webhook.deliveries.list", agency)
		return DeliveryPage{}, fmt.Errorf("list webhook deliveries of agency %s: %w", agency, err)
	}
	return pg, nil
}

// refused audits a 403 (agencies are visible to everyone, so a missing
// one is a plain 404 with nothing to audit).
func (s *Service) refused(ctx context.Context, err error, action string, agency uuid.UUID) {
	var pe *apperr.PermissionError
	if !errors.As(err, &pe) {
		return
	}
	ev := audit.Event{Action: action, ObjectType: "agency", ObjectID: agency.String(), Outcome: audit.Denied,
		Details: map[string]any{"missing_permission": pe.Permission}}
	if rerr := audit.Record(store.Detached(ctx), ev); rerr != nil {
		s.log.ErrorContext(ctx, "audit refusal", "error", rerr.Error(), "action", action)
	}
}
