package devidp_test

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/casebridge/casebridge/internal/devidp"
)

type kcUser struct {
	Username    string              `json:"username"`
	Attributes  map[string][]string `json:"attributes"`
	RealmRoles  []string            `json:"realmRoles"`
	Credentials []struct{ Type string }
}

type kcClient struct {
	ClientID        string            `json:"clientId"`
	PublicClient    bool              `json:"publicClient"`
	RedirectURIs    []string          `json:"redirectUris"`
	Attributes      map[string]string `json:"attributes"`
	ProtocolMappers []struct {
		ProtocolMapper string            `json:"protocolMapper"`
		Config         map[string]string `json:"config"`
	} `json:"protocolMappers"`
}

// configs/keycloak/casebridge-realm.json carries the same demo users as
// configs/demo-accounts.yaml (agency attribute, realm roles), and the
// portal's client puts agency, realm_access.roles and the casebridge
// audience into its tokens, with PKCE S256.
func TestKeycloakRealmMatchesDemoAccounts(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../configs/keycloak/casebridge-realm.json")
	if err != nil {
		t.Fatal(err)
	}
	var realm struct {
		Realm string `json:"realm"`
		Roles struct {
			Realm []struct{ Name string } `json:"realm"`
		} `json:"roles"`
		Users   []kcUser   `json:"users"`
		Clients []kcClient `json:"clients"`
	}
	if err := json.Unmarshal(data, &realm); err != nil {
		t.Fatal(err)
	}
	demo, err := devidp.Demo()
	if err != nil {
		t.Fatal(err)
	}
	var roles []string
	for _, r := range realm.Roles.Realm {
		roles = append(roles, r.Name)
	}
	for _, a := range demo.Accounts {
		i := slices.IndexFunc(realm.Users, func(u kcUser) bool {
			return u.Username == a.Username
		})
		if i < 0 {
			t.Errorf("realm lacks user %s", a.Username)
			continue
		}
		u := realm.Users[i]
		if !slices.Equal(u.Attributes["agency"], []string{a.Agency}) || !slices.Equal(u.RealmRoles, a.Roles) || len(u.Credentials) != 1 {
			t.Errorf("realm user %s: agency %v roles %v, want %s %v", a.Username, u.Attributes["agency"], u.RealmRoles, a.Agency, a.Roles)
		}
		for _, r := range a.Roles {
			if !slices.Contains(roles, r) {
				t.Errorf("realm lacks role %s", r)
			}
		}
	}
	portal := slices.IndexFunc(realm.Clients, func(c kcClient) bool {
		return c.ClientID == "casebridge-portal"
	})
	if portal < 0 {
		t.Fatal("realm lacks the casebridge-portal client")
	}
	c := realm.Clients[portal]
	if c.PublicClient || c.Attributes["pkce.code.challenge.method"] != "S256" || len(c.RedirectURIs) != 1 {
		t.Errorf("portal client: public %v, pkce %q, redirects %v", c.PublicClient, c.Attributes["pkce.code.challenge.method"], c.RedirectURIs)
	}
	found := map[string]bool{}
	for _, m := range c.ProtocolMappers {
		switch {
		case m.ProtocolMapper == "oidc-usermodel-attribute-mapper" && m.Config["claim.name"] == "agency" && m.Config["id.token.claim"] == "true":
			found["agency"] = true
		case m.ProtocolMapper == "oidc-usermodel-realm-role-mapper" && m.Config["claim.name"] == "realm_access.roles" && m.Config["id.token.claim"] == "true":
			found["roles"] = true
		case m.ProtocolMapper == "oidc-audience-mapper" && m.Config["included.custom.audience"] == "casebridge":
			found["audience"] = true
		}
	}
	if len(found) != 3 {
		t.Errorf("portal client mappers: found %v, want agency, roles and audience", found)
	}
}
