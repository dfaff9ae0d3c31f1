package devidp

import (
	"slices"
	"time"

	"github.com/mohae/deepcopy"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// session is what fosite stores with an authorization code or token: the ID
// token claims (openid.DefaultSession) and the access token claims (what
// fosite's JWT access-token strategy signs).
type session struct {
	*openid.DefaultSession
	Access       *jwt.JWTClaims
	AccessHeader *jwt.Headers
}

func newSession() *session {
	return &session{
		DefaultSession: openid.NewDefaultSession(),
		Access:         &jwt.JWTClaims{Extra: map[string]any{}},
		AccessHeader:   &jwt.Headers{},
	}
}

// GetJWTClaims implements oauth2.JWTSessionContainer.
func (s *session) GetJWTClaims() jwt.JWTClaimsContainer {
	if s.Access == nil {
		s.Access = &jwt.JWTClaims{}
	}
	return s.Access
}

// GetJWTHeader implements oauth2.JWTSessionContainer.
func (s *session) GetJWTHeader() *jwt.Headers {
	if s.AccessHeader == nil {
		s.AccessHeader = &jwt.Headers{}
	}
	return s.AccessHeader
}

// Clone implements fosite.Session; the embedded DefaultSession's Clone would
// drop the access token claims.
func (s *session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	return deepcopy.Copy(s).(fosite.Session)
}

// identityClaims are the agency and roles claims at their configured paths.
func (p *Provider) identityClaims(agency string, roles []string) map[string]any {
	m := map[string]any{}
	setClaim(m, p.cfg.AgencyClaim, agency)
	setClaim(m, p.cfg.RolesClaim, slices.Clone(roles))
	return m
}

// accountSession is the session of an account signing in with the
// authorization code flow (clientID is the portal) or through MintToken.
func (p *Provider) accountSession(a Account, clientID string, requestedAt time.Time) *session {
	s := newSession()
	sub := a.subject()
	profile := func() map[string]any {
		m := p.identityClaims(a.Agency, a.Roles)
		m["name"] = a.Name
		m["preferred_username"] = a.Username
		if a.Email != "" {
			m["email"] = a.Email
			m["email_verified"] = true
		}
		return m
	}
	s.Subject = sub
	s.Username = a.Username
	s.Claims.Subject = sub
	s.Claims.AuthTime = time.Now().UTC().Truncate(time.Second)
	s.Claims.RequestedAt = requestedAt
	s.Claims.Extra = profile()
	s.Access.Subject = sub
	s.Access.Extra = profile()
	s.Access.Extra["client_id"] = clientID
	return s
}

// clientSession is the session of a partner system using client credentials:
// the client is the subject and carries its configured agency and roles.
func (p *Provider) clientSession(s *session, c *client) {
	s.Subject = c.GetID()
	s.Access.Subject = c.GetID()
	s.Access.Extra = p.identityClaims(c.cfg.Agency, c.cfg.Roles)
	s.Access.Extra["client_id"] = c.GetID()
	if c.cfg.Name != "" {
		s.Access.Extra["name"] = c.cfg.Name
	}
}
