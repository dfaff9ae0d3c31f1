package devidp

import (
	"context"
	"sync"
	"time"

	"github.com/ory/fosite"
)

// memoryStore is the provider's storage for fosite: clients, authorization
// codes, PKCE and OpenID Connect requests, access and refresh tokens, all in
// memory (a restart signs everybody out of the provider, which is fine for
// development). fosite's own storage.MemoryStore would do, but it links
// fosite's test helpers (and the testing package) into the binary.
type memoryStore struct {
	mu       sync.Mutex
	clients  map[string]*client
	codes    map[string]*entry
	pkce     map[string]*entry
	oidc     map[string]*entry
	access   map[string]*entry
	refresh  map[string]*entry
	accessBy map[string]string // request id -> access token signature
	refrBy   map[string]string // request id -> refresh token signature
	jtis     map[string]time.Time
	writes   int
}

type entry struct {
	req     fosite.Requester
	active  bool
	expires time.Time
}

func newMemoryStore() *memoryStore {
	return &memoryStore{
		clients:  map[string]*client{},
		codes:    map[string]*entry{},
		pkce:     map[string]*entry{},
		oidc:     map[string]*entry{},
		access:   map[string]*entry{},
		refresh:  map[string]*entry{},
		accessBy: map[string]string{},
		refrBy:   map[string]string{},
		jtis:     map[string]time.Time{},
	}
}

// newEntry records req, expiring with its token of type tt (or after a day
// when the session does not say).
func (s *memoryStore) newEntry(req fosite.Requester, tt fosite.TokenType) *entry {
	exp := time.Time{}
	if sess := req.GetSession(); sess != nil {
		exp = sess.GetExpiresAt(tt)
	}
	if exp.IsZero() {
		exp = time.Now().Add(24 * time.Hour)
	}
	s.writes++
	if s.writes%1000 == 0 {
		s.sweep()
	}
	return &entry{req: req, active: true, expires: exp}
}

// sweep drops expired entries so a long-running dev instance that mints many
// tokens does not grow without bound. Called with s.mu held.
func (s *memoryStore) sweep() {
	now := time.Now()
	for _, m := range []map[string]*entry{s.codes, s.pkce, s.oidc, s.access, s.refresh} {
		for k, e := range m {
			if e.expires.Before(now) {
				delete(m, k)
			}
		}
	}
	for k, exp := range s.jtis {
		if exp.Before(now) {
			delete(s.jtis, k)
		}
	}
}

func (s *memoryStore) get(m map[string]*entry, key string) (*entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := m[key]
	if !ok {
		return nil, fosite.ErrNotFound
	}
	return e, nil
}

func (s *memoryStore) del(m map[string]*entry, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(m, key)
	return nil
}

// Clients.

func (s *memoryStore) GetClient(_ context.Context, id string) (fosite.Client, error) {
	c, ok := s.client(id)
	if !ok {
		return nil, fosite.ErrNotFound
	}
	return c, nil
}

func (s *memoryStore) client(id string) (*client, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	return c, ok
}

func (s *memoryStore) put(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.GetID()] = c
}

func (s *memoryStore) ClientAssertionJWTValid(_ context.Context, jti string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if exp, ok := s.jtis[jti]; ok && exp.After(time.Now()) {
		return fosite.ErrJTIKnown
	}
	return nil
}

func (s *memoryStore) SetClientAssertionJWT(_ context.Context, jti string, exp time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.jtis[jti]; ok && old.After(time.Now()) {
		return fosite.ErrJTIKnown
	}
	s.jtis[jti] = exp
	return nil
}

// Authorization codes.

func (s *memoryStore) CreateAuthorizeCodeSession(_ context.Context, code string, req fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = s.newEntry(req, fosite.AuthorizeCode)
	return nil
}

func (s *memoryStore) GetAuthorizeCodeSession(_ context.Context, code string, _ fosite.Session) (fosite.Requester, error) {
	e, err := s.get(s.codes, code)
	if err != nil {
		return nil, err
	}
	if !e.active {
		return e.req, fosite.ErrInvalidatedAuthorizeCode
	}
	return e.req, nil
}

func (s *memoryStore) InvalidateAuthorizeCodeSession(_ context.Context, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.codes[code]
	if !ok {
		return fosite.ErrNotFound
	}
	e.active = false
	return nil
}

// PKCE and OpenID Connect requests, keyed by authorization code.

func (s *memoryStore) CreatePKCERequestSession(_ context.Context, code string, req fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pkce[code] = s.newEntry(req, fosite.AuthorizeCode)
	return nil
}

func (s *memoryStore) GetPKCERequestSession(_ context.Context, code string, _ fosite.Session) (fosite.Requester, error) {
	e, err := s.get(s.pkce, code)
	if err != nil {
		return nil, err
	}
	return e.req, nil
}

func (s *memoryStore) DeletePKCERequestSession(_ context.Context, code string) error {
	return s.del(s.pkce, code)
}

func (s *memoryStore) CreateOpenIDConnectSession(_ context.Context, code string, req fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oidc[code] = s.newEntry(req, fosite.AuthorizeCode)
	return nil
}

func (s *memoryStore) GetOpenIDConnectSession(_ context.Context, code string, _ fosite.Requester) (fosite.Requester, error) {
	e, err := s.get(s.oidc, code)
	if err != nil {
		return nil, err
	}
	return e.req, nil
}

func (s *memoryStore) DeleteOpenIDConnectSession(_ context.Context, code string) error {
	return s.del(s.oidc, code)
}

// Access tokens.

func (s *memoryStore) CreateAccessTokenSession(_ context.Context, sig string, req fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access[sig] = s.newEntry(req, fosite.AccessToken)
	s.accessBy[req.GetID()] = sig
	return nil
}

func (s *memoryStore) GetAccessTokenSession(_ context.Context, sig string, _ fosite.Session) (fosite.Requester, error) {
	e, err := s.get(s.access, sig)
	if err != nil {
		return nil, err
	}
	return e.req, nil
}

func (s *memoryStore) DeleteAccessTokenSession(_ context.Context, sig string) error {
	return s.del(s.access, sig)
}

func (s *memoryStore) RevokeAccessToken(_ context.Context, requestID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sig, ok := s.accessBy[requestID]; ok {
		delete(s.access, sig)
		delete(s.accessBy, requestID)
	}
	return nil
}

// Refresh tokens.

func (s *memoryStore) CreateRefreshTokenSession(_ context.Context, sig, _ string, req fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh[sig] = s.newEntry(req, fosite.RefreshToken)
	s.refrBy[req.GetID()] = sig
	return nil
}

func (s *memoryStore) GetRefreshTokenSession(_ context.Context, sig string, _ fosite.Session) (fosite.Requester, error) {
	e, err := s.get(s.refresh, sig)
	if err != nil {
		return nil, err
	}
	if !e.active {
		return e.req, fosite.ErrInactiveToken
	}
	return e.req, nil
}

func (s *memoryStore) DeleteRefreshTokenSession(_ context.Context, sig string) error {
	return s.del(s.refresh, sig)
}

func (s *memoryStore) RevokeRefreshToken(_ context.Context, requestID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sig, ok := s.refrBy[requestID]; ok {
		if e, ok := s.refresh[sig]; ok {
			e.active = false
		}
	}
	return nil
}

func (s *memoryStore) RotateRefreshToken(ctx context.Context, requestID, _ string) error {
	if err := s.RevokeRefreshToken(ctx, requestID); err != nil {
		return err
	}
	return s.RevokeAccessToken(ctx, requestID)
}
