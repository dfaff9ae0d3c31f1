package auth

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzClaimMapping: any claim set a provider signs maps to an identity, and
// an identity that passes badClaims holds only text PostgreSQL and the
// audit log can store (valid UTF-8, no control characters, bounded).
func FuzzClaimMapping(f *testing.F) {
	for _, s := range []string{
		`{"sub": "a", "agency": "gdi", "roles": ["officer"], "name": "A"}`,
		`{"sub": "a\u0000b", "agency": ["gdi"], "roles": "officer supervisor"}`,
		`{"sub": 5, "realm_access": {"roles": ["x"]}, "agency": {"a": 1}}`,
		`{"sub": "\ud800", "email": "a@b", "preferred_username": "u"}`,
	} {
		f.Add([]byte(s))
	}
	s := &Service{cfg: Config{AgencyClaim: "agency", RolesClaim: "realm_access.roles"}}
	s2 := &Service{cfg: Config{AgencyClaim: "agency", RolesClaim: "roles"}}
	f.Fuzz(func(t *testing.T, b []byte) {
		var claims map[string]any
		if json.Unmarshal(b, &claims) != nil {
			return
		}
		for _, svc := range []*Service{s, s2} {
			id := svc.identityFrom("https://idp.example", claims)
			if badClaims(id) != "" {
				continue
			}
			for _, v := range append([]string{id.Subject, id.Agency, id.Name, id.Username, id.Email}, id.Roles...) {
				if !utf8.ValidString(v) {
					t.Fatalf("invalid UTF-8 passed: %q", v)
				}
				for _, r := range v {
					if r < 0x20 || r == 0x7f || r == utf8.RuneError {
						t.Fatalf("control character passed: %q", v)
					}
				}
			}
			if len(id.Subject) > maxSubject || len(id.Agency) > maxAgency || len(id.Roles) > maxRoles {
				t.Fatalf("over-long claim passed: %+v", id)
			}
		}
	})
}
