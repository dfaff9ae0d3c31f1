package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/internal/config"
)

// A bad sign-in setting stops the program with its name.
func TestValidateAuth(t *testing.T) {
	base := []string{
		"CASEBRIDGE_DATABASE_URL=postgres://u:p@h/db",
		"CASEBRIDGE_SERVER_PUBLIC_URL=https://casebridge.example",
		"CASEBRIDGE_AUDIT_SIGNING_KEY_FILE=/nonexistent/audit.key",
	}
	ok := slices.Concat(base, []string{"CASEBRIDGE_AUTH_ISSUER=https://idp.example/realms/cb",
		"CASEBRIDGE_AUTH_CLIENT_ID=portal", "CASEBRIDGE_AUTH_CLIENT_SECRET=s"})
	cases := []struct {
		env     []string
		setting string
	}{
		{slices.Concat(base, []string{"CASEBRIDGE_AUTH_ISSUER=idp.example"}), "auth.issuer"},
		{slices.Concat(base, []string{"CASEBRIDGE_AUTH_ISSUER=https://idp.example"}), "auth.client_id"},
		{slices.Concat(base, []string{"CASEBRIDGE_AUTH_ISSUER=https://idp.example", "CASEBRIDGE_AUTH_CLIENT_ID=portal"}), "auth.client_secret"},
		{slices.Concat(ok, []string{"CASEBRIDGE_AUTH_AUDIENCE=portal"}), "auth.audience"},
		{slices.Concat(ok, []string{"CASEBRIDGE_AUTH_DISCOVERY_URL=keycloak:8080"}), "auth.discovery_url"},
		{slices.Concat(ok, []string{"CASEBRIDGE_AUTH_SCOPES=profile,email"}), "auth.scopes"},
		{slices.Concat(ok, []string{"CASEBRIDGE_AUTH_ROLES_CLAIM=realm_access..roles"}), "auth.roles_claim"},
		{slices.Concat(ok, []string{"CASEBRIDGE_AUTH_SIGNING_ALGS=RS256,HS256"}), "auth.signing_algs"},
		{slices.Concat(ok, []string{"CASEBRIDGE_AUTH_SIGNING_ALGS=none"}), "auth.signing_algs"},
		{slices.Concat(ok, []string{"CASEBRIDGE_AUTH_CLOCK_SKEW=10m"}), "auth.clock_skew"},
		{slices.Concat(ok, []string{"CASEBRIDGE_AUTH_SESSION_IDLE_TIMEOUT=10s"}), "auth.session_idle_timeout"},
		{slices.Concat(ok, []string{"CASEBRIDGE_AUTH_SESSION_ABSOLUTE_TIMEOUT=5m"}), "auth.session_absolute_timeout"},
	}
	for _, tc := range cases {
		cfg, err := config.Load("", tc.env)
		if err == nil {
			err = cfg.Validate("serve")
		}
		if err == nil || !strings.Contains(err.Error(), tc.setting+":") {
			t.Errorf("%v: got %v, want an error naming %s", tc.env[len(tc.env)-1], err, tc.setting)
		}
	}
	cfg, err := config.Load("", slices.Concat(ok, []string{"CASEBRIDGE_AUTH_ROLES_CLAIM=realm_access.roles", "CASEBRIDGE_AUTH_SIGNING_ALGS=ES256"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate("serve"); err != nil && strings.Contains(err.Error(), "auth.") {
		t.Errorf("valid sign-in settings refused: %v", err)
	}
}
