package config

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// Webhooks holds the settings of the webhooks to embassy systems
// (internal/webhooks, docs/webhooks.md).
type Webhooks struct {
	// SecretKey encrypts the endpoints' signing secrets at rest (AES-256-GCM):
	// 32 random bytes, base64 (`openssl rand -base64 32`). Secret.
	// SecretKeyFile names a file holding it instead (mode 0600). Without
	// either, webhooks cannot be set; `dev` generates a key in its data dir.
	SecretKey     string `yaml:"secret_key"`
	SecretKeyFile string `yaml:"secret_key_file"`
	// AllowedHosts are the host names (or "*.example.org" for any
	// subdomain) an endpoint URL may name; an https URL to any other host
	// is refused when it is set, and at delivery.
	AllowedHosts []string `yaml:"allowed_hosts"`
	// AllowLoopback lets an endpoint be on this machine (127.0.0.0/8, ::1,
	// localhost), over http too: for dev and tests only. Otherwise an
	// address that resolves to loopback, private, link-local or other
	// internal ranges is refused at delivery.
	AllowLoopback bool `yaml:"allow_loopback"`
	// DispatchInterval is how often the outbox of events is turned into
	// deliveries (one instance at a time).
	DispatchInterval time.Duration `yaml:"dispatch_interval"`
	// Timeout is the longest one delivery attempt may take.
	Timeout time.Duration `yaml:"timeout"`
	// RetryBase is the wait after the first failed attempt; each further
	// failure doubles it (capped at 6h). MaxAttempts is how many attempts
	// a delivery gets before it is marked failed.
	RetryBase   time.Duration `yaml:"retry_base"`
	MaxAttempts int           `yaml:"max_attempts"`
}

func defaultWebhooks() Webhooks {
	return Webhooks{AllowedHosts: []string{}, DispatchInterval: 2 * time.Second, Timeout: 10 * time.Second,
		RetryBase: 30 * time.Second, MaxAttempts: 12}
}

func (c Config) validateWebhooks() error {
	w := c.Webhooks
	switch {
	case w.SecretKey != "" && w.SecretKeyFile != "":
		return &Error{Setting: "webhooks.secret_key_file", Msg: "set webhooks.secret_key or webhooks.secret_key_file, not both"}
	case w.SecretKey != "":
		if _, err := ParseWebhookKey(w.SecretKey); err != nil {
			return &Error{Setting: "webhooks.secret_key", Msg: err.Error()}
		}
	case w.DispatchInterval < 10*time.Millisecond || w.DispatchInterval > time.Hour:
		return &Error{Setting: "webhooks.dispatch_interval", Msg: "must be between 10ms and 1h"}
	case w.Timeout < 100*time.Millisecond || w.Timeout > 5*time.Minute:
		return &Error{Setting: "webhooks.timeout", Msg: "must be between 100ms and 5m"}
	case w.RetryBase < 10*time.Millisecond || w.RetryBase > time.Hour:
		return &Error{Setting: "webhooks.retry_base", Msg: "must be between 10ms and 1h"}
	case w.MaxAttempts < 1 || w.MaxAttempts > 25:
		return &Error{Setting: "webhooks.max_attempts", Msg: "must be between 1 and 25"}
	}
	for _, h := range w.AllowedHosts {
		name := strings.TrimPrefix(h, "*.")
		if name == "" || strings.ContainsAny(name, "/:@*?# ") || strings.ToLower(name) != name {
			return &Error{Setting: "webhooks.allowed_hosts",
				Msg: fmt.Sprintf("%q is not a lower-case host name (or *.domain)", h)}
		}
	}
	return nil
}

// ParseWebhookKey decodes the webhook secret key: base64 of 32 bytes.
func ParseWebhookKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("must be 32 bytes in base64 (openssl rand -base64 32)")
	}
	return k, nil
}
