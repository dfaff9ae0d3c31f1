package cases

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/pgerr"
	"github.com/casebridge/casebridge/internal/store"
)

// Share opens a case to another agency (grant G2 of ACCESS.md) until it
// expires or is revoked.
type Share struct {
	ID        uuid.UUID
	CaseID    uuid.UUID
	Agency    AgencyRef
	Level     Level
	Ceiling   access.Classification
	Purpose   string
	ExpiresAt time.Time
	CreatedAt time.Time
	RevokedAt *time.Time
	// Active: neither revoked nor expired, as the database saw it.
	Active bool
}

// NewShare is what a caller gives to share a case.
type NewShare struct {
	AgencyID  uuid.UUID
	Level     Level
	Ceiling   access.Classification
	Purpose   string
	ExpiresAt time.Time
}

// Validate returns every bad field; now is the time the share is made.
func (n NewShare) Validate(now time.Time) error {
	var f apperr.Fields
	if n.AgencyID == uuid.Nil {
		f.Add("agency_id", "is required")
	}
	if n.Level != LevelSummary && n.Level != LevelFull {
		f.Add("level", "must be one of summary, full")
	}
	if !n.Ceiling.Valid() {
		f.Add("ceiling", "must be one of public, restricted, confidential, secret")
	}
	switch l := utf8.RuneCountInString(n.Purpose); {
	case l == 0:
		f.Add("purpose", "is required: say why the agency needs the case")
	case l > maxPurpose:
		f.Add("purpose", "must be at most %d characters", maxPurpose)
	case strings.ContainsRune(n.Purpose, 0):
		f.Add("purpose", "must not contain NUL characters")
	}
	switch {
	case n.ExpiresAt.IsZero():
		f.Add("expires_at", "is required (at most %d days from now)", MaxShareDays)
	case !n.ExpiresAt.After(now):
		f.Add("expires_at", "must be in the future")
	case n.ExpiresAt.After(now.Add(MaxShareDays * 24 * time.Hour)):
		f.Add("expires_at", "must be at most %d days from now", MaxShareDays)
	}
	return f.Err()
}

type shareRow struct {
	ID         uuid.UUID  `gorm:"column:id"`
	CaseID     uuid.UUID  `gorm:"column:case_id"`
	AgencyID   uuid.UUID  `gorm:"column:agency_id"`
	AgencyCode string     `gorm:"column:agency_code"`
	AgencyName string     `gorm:"column:agency_name"`
	AgencyKind string     `gorm:"column:agency_kind"`
	Level      string     `gorm:"column:level"`
	Ceiling    string     `gorm:"column:ceiling"`
	Purpose    string     `gorm:"column:purpose"`
	ExpiresAt  time.Time  `gorm:"column:expires_at"`
	CreatedAt  time.Time  `gorm:"column:created_at"`
	RevokedAt  *time.Time `gorm:"column:revoked_at"`
	Active     bool       `gorm:"column:active"`
}

func (r shareRow) toShare() Share {
	return Share{
		ID: r.ID, CaseID: r.CaseID,
		Agency: AgencyRef{ID: r.AgencyID, Code: r.AgencyCode, Name: r.AgencyName, Kind: access.Kind(r.AgencyKind)},
		Level:  Level(r.Level), Ceiling: access.Classification(r.Ceiling), Purpose: r.Purpose,
		ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt, RevokedAt: r.RevokedAt, Active: r.Active,
	}
}

const selectShares = `SELECT s.id, s.case_id, s.agency_id, a.code AS agency_code, a.name AS agency_name,
	a.kind AS agency_kind, s.level, s.ceiling, s.purpose, s.expires_at, s.created_at, s.revoked_at,
	(s.revoked_at IS NULL AND s.expires_at > now()) AS active
FROM shares s JOIN agencies a ON a.id = s.agency_id`

// Shares lists the shares of case id that the principal sees: all of them
// for the owner agency, its own for a receiving agency (RLS on shares).
func (s *Service) Shares(ctx context.Context, caseID uuid.UUID) ([]Share, error) {
	var out []Share
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if _, err := getCase(ctx, caseID); err != nil {
			return err
		}
		var rows []shareRow
		if err := store.DB(ctx).Raw(selectShares+` WHERE s.case_id = ? ORDER BY s.created_at, s.id`, caseID).
			Scan(&rows).Error; err != nil {
			return fmt.Errorf("query shares: %w", err)
		}
		out = make([]Share, len(rows))
		for i, r := range rows {
			out[i] = r.toShare()
		}
		return audit.Record(ctx, audit.Event{Action: "case.shares.read", ObjectType: "case",
			ObjectID: caseID.String(), CaseID: caseID})
	})
	if err != nil {
		s.refused(ctx, err, "case.shares.read", caseID)
		return nil, fmt.Errorf("list shares of case %s: %w", caseID, err)
	}
	return out, nil
}

// CreateShare shares case caseID with another agency.
func (s *Service) CreateShare(ctx context.Context, caseID uuid.UUID, n NewShare) (Share, error) {
	n.Purpose = strings.TrimSpace(n.Purpose)
	if err := n.Validate(time.Now()); err != nil {
		return Share{}, fmt.Errorf("share case %s: %w", caseID, err)
	}
	var sh Share
	err := store.WithTx(ctx, func(ctx context.Context) error {
		c, err := getCase(ctx, caseID)
		if err != nil {
			return err
		}
		if err := require(ctx, PermShare, caseID, "Only a supervisor of the agency that owns the case shares it."); err != nil {
			return err
		}
		var target struct {
			Enabled bool
		}
		res := store.DB(ctx).Raw(`SELECT enabled FROM agencies WHERE id = ?`, n.AgencyID).Scan(&target)
		switch {
		case res.Error != nil:
			return fmt.Errorf("load agency %s: %w", n.AgencyID, res.Error)
		case res.RowsAffected == 0:
			return apperr.Invalid("agency_id", "names no agency")
		case !target.Enabled:
			return apperr.Invalid("agency_id", "names a disabled agency")
		case n.AgencyID == c.Owner.ID:
			return apperr.Invalid("agency_id", "is the agency that owns the case; it needs no share")
		}
		var id uuid.UUID
		err = store.DB(ctx).Raw(`INSERT INTO shares (case_id, agency_id, level, ceiling, purpose, expires_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			caseID, n.AgencyID, string(n.Level), string(n.Ceiling), n.Purpose, n.ExpiresAt).Row().Scan(&id)
		if err != nil {
			return fmt.Errorf("insert share: %w", pgerr.Map(err, PermShare))
		}
		var row shareRow
		if err := store.DB(ctx).Raw(selectShares+` WHERE s.id = ?`, id).Scan(&row).Error; err != nil {
			return fmt.Errorf("load share: %w", err)
		}
		sh = row.toShare()
		return audit.Record(ctx, audit.Event{Action: "case.share.create", ObjectType: "share", ObjectID: id.String(),
			CaseID: caseID, Details: map[string]any{"agency_id": n.AgencyID.String(), "level": n.Level,
				"ceiling": n.Ceiling, "expires_at": n.ExpiresAt.UTC().Format(time.RFC3339)}})
	})
	if err != nil {
		s.refused(ctx, err, "case.share.create", caseID)
		return Share{}, fmt.Errorf("share case %s: %w", caseID, err)
	}
	return sh, nil
}

// errNoShare: the case is visible but has no such share (not audited as a
// refusal on the case).
var errNoShare = fmt.Errorf("no such share of the case: %w", apperr.ErrNotFound)

// RevokeShare ends share shareID of case caseID now. Revoking a share that
// is already revoked changes nothing.
func (s *Service) RevokeShare(ctx context.Context, caseID, shareID uuid.UUID) error {
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if _, err := getCase(ctx, caseID); err != nil {
			return err
		}
		if err := require(ctx, PermShare, caseID, "Only a supervisor of the agency that owns the case revokes its shares."); err != nil {
			return err
		}
		var found int64
		if err := store.DB(ctx).Raw(`SELECT count(*) FROM shares WHERE id = ? AND case_id = ?`, shareID, caseID).
			Scan(&found).Error; err != nil {
			return fmt.Errorf("load share: %w", err)
		}
		if found == 0 {
			return errNoShare
		}
		res := store.DB(ctx).Exec(`UPDATE shares SET revoked_at = now(), revoked_by = cb_user_id()
			WHERE id = ? AND case_id = ? AND revoked_at IS NULL`, shareID, caseID)
		if res.Error != nil {
			return fmt.Errorf("revoke share: %w", pgerr.Map(res.Error, PermShare))
		}
		if res.RowsAffected == 0 {
			return nil
		}
		return audit.Record(ctx, audit.Event{Action: "case.share.revoke", ObjectType: "share",
			ObjectID: shareID.String(), CaseID: caseID})
	})
	if err != nil {
		s.refused(ctx, err, "case.share.revoke", caseID)
		return fmt.Errorf("revoke share %s of case %s: %w", shareID, caseID, err)
	}
	return nil
}

// StatusEntry is one change of a case's status.
type StatusEntry struct {
	FromStatus *string   `gorm:"column:from_status"`
	ToStatus   string    `gorm:"column:to_status"`
	Note       string    `gorm:"column:note"`
	ChangedAt  time.Time `gorm:"column:changed_at"`
}

// History lists the status changes of case id, oldest first, to whoever
// sees the case (RLS on case_status_history follows the case).
func (s *Service) History(ctx context.Context, caseID uuid.UUID) ([]StatusEntry, error) {
	var out []StatusEntry
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if _, err := getCase(ctx, caseID); err != nil {
			return err
		}
		if err := store.DB(ctx).Raw(`SELECT from_status, to_status, note, changed_at
			FROM case_status_history WHERE case_id = ? ORDER BY id`, caseID).Scan(&out).Error; err != nil {
			return fmt.Errorf("query status history: %w", err)
		}
		return audit.Record(ctx, audit.Event{Action: "case.history.read", ObjectType: "case",
			ObjectID: caseID.String(), CaseID: caseID})
	})
	if err != nil {
		s.refused(ctx, err, "case.history.read", caseID)
		return nil, fmt.Errorf("status history of case %s: %w", caseID, err)
	}
	return out, nil
}
