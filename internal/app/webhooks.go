package app

import (
	"os"

	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/webhooks"
)

// WebhookSealer reads the key that encrypts webhook secrets
// (webhooks.secret_key or webhooks.secret_key_file); nil when neither is
// set (webhooks cannot be set then).
func WebhookSealer(cfg config.Webhooks) (*webhooks.Sealer, error) {
	key, setting := cfg.SecretKey, "webhooks.secret_key"
	if cfg.SecretKeyFile != "" {
		setting = "webhooks.secret_key_file"
		fi, err := os.Stat(cfg.SecretKeyFile)
		if err != nil {
			return nil, Startupf("%s: %v", setting, err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, Startupf("%s: %s is readable by others (mode %o); chmod 600 it", setting, cfg.SecretKeyFile, fi.Mode().Perm())
		}
		b, err := os.ReadFile(cfg.SecretKeyFile)
		if err != nil {
			return nil, Startupf("%s: %v", setting, err)
		}
		key = string(b)
	}
	if key == "" {
		return nil, nil
	}
	k, err := config.ParseWebhookKey(key)
	if err != nil {
		return nil, Startupf("%s: %v", setting, err)
	}
	s, err := webhooks.NewSealer(k)
	if err != nil {
		return nil, Startupf("%s: %v", setting, err)
	}
	return s, nil
}

// WebhookPolicy is where webhooks may go, from the settings.
func WebhookPolicy(cfg config.Webhooks) webhooks.Policy {
	return webhooks.Policy{AllowedHosts: cfg.AllowedHosts, AllowLoopback: cfg.AllowLoopback}
}
