package auth

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/store"
)

// identity is what a verified token says about its holder.
type identity struct {
	Issuer, Subject, Name, Username, Email, Agency string
	Roles                                          []string
}

// identityFrom reads the claims the settings name. Roles may be a list of
// strings or one string of space-separated roles (as a scope is); an agency
// may be a string or a one-element list (Keycloak user attributes).
func (s *Service) identityFrom(issuer string, claims map[string]any) identity {
	id := identity{Issuer: issuer}
	id.Subject, _ = claims["sub"].(string)
	id.Username, _ = claims["preferred_username"].(string)
	id.Email, _ = claims["email"].(string)
	id.Name, _ = claims["name"].(string)
	if id.Name == "" {
		id.Name = id.Username
	}
	switch v := claimAt(claims, s.cfg.AgencyClaim).(type) {
	case string:
		id.Agency = v
	case []any:
		if len(v) == 1 {
			id.Agency, _ = v[0].(string)
		}
	}
	switch v := claimAt(claims, s.cfg.RolesClaim).(type) {
	case []any:
		for _, r := range v {
			if r, ok := r.(string); ok {
				id.Roles = append(id.Roles, r)
			}
		}
	case string:
		id.Roles = strings.Fields(v)
	}
	return id
}

// claimAt follows a dotted path through nested claim objects.
func claimAt(claims map[string]any, path string) any {
	var cur any = claims
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

type agencyRow struct {
	ID      uuid.UUID
	Code    string
	Name    string
	Kind    string
	Country sql.NullString
	Enabled bool
}

// principalFor turns an identity into a principal: the agency must exist and
// be enabled, roles the agency's kind does not allow are dropped (and
// logged), and the user row (issuer, subject) is created or brought up to
// date. Nothing is written for a refused identity. touch marks a browser
// sign-in (users.last_sign_in_at).
func (s *Service) principalFor(ctx context.Context, id identity, touch bool) (access.Principal, error) {
	var p access.Principal
	if bad := badClaims(id); bad != "" {
		return p, &RefusedError{Reason: "invalid_claims", Detail: bad}
	}
	switch {
	case id.Subject == "":
		return p, &RefusedError{Reason: "no_subject"}
	case id.Agency == "":
		return p, &RefusedError{Reason: "no_agency_claim"}
	}
	var a agencyRow
	err := store.DB(ctx).Raw(`SELECT id, code, name, kind, country, enabled FROM agencies WHERE code = ?`, id.Agency).Scan(&a).Error
	switch {
	case err != nil:
		return p, fmt.Errorf("look up agency %q: %w", id.Agency, err)
	case a.ID == uuid.Nil:
		return p, &RefusedError{Reason: "unknown_agency", Agency: id.Agency}
	case !a.Enabled:
		return p, &RefusedError{Reason: "agency_disabled", Agency: id.Agency}
	}
	key := identityKey(id)
	if !touch {
		// The same claims resolved against the same, enabled agency row:
		// the users row is as sign-in left it, nothing to write.
		if c, ok := s.principals.get(key, time.Now()); ok && c.agency == a {
			return c.p, nil
		}
	}
	kind := access.Kind(a.Kind)
	roles, dropped := access.FilterRoles(kind, id.Roles)
	if len(dropped) > 0 {
		s.log.WarnContext(ctx, "roles dropped: not allowed for the agency's kind",
			"issuer", id.Issuer, "subject", id.Subject, "agency", a.Code, "kind", a.Kind, "dropped", dropped)
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	var uid uuid.UUID
	err = store.DB(ctx).Raw(`SELECT cb_sign_in_user(?, ?, ?, ?, ?, ?, string_to_array(?, ','), ?)`,
		id.Issuer, id.Subject, a.ID, truncate(id.Name, 200), truncate(id.Username, 200), truncate(id.Email, 320),
		strings.Join(names, ","), touch).Row().Scan(&uid)
	if err != nil {
		return p, fmt.Errorf("record user %s at %s: %w", id.Subject, id.Issuer, err)
	}
	p = access.Principal{
		UserID: uid, Issuer: id.Issuer, Subject: id.Subject, Name: id.Name,
		AgencyID: a.ID, AgencyCode: a.Code, AgencyName: a.Name, Kind: kind, Country: a.Country.String,
		Roles: roles,
	}
	if !touch {
		s.principals.put(key, cachedPrincipal{p: p, agency: a}, time.Now().Add(s.cfg.PrincipalCacheTTL))
	}
	return p, nil
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// Claim limits: a subject is an opaque string of at most 255 ASCII
// characters (OpenID Connect Core 2); the others are bounded by what the
// portal stores.
const (
	maxSubject = 255
	maxAgency  = 64
	maxRole    = 64
	maxRoles   = 32
	maxText    = 1000
)

// badClaims says which claim of a verified token cannot be true, or "".
// Claims are input: a NUL byte or another control character, text that is
// not valid UTF-8 (decoded JSON shows it as U+FFFD) or a value longer than
// the portal keeps refuses the sign-in with a clear reason instead of
// reaching PostgreSQL.
func badClaims(id identity) string {
	check := func(name, v string, limit int) string {
		if len(v) > limit {
			return fmt.Sprintf("the %s claim is longer than %d bytes", name, limit)
		}
		for _, r := range v {
			if r < 0x20 || r == 0x7f || r == utf8.RuneError {
				return fmt.Sprintf("the %s claim contains a control character or invalid text", name)
			}
		}
		return ""
	}
	for _, c := range []struct {
		name, v string
		limit   int
	}{
		{"sub", id.Subject, maxSubject}, {"iss", id.Issuer, maxText}, {"agency", id.Agency, maxAgency},
		{"name", id.Name, maxText}, {"preferred_username", id.Username, maxText}, {"email", id.Email, maxText},
	} {
		if msg := check(c.name, c.v, c.limit); msg != "" {
			return msg
		}
	}
	if len(id.Roles) > maxRoles {
		return fmt.Sprintf("the roles claim holds more than %d roles", maxRoles)
	}
	for _, r := range id.Roles {
		if msg := check("roles", r, maxRole); msg != "" {
			return msg
		}
	}
	return ""
}
