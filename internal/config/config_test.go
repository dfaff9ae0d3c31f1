package config_test

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/casebridge/casebridge/internal/config"
)

// The example file documents every setting, parses strictly, and holds the
// defaults (so it can be used as-is).
func TestExampleDocumentsEverySetting(t *testing.T) {
	data, err := os.ReadFile("../../configs/casebridge.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]map[string]any
	if err := yaml.Unmarshal(data, &tree); err != nil {
		t.Fatal(err)
	}
	for _, s := range config.Settings() {
		section, key, _ := strings.Cut(s, ".")
		if _, ok := tree[section][key]; !ok {
			t.Errorf("configs/casebridge.example.yaml does not document %s", s)
		}
	}
	cfg, err := config.Load("../../configs/casebridge.example.yaml", nil)
	if err != nil {
		t.Fatalf("example does not load: %v", err)
	}
	if got, want := cfg.Server, config.Default().Server; got != want {
		t.Errorf("example server section %+v differs from defaults %+v", got, want)
	}
}

func TestEnvironmentOverridesFile(t *testing.T) {
	cfg, err := config.Load("../../configs/casebridge.example.yaml", []string{
		"CASEBRIDGE_SERVER_LISTEN=0.0.0.0:9000", "CASEBRIDGE_DATABASE_MAX_OPEN_CONNS=7",
		"CASEBRIDGE_DATABASE_MIGRATE_ON_START=true", "CASEBRIDGE_SERVER_IDLE_TIMEOUT=5s", "PATH=/bin",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "0.0.0.0:9000" || cfg.Database.MaxOpenConns != 7 ||
		!cfg.Database.MigrateOnStart || cfg.Server.IdleTimeout.Seconds() != 5 {
		t.Fatalf("overrides not applied: %+v", cfg)
	}
}

func TestValidateNamesTheSetting(t *testing.T) {
	ok := "postgres://u:p@h/db"
	cases := []struct {
		env     []string
		mode    string
		setting string
	}{
		{[]string{"CASEBRIDGE_DATABASE_URL=" + ok, "CASEBRIDGE_SERVER_LISTEN=8080"}, "serve", "server.listen"},
		{[]string{"CASEBRIDGE_DATABASE_URL=mysql://x"}, "serve", "database.url"},
		{nil, "serve", "database.url"},
		{nil, "migrate", "database.owner_url"},
		{[]string{"CASEBRIDGE_DATABASE_URL=" + ok, "CASEBRIDGE_LOG_LEVEL=loud"}, "serve", "log.level"},
		{[]string{"CASEBRIDGE_DATABASE_URL=" + ok, "CASEBRIDGE_SERVER_MAX_BODY_BYTES=10"}, "serve", "server.max_body_bytes"},
		{[]string{"CASEBRIDGE_DATABASE_URL=" + ok, "CASEBRIDGE_SERVER_PUBLIC_URL=ftp://x"}, "serve", "server.public_url"},
		{[]string{"CASEBRIDGE_DATABASE_URL=" + ok, "CASEBRIDGE_SERVER_SHUTDOWN_TIMEOUT=-1s"}, "serve", "server.shutdown_timeout"},
	}
	for _, tc := range cases {
		cfg, err := config.Load("", tc.env)
		if err == nil {
			err = cfg.Validate(tc.mode)
		}
		if err == nil || !strings.Contains(err.Error(), tc.setting) {
			t.Errorf("env %v: error %v, want one naming %s", tc.env, err, tc.setting)
		}
	}
}
