// Package config loads CaseBridge's settings: defaults, then an optional YAML
// file, then CASEBRIDGE_… environment variables, then validation. Every
// setting is documented in configs/casebridge.example.yaml. A bad value stops
// the program with one line naming the setting.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is every setting of the program.
type Config struct {
	Server   Server   `yaml:"server"`
	Database Database `yaml:"database"`
	Log      Log      `yaml:"log"`
	// Documents and Blob: see documents.go.
	Documents Documents `yaml:"documents"`
	Blob      Blob      `yaml:"blob"`
	// Auth: see auth.go.
	Auth Auth `yaml:"auth"`
	// Audit: see audit.go.
	Audit Audit `yaml:"audit"`
	// Consular: see consular.go.
	Consular Consular `yaml:"consular"`
	// Imports: see imports.go.
	Imports Imports `yaml:"imports"`
	// RateLimits: see limits.go.
	RateLimits RateLimits `yaml:"rate_limits"`
	// Jobs: see jobs.go.
	Jobs Jobs `yaml:"jobs"`
	// Bundles: see bundles.go.
	Bundles Bundles `yaml:"bundles"`
	// Webhooks: see webhooks.go.
	Webhooks Webhooks `yaml:"webhooks"`
}

// Server holds the HTTP server's settings.
type Server struct {
	Listen            string        `yaml:"listen"`
	PublicURL         string        `yaml:"public_url"`
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	ShutdownTimeout   time.Duration `yaml:"shutdown_timeout"`
	MaxBodyBytes      int64         `yaml:"max_body_bytes"`
	// BodyTimeout is how long a request that is not an upload may take to
	// send its body (read_timeout stays the outer bound for uploads).
	BodyTimeout time.Duration `yaml:"body_timeout"`
	// UploadMinRate is the slowest an upload body may arrive, in bytes per
	// second, after UploadGrace: a slower one is cut (408).
	UploadMinRate int64         `yaml:"upload_min_rate"`
	UploadGrace   time.Duration `yaml:"upload_grace"`
	// PprofListen, when set, serves Go's profiles (net/http/pprof) on this
	// loopback address, apart from the portal. Empty (the default): off.
	PprofListen string `yaml:"pprof_listen"`
}

// Database holds the PostgreSQL settings.
type Database struct {
	URL            string        `yaml:"url"`
	OwnerURL       string        `yaml:"owner_url"`
	MaxOpenConns   int           `yaml:"max_open_conns"`
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	MigrateOnStart bool          `yaml:"migrate_on_start"`
}

// Log holds the logging settings.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		Server: Server{
			Listen:            "127.0.0.1:8080",
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Minute,
			WriteTimeout:      30 * time.Minute,
			IdleTimeout:       2 * time.Minute,
			ShutdownTimeout:   30 * time.Second,
			MaxBodyBytes:      1 << 20,
			BodyTimeout:       15 * time.Second,
			UploadMinRate:     8 << 10,
			UploadGrace:       20 * time.Second,
		},
		Database: Database{
			MaxOpenConns:   20,
			ConnectTimeout: 5 * time.Second,
		},
		Log:        Log{Level: "info", Format: "json"},
		Documents:  defaultDocuments(),
		Blob:       defaultBlob(),
		Auth:       defaultAuth(),
		Audit:      defaultAudit(),
		Consular:   defaultConsular(),
		Imports:    defaultImports(),
		RateLimits: defaultRateLimits(),
		Jobs:       defaultJobs(),
		Bundles:    defaultBundles(),
		Webhooks:   defaultWebhooks(),
	}
}

// EnvPrefix starts every environment variable that overrides a setting:
// server.listen is CASEBRIDGE_SERVER_LISTEN.
const EnvPrefix = "CASEBRIDGE_"

// Error is a configuration error naming the setting at fault.
type Error struct {
	Setting string
	Msg     string
}

func (e *Error) Error() string {
	if e.Setting == "" {
		return "config: " + e.Msg
	}
	return "config: " + e.Setting + ": " + e.Msg
}

// Load builds the configuration: defaults, then the YAML file at path (when
// path is not empty; a named file that does not exist is an error), then the
// environment. It does not validate; call Validate.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	if path != "" {
		data, err := os.ReadFile(path) // #nosec G304 -- the configuration file named on the command line
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return cfg, &Error{Msg: fmt.Sprintf("config file %s does not exist", path)}
			}
			return cfg, &Error{Msg: fmt.Sprintf("read config file %s: %v", path, err)}
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, &Error{Msg: fmt.Sprintf("config file %s: %s", path, yamlMessage(err))}
		}
	}
	if err := applyEnv(&cfg, environ); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// yamlMessage folds yaml's multi-line messages into one line.
func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n", "")
	return strings.Join(strings.Fields(msg), " ")
}

// applyEnv sets every field whose environment variable is present.
func applyEnv(cfg *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			env[k] = v
		}
	}
	known := map[string]bool{}
	err := walk(reflect.ValueOf(cfg).Elem(), "", func(setting string, f reflect.Value) error {
		name := EnvName(setting)
		known[name] = true
		v, ok := env[name]
		if !ok {
			return nil
		}
		if err := setValue(f, v); err != nil {
			return &Error{Setting: setting, Msg: fmt.Sprintf("from %s: %v", name, err)}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for name := range env {
		if !known[name] && !ignoredEnv[name] {
			return &Error{Msg: fmt.Sprintf("unknown environment variable %s", name)}
		}
	}
	return nil
}

// ignoredEnv are CASEBRIDGE_ variables that are not settings.
var ignoredEnv = map[string]bool{
	"CASEBRIDGE_CONFIG":            true,
	"CASEBRIDGE_TEST_DATABASE_URL": true,
}

// EnvName is the environment variable for a dotted setting name.
func EnvName(setting string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(setting, ".", "_"))
}

// Settings lists every dotted setting name, in declaration order.
func Settings() []string {
	var out []string
	cfg := Default()
	_ = walk(reflect.ValueOf(&cfg).Elem(), "", func(setting string, _ reflect.Value) error {
		out = append(out, setting)
		return nil
	})
	return out
}

func walk(v reflect.Value, prefix string, fn func(setting string, f reflect.Value) error) error {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := strings.Split(sf.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		name := tag
		if prefix != "" {
			name = prefix + "." + tag
		}
		f := v.Field(i)
		if f.Kind() == reflect.Struct && f.Type() != reflect.TypeOf(time.Time{}) {
			if err := walk(f, name, fn); err != nil {
				return err
			}
			continue
		}
		if err := fn(name, f); err != nil {
			return err
		}
	}
	return nil
}

func setValue(f reflect.Value, s string) error {
	switch {
	case f.Type() == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 30s, 5m)", s)
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.String:
		f.SetString(s)
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		f.SetBool(b)
	case f.Kind() >= reflect.Int && f.Kind() <= reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		f.SetInt(n)
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		var parts []string
		for p := range strings.SplitSeq(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		f.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("unsupported setting type %s", f.Type())
	}
	return nil
}

// Validate checks every setting and returns the first error, naming the
// setting. mode is "serve" or "migrate": each needs different URLs.
func (c Config) Validate(mode string) error {
	checks := []func() error{
		func() error { return checkListen("server.listen", c.Server.Listen) },
		func() error {
			if c.Server.PprofListen == "" {
				return nil
			}
			if err := checkListen("server.pprof_listen", c.Server.PprofListen); err != nil {
				return err
			}
			host, _, _ := net.SplitHostPort(c.Server.PprofListen)
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				return &Error{Setting: "server.pprof_listen", Msg: fmt.Sprintf("%q: profiles are served on a loopback address only (127.0.0.1:PORT)", c.Server.PprofListen)}
			}
			if c.Server.PprofListen == c.Server.Listen {
				return &Error{Setting: "server.pprof_listen", Msg: "must differ from server.listen"}
			}
			return nil
		},
		func() error {
			if c.Server.PublicURL == "" {
				return nil
			}
			u, err := url.Parse(c.Server.PublicURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return &Error{Setting: "server.public_url", Msg: fmt.Sprintf("%q is not an absolute http(s) URL", c.Server.PublicURL)}
			}
			return nil
		},
		func() error {
			return positive(map[string]time.Duration{
				"server.read_header_timeout": c.Server.ReadHeaderTimeout,
				"server.read_timeout":        c.Server.ReadTimeout,
				"server.body_timeout":        c.Server.BodyTimeout,
				"server.upload_grace":        c.Server.UploadGrace,
				"rate_limits.window":         c.RateLimits.Window,
				"server.write_timeout":       c.Server.WriteTimeout,
				"server.idle_timeout":        c.Server.IdleTimeout,
				"server.shutdown_timeout":    c.Server.ShutdownTimeout,
				"database.connect_timeout":   c.Database.ConnectTimeout,
			})
		},
		func() error {
			if c.Server.MaxBodyBytes < 1024 {
				return &Error{Setting: "server.max_body_bytes", Msg: "must be at least 1024"}
			}
			return nil
		},
		func() error {
			if c.Database.MaxOpenConns < 1 {
				return &Error{Setting: "database.max_open_conns", Msg: "must be at least 1"}
			}
			return nil
		},
		func() error {
			if mode == "migrate" || c.Database.MigrateOnStart {
				if err := checkDBURL("database.owner_url", c.Database.OwnerURL); err != nil {
					return err
				}
			}
			if mode == "serve" {
				return checkDBURL("database.url", c.Database.URL)
			}
			return nil
		},
		func() error {
			switch c.Log.Level {
			case "debug", "info", "warn", "error":
			default:
				return &Error{Setting: "log.level", Msg: fmt.Sprintf("%q is not one of debug, info, warn, error", c.Log.Level)}
			}
			switch c.Log.Format {
			case "json", "text":
			default:
				return &Error{Setting: "log.format", Msg: fmt.Sprintf("%q is not one of json, text", c.Log.Format)}
			}
			return nil
		},
		c.validateDocuments,
		c.validateAuth,
		func() error { return c.validateAudit(mode) },
		c.validateConsular,
		c.validateImports,
		c.validateJobs,
		c.validateBundles,
		c.validateWebhooks,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func positive(m map[string]time.Duration) error {
	for _, name := range Settings() {
		if d, ok := m[name]; ok && d <= 0 {
			return &Error{Setting: name, Msg: "must be a positive duration"}
		}
	}
	return nil
}

func checkListen(setting, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return &Error{Setting: setting, Msg: fmt.Sprintf("%q is not host:port", addr)}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return &Error{Setting: setting, Msg: fmt.Sprintf("%q has no valid port", addr)}
	}
	if host != "" && net.ParseIP(host) == nil && host != "localhost" {
		return &Error{Setting: setting, Msg: fmt.Sprintf("%q: host must be an IP address, localhost or empty", addr)}
	}
	return nil
}

func checkDBURL(setting, raw string) error {
	if raw == "" {
		return &Error{Setting: setting, Msg: "must be set (postgres://user:password@host:port/dbname)"}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return &Error{Setting: setting, Msg: "must be a postgres:// URL"}
	}
	return nil
}
