package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/store"
)

// Browser sessions live in PostgreSQL (so any instance serves any request).
// The cookie holds a random token; the table holds its SHA-256 only, so a
// copy of the table opens no session.

// touchEvery is how stale last_seen_at may get before a request refreshes
// it: the idle timeout is enforced to within this, at one write per minute
// per active session instead of one per request.
const touchEvery = time.Minute

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is the SHA-256 of a token, hex-encoded for the query (GORM
// would expand a []byte argument into a list); SQL decodes it back into
// bytea with decode(?, 'hex').
func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// createSession stores a new session for p and returns its cookie token.
func (s *Service) createSession(ctx context.Context, p *access.Principal) (token string, sess *Session, err error) {
	token = randomToken(32)
	sess = &Session{CSRFToken: randomToken(32), ExpiresAt: time.Now().Add(s.cfg.AbsoluteTimeout).UTC().Truncate(time.Second)}
	roles := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		roles[i] = string(r)
	}
	var id uuid.UUID
	err = store.DB(ctx).Raw(`INSERT INTO sessions (token_hash, user_id, issuer, subject, name, agency_id, roles, csrf_token, expires_at)
		VALUES (decode(?, 'hex'), ?, ?, ?, ?, ?, string_to_array(?, ','), ?, ?) RETURNING id`,
		hashToken(token), p.UserID, p.Issuer, p.Subject, truncate(p.Name, 200), p.AgencyID,
		strings.Join(roles, ","), sess.CSRFToken, sess.ExpiresAt).Row().Scan(&id)
	if err != nil {
		return "", nil, fmt.Errorf("create session: %w", err)
	}
	sess.ID = id.String()
	p.SessionID = sess.ID
	return token, sess, nil
}

type sessionRow struct {
	ID            uuid.UUID
	UserID        uuid.UUID
	Issuer        string
	Subject       string
	Name          string
	Roles         string
	CSRFToken     string `gorm:"column:csrf_token"`
	ExpiresAt     time.Time
	LastSeenAt    time.Time
	AgencyID      uuid.UUID
	AgencyCode    string
	AgencyName    string
	AgencyKind    string
	AgencyCountry sql.NullString
	AgencyEnabled bool
}

// errNoSession: the cookie names no live session (never was, ended,
// expired, idle too long, or its agency was disabled).
var errNoSession = errors.New("no live session")

// lookupSession finds the live session of a cookie token.
func (s *Service) lookupSession(ctx context.Context, token string) (access.Principal, *Session, error) {
	var p access.Principal
	var r sessionRow
	err := store.DB(ctx).Raw(`SELECT s.id, s.user_id, s.issuer, s.subject, s.name, array_to_string(s.roles, ',') AS roles,
			s.csrf_token, s.expires_at, s.last_seen_at,
			a.id AS agency_id, a.code AS agency_code, a.name AS agency_name, a.kind AS agency_kind,
			a.country AS agency_country, a.enabled AS agency_enabled
		FROM sessions s JOIN agencies a ON a.id = s.agency_id
		WHERE s.token_hash = decode(?, 'hex') AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(secs => ?)`,
		hashToken(token), s.cfg.IdleTimeout.Seconds()).Scan(&r).Error
	if err != nil {
		return p, nil, fmt.Errorf("look up session: %w", err)
	}
	if r.ID == uuid.Nil {
		return p, nil, errNoSession
	}
	if !r.AgencyEnabled {
		s.recordAuthEvent(ctx, authEvent{Kind: eventSessionRefused, Method: "session", SessionID: r.ID.String(),
			UserID: r.UserID.String(), Agency: r.AgencyCode, Reason: "agency_disabled"})
		// End it: it must not revive if the agency is enabled again.
		if err := store.DB(ctx).Exec(`DELETE FROM sessions WHERE id = ?`, r.ID).Error; err != nil {
			return p, nil, fmt.Errorf("end session of a disabled agency: %w", err)
		}
		return p, nil, errNoSession
	}
	if time.Since(r.LastSeenAt) > touchEvery {
		err := store.DB(ctx).Exec(`UPDATE sessions SET last_seen_at = now() WHERE id = ?`, r.ID).Error
		if err != nil {
			return p, nil, fmt.Errorf("touch session: %w", err)
		}
	}
	kind := access.Kind(r.AgencyKind)
	var claimed []string
	if r.Roles != "" {
		claimed = strings.Split(r.Roles, ",")
	}
	roles, _ := access.FilterRoles(kind, claimed)
	p = access.Principal{
		UserID: r.UserID, Issuer: r.Issuer, Subject: r.Subject, Name: r.Name,
		AgencyID: r.AgencyID, AgencyCode: r.AgencyCode, AgencyName: r.AgencyName, Kind: kind,
		Country: r.AgencyCountry.String, Roles: roles, SessionID: r.ID.String(),
	}
	return p, &Session{ID: r.ID.String(), CSRFToken: r.CSRFToken, ExpiresAt: r.ExpiresAt}, nil
}

// deleteSession ends the session of a cookie token and returns who it was,
// or ok=false when there was none.
func (s *Service) deleteSession(ctx context.Context, token string) (id, userID, agency string, ok bool, err error) {
	var r struct {
		ID     uuid.UUID
		UserID uuid.UUID
		Code   string
	}
	err = store.DB(ctx).Raw(`DELETE FROM sessions s USING agencies a
		WHERE s.token_hash = decode(?, 'hex') AND a.id = s.agency_id
		RETURNING s.id, s.user_id, a.code`, hashToken(token)).Scan(&r).Error
	if err != nil {
		return "", "", "", false, fmt.Errorf("delete session: %w", err)
	}
	if r.ID == uuid.Nil {
		return "", "", "", false, nil
	}
	return r.ID.String(), r.UserID.String(), r.Code, true, nil
}

// sweep removes expired sessions and sign-ins; sign-in calls it now and then
// so the tables do not grow with abandoned rows.
func (s *Service) sweep(ctx context.Context) {
	db := store.DB(ctx)
	err1 := db.Exec(`DELETE FROM auth_logins WHERE expires_at < now()`).Error
	err2 := db.Exec(`DELETE FROM sessions WHERE expires_at < now() OR last_seen_at < now() - make_interval(secs => ?)`,
		s.cfg.IdleTimeout.Seconds()).Error
	if err := errors.Join(err1, err2); err != nil {
		s.log.WarnContext(ctx, "sweep sessions", "err", err.Error())
	}
}
