// Package agencies is the directory: the agencies that take part in
// CaseBridge and, for administrators, their users. Every signed-in
// principal reads the agencies (to pick whom to share a case with); only an
// admin creates or changes one, and only an admin lists users. The database
// enforces both (RLS on agencies and users, migrations 00001 and 00010); the
// service asks it first so that a refusal is a 403 naming the permission.
package agencies

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/page"
	"github.com/casebridge/casebridge/internal/pgerr"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/validate"
)

// Permissions shown in 403 problems.
const (
	PermManage    = "agencies.manage"
	PermUsersRead = "users.read"
)

// Agency is one agency.
type Agency struct {
	ID        uuid.UUID   `gorm:"column:id"`
	Code      string      `gorm:"column:code"`
	Name      string      `gorm:"column:name"`
	NameKm    string      `gorm:"column:name_km"` // the name in Khmer; "" when not entered
	Kind      access.Kind `gorm:"column:kind"`
	Country   *string     `gorm:"column:country"`
	Enabled   bool        `gorm:"column:enabled"`
	Version   int         `gorm:"column:version"`
	CreatedAt time.Time   `gorm:"column:created_at"`
	UpdatedAt time.Time   `gorm:"column:updated_at"`
}

// NewAgency is what an admin gives to register an agency.
type NewAgency struct {
	Code    string
	Name    string
	NameKm  string // optional
	Kind    access.Kind
	Country string // ISO 3166-1 alpha-2; required for embassies
	Enabled bool
}

// Patch changes an agency; nil leaves a field. Code and kind never change:
// tokens name the agency by code, and roles are defined by kind.
type Patch struct {
	Name    *string
	NameKm  *string // "" clears
	Country *string // "" clears (not for embassies)
	Enabled *bool
}

var codeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,39}$`)

func checkName(fs *apperr.Fields, name string) {
	if n := utf8.RuneCountInString(name); n == 0 || n > 200 || strings.ContainsRune(name, 0) {
		fs.Add("name", "is required, at most 200 characters")
	}
}

func checkNameKm(fs *apperr.Fields, name string) {
	if utf8.RuneCountInString(name) > 200 || strings.ContainsRune(name, 0) {
		fs.Add("name_km", "must be at most 200 characters")
	}
}

// Validate returns every bad field.
func (n NewAgency) Validate() error {
	var fs apperr.Fields
	if !codeRE.MatchString(n.Code) {
		fs.Add("code", "must be 2 to 40 lower-case letters, digits or hyphens, starting with a letter or digit")
	}
	checkName(&fs, n.Name)
	checkNameKm(&fs, n.NameKm)
	if !n.Kind.Valid() {
		fs.Add("kind", "must be one of immigration_police, counter_trafficking, embassy, interior_ministry, court")
	}
	if n.Country != "" && !validate.Country(n.Country) {
		fs.Add("country", "must be an ISO 3166-1 alpha-2 country code, e.g. CN")
	}
	if n.Kind == access.KindEmbassy && n.Country == "" {
		fs.Add("country", "is required for an embassy: the country it represents")
	}
	return fs.Err()
}

// Service runs the directory actions for the principal of ctx.
type Service struct {
	log *slog.Logger
}

// NewService returns the directory service.
func NewService(log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{log: log}
}

const selectAgencies = `SELECT id, code, name, name_km, kind, country, enabled, version, created_at, updated_at FROM agencies`

// List returns every agency (directory data, not case content), by code;
// kind narrows to one kind when not empty.
func (s *Service) List(ctx context.Context, kind access.Kind) ([]Agency, error) {
	if kind != "" && !kind.Valid() {
		return nil, fmt.Errorf("list agencies: %w", apperr.Invalid("kind", "must be one of immigration_police, counter_trafficking, embassy, interior_ministry, court"))
	}
	q, args := selectAgencies, []any{}
	if kind != "" {
		q, args = q+` WHERE kind = ?`, append(args, string(kind))
	}
	var out []Agency
	err := store.WithTx(ctx, func(ctx context.Context) error {
		return store.DB(ctx).Raw(q+` ORDER BY code`, args...).Scan(&out).Error
	})
	if err != nil {
		return nil, fmt.Errorf("list agencies: %w", err)
	}
	return out, nil
}

// isAdmin asks the database whether the principal holds the admin role.
func isAdmin(ctx context.Context) (bool, error) {
	var ok bool
	if err := store.DB(ctx).Raw(`SELECT COALESCE(cb_has_role('admin'), false)`).Scan(&ok).Error; err != nil {
		return false, fmt.Errorf("check admin: %w", err)
	}
	return ok, nil
}

func requireAdmin(ctx context.Context, perm string) error {
	ok, err := isAdmin(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Forbidden(perm, "Only administrators do this.")
	}
	return nil
}

func getAgency(ctx context.Context, id uuid.UUID) (Agency, error) {
	var a Agency
	res := store.DB(ctx).Raw(selectAgencies+` WHERE id = ?`, id).Scan(&a)
	if res.Error != nil {
		return a, fmt.Errorf("load agency %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return a, fmt.Errorf("agency %s: %w", id, apperr.ErrNotFound)
	}
	return a, nil
}

// Create registers an agency.
func (s *Service) Create(ctx context.Context, n NewAgency) (Agency, error) {
	n.Code = strings.TrimSpace(n.Code)
	n.Name = strings.TrimSpace(n.Name)
	n.NameKm = strings.TrimSpace(n.NameKm)
	n.Country = strings.ToUpper(strings.TrimSpace(n.Country))
	if err := n.Validate(); err != nil {
		return Agency{}, fmt.Errorf("create agency: %w", err)
	}
	var a Agency
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if err := requireAdmin(ctx, PermManage); err != nil {
			return err
		}
		var country any
		if n.Country != "" {
			country = n.Country
		}
		var id uuid.UUID
		err := store.DB(ctx).Raw(`INSERT INTO agencies (code, name, name_km, kind, country, enabled) VALUES (?, ?, ?, ?, ?, ?)
			RETURNING id`, n.Code, n.Name, n.NameKm, string(n.Kind), country, n.Enabled).Row().Scan(&id)
		if store.IsUniqueViolation(err, "") {
			return apperr.Invalid("code", "is taken by another agency")
		}
		if err != nil {
			return fmt.Errorf("insert agency: %w", pgerr.Map(err, PermManage))
		}
		if a, err = getAgency(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "agency.create", ObjectType: "agency", ObjectID: id.String(),
			Details: map[string]any{"code": n.Code, "kind": n.Kind}})
	})
	if err != nil {
		s.refused(ctx, err, "agency.create", "")
		return Agency{}, fmt.Errorf("create agency: %w", err)
	}
	return a, nil
}

// Update changes agency id when its version is still version; version 0
// (If-Match: *) changes whatever version is current.
func (s *Service) Update(ctx context.Context, id uuid.UUID, version int, p Patch) (Agency, error) {
	var fs apperr.Fields
	if p.Name == nil && p.NameKm == nil && p.Country == nil && p.Enabled == nil {
		fs.Add("body", "changes nothing; send at least one field")
	}
	if p.Name != nil {
		*p.Name = strings.TrimSpace(*p.Name)
		checkName(&fs, *p.Name)
	}
	if p.NameKm != nil {
		*p.NameKm = strings.TrimSpace(*p.NameKm)
		checkNameKm(&fs, *p.NameKm)
	}
	if p.Country != nil {
		*p.Country = strings.ToUpper(strings.TrimSpace(*p.Country))
		if *p.Country != "" && !validate.Country(*p.Country) {
			fs.Add("country", "must be an ISO 3166-1 alpha-2 country code, e.g. CN")
		}
	}
	if err := fs.Err(); err != nil {
		return Agency{}, fmt.Errorf("update agency %s: %w", id, err)
	}
	var a Agency
	err := store.WithTx(ctx, func(ctx context.Context) error {
		cur, err := getAgency(ctx, id)
		if err != nil {
			return err
		}
		if err := requireAdmin(ctx, PermManage); err != nil {
			return err
		}
		if version != 0 && cur.Version != version {
			return apperr.With(apperr.ErrPreconditionFailed,
				"The agency changed since you read it (you sent version %d, it is now %d).", version, cur.Version)
		}
		if p.Country != nil && *p.Country == "" && cur.Kind == access.KindEmbassy {
			return apperr.Invalid("country", "is required for an embassy")
		}
		sets := []string{"version = version + 1", "updated_at = now()"}
		var args []any
		if p.Name != nil {
			sets, args = append(sets, "name = ?"), append(args, *p.Name)
		}
		if p.NameKm != nil {
			sets, args = append(sets, "name_km = ?"), append(args, *p.NameKm)
		}
		if p.Country != nil {
			var c any
			if *p.Country != "" {
				c = *p.Country
			}
			sets, args = append(sets, "country = ?"), append(args, c)
		}
		if p.Enabled != nil {
			sets, args = append(sets, "enabled = ?"), append(args, *p.Enabled)
		}
		res := store.DB(ctx).Exec(`UPDATE agencies SET `+strings.Join(sets, ", ")+` WHERE id = ? AND (version = ? OR ? = 0)`,
			append(args, id, version, version)...)
		if res.Error != nil {
			return fmt.Errorf("update agency: %w", pgerr.Map(res.Error, PermManage))
		}
		if res.RowsAffected == 0 {
			return apperr.With(apperr.ErrPreconditionFailed, "The agency changed while you were saving; read it again.")
		}
		if a, err = getAgency(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "agency.update", ObjectType: "agency", ObjectID: id.String(),
			Details: map[string]any{"version": a.Version, "enabled": a.Enabled}})
	})
	if err != nil {
		s.refused(ctx, err, "agency.update", id.String())
		return Agency{}, fmt.Errorf("update agency %s: %w", id, err)
	}
	return a, nil
}

// User is a user as an administrator sees it.
type User struct {
	ID         uuid.UUID
	Issuer     string
	Subject    string
	Name       string
	Username   string
	Email      string
	Agency     Agency
	Roles      []string
	CreatedAt  time.Time
	LastSignIn *time.Time
	UpdatedAt  time.Time
}

// UserFilter selects users.
type UserFilter struct {
	Agency string // agency code
	Limit  int
	Cursor string
}

// UserPage is one page of users.
type UserPage struct {
	Items      []User
	NextCursor string
}

type userKey struct {
	CreatedAt time.Time `json:"c"`
	ID        uuid.UUID `json:"i"`
}

// Users lists the users (admin only), oldest first.
func (s *Service) Users(ctx context.Context, f UserFilter) (UserPage, error) {
	var fs apperr.Fields
	limit, err := page.Limit(f.Limit)
	if err != nil {
		fs.Add("limit", "must be between 1 and %d", page.MaxLimit)
	}
	var key userKey
	if f.Cursor != "" {
		if err := page.Decode(f.Cursor, &key); err != nil || key.ID == uuid.Nil {
			fs.Add("cursor", "is not a cursor this list returned")
		}
	}
	if err := fs.Err(); err != nil {
		return UserPage{}, fmt.Errorf("list users: %w", err)
	}
	q := `SELECT u.id, u.issuer, u.subject, u.name, u.username, u.email, array_to_json(u.roles)::text AS roles,
		u.created_at, u.updated_at, u.last_sign_in_at,
		a.id AS agency_id, a.code AS agency_code, a.name AS agency_name, a.kind AS agency_kind,
		a.country AS agency_country, a.enabled AS agency_enabled, a.version AS agency_version,
		a.created_at AS agency_created_at, a.updated_at AS agency_updated_at
		FROM users u JOIN agencies a ON a.id = u.agency_id`
	var where []string
	var args []any
	if f.Agency != "" {
		where, args = append(where, "a.code = ?"), append(args, strings.ToLower(f.Agency))
	}
	if f.Cursor != "" {
		where, args = append(where, "(u.created_at, u.id) > (?, ?)"), append(args, key.CreatedAt, key.ID)
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY u.created_at, u.id LIMIT %d", limit+1)
	var pg UserPage
	err = store.WithTx(ctx, func(ctx context.Context) error {
		if err := requireAdmin(ctx, PermUsersRead); err != nil {
			return err
		}
		var rows []struct {
			ID              uuid.UUID  `gorm:"column:id"`
			Issuer          string     `gorm:"column:issuer"`
			Subject         string     `gorm:"column:subject"`
			Name            string     `gorm:"column:name"`
			Username        string     `gorm:"column:username"`
			Email           string     `gorm:"column:email"`
			Roles           string     `gorm:"column:roles"`
			CreatedAt       time.Time  `gorm:"column:created_at"`
			UpdatedAt       time.Time  `gorm:"column:updated_at"`
			LastSignIn      *time.Time `gorm:"column:last_sign_in_at"`
			AgencyID        uuid.UUID  `gorm:"column:agency_id"`
			AgencyCode      string     `gorm:"column:agency_code"`
			AgencyName      string     `gorm:"column:agency_name"`
			AgencyKind      string     `gorm:"column:agency_kind"`
			AgencyCountry   *string    `gorm:"column:agency_country"`
			AgencyEnabled   bool       `gorm:"column:agency_enabled"`
			AgencyVersion   int        `gorm:"column:agency_version"`
			AgencyCreatedAt time.Time  `gorm:"column:agency_created_at"`
			AgencyUpdatedAt time.Time  `gorm:"column:agency_updated_at"`
		}
		if err := store.DB(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
			return fmt.Errorf("query users: %w", err)
		}
		for _, r := range rows {
			u := User{ID: r.ID, Issuer: r.Issuer, Subject: r.Subject, Name: r.Name, Username: r.Username,
				Email: r.Email, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, LastSignIn: r.LastSignIn,
				Agency: Agency{ID: r.AgencyID, Code: r.AgencyCode, Name: r.AgencyName, Kind: access.Kind(r.AgencyKind),
					Country: r.AgencyCountry, Enabled: r.AgencyEnabled, Version: r.AgencyVersion,
					CreatedAt: r.AgencyCreatedAt, UpdatedAt: r.AgencyUpdatedAt}}
			if err := json.Unmarshal([]byte(r.Roles), &u.Roles); err != nil {
				return fmt.Errorf("decode roles: %w", err)
			}
			if u.Roles == nil {
				u.Roles = []string{}
			}
			pg.Items = append(pg.Items, u)
		}
		if len(pg.Items) > limit {
			pg.Items = pg.Items[:limit]
			last := pg.Items[limit-1]
			pg.NextCursor = page.Encode(userKey{CreatedAt: last.CreatedAt, ID: last.ID})
		}
		return audit.Record(ctx, audit.Event{Action: "user.list", ObjectType: "user",
			Details: map[string]any{"count": len(pg.Items)}})
	})
	if err != nil {
		s.refused(ctx, err, "user.list", "")
		return UserPage{}, fmt.Errorf("list users: %w", err)
	}
	return pg, nil
}

// refused writes the audit event of a 403, outside the request's
// transaction.
func (s *Service) refused(ctx context.Context, err error, action, objectID string) {
	var pe *apperr.PermissionError
	if !errors.As(err, &pe) {
		return
	}
	ev := audit.Event{Action: action, ObjectType: "agency", ObjectID: objectID, Outcome: audit.Denied,
		Details: map[string]any{"missing_permission": pe.Permission}}
	if rerr := audit.Record(store.Detached(ctx), ev); rerr != nil {
		s.log.ErrorContext(ctx, "audit refusal", "error", rerr.Error(), "action", action)
	}
}
