package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/store"
)

const auditUsage = `usage: casebridge audit <command> [flags]

commands:
  verify    recompute the audit tree from the stored events and check it against the
            stored hashes and every signed checkpoint; names the first bad index (exit 1)
  witness   fetch the latest checkpoint from a server, check its signature and that it
            extends the one kept in --state, keep it (exit 1 on any inconsistency)
  keygen    make a checkpoint signing key (for audit.signing_key) and print its verifier key
`

// auditCmd runs `casebridge audit verify|witness|keygen`.
func auditCmd(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, auditUsage)
		if len(args) == 0 {
			return &usageError{msg: "audit: missing command"}
		}
		return errHelp
	}
	switch args[0] {
	case "verify":
		return auditVerify(ctx, args[1:], environ, stdout, stderr)
	case "witness":
		return auditWitness(ctx, args[1:], stdout, stderr)
	case "keygen":
		return auditKeygen(args[1:], stdout, stderr)
	}
	return &usageError{msg: fmt.Sprintf("audit: unknown command %q (verify, witness, keygen)", args[0])}
}

// errAuditFailed makes the exit status 1 after the finding was printed.
var errAuditFailed = errors.New("audit check failed")

type anchorFlags []string

func (a *anchorFlags) String() string     { return strings.Join(*a, ",") }
func (a *anchorFlags) Set(v string) error { *a = append(*a, v); return nil }

func auditVerify(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit verify", stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML); default $CASEBRIDGE_CONFIG")
	key := fs.String("key", "", "checkpoint verifier key (default: derived from audit.signing_key)")
	var anchors anchorFlags
	fs.Var(&anchors, "checkpoint", "a signed checkpoint kept outside the database (e.g. a witness's STATE/checkpoint) that the log must still contain; repeatable")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, environ, "audit")
	if err != nil {
		return err
	}
	if cfg.Database.URL == "" {
		return app.Startupf("database.url: must be set")
	}
	vkey := *key
	if vkey == "" {
		s, err := app.AuditSigner(cfg.Audit)
		if err != nil {
			return err
		}
		if s == nil {
			return &usageError{msg: "audit verify: give --key, or configure audit.signing_key"}
		}
		vkey = s.VerifierKey()
	}
	opt := audit.VerifyOptions{VerifierKey: vkey}
	for _, path := range anchors {
		b, err := os.ReadFile(path) // #nosec G304 -- checkpoint files named on the command line by the operator
		if err != nil {
			return &usageError{msg: fmt.Sprintf("audit verify: --checkpoint: %v", err)}
		}
		opt.Anchors = append(opt.Anchors, b)
	}
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close(db) //nolint:errcheck
	rep, err := audit.Verify(store.WithDB(ctx, db), opt)
	if err != nil {
		return err
	}
	if !rep.OK {
		if rep.FirstBadIndex != nil {
			fmt.Fprintf(stdout, "audit log FAILED verification: first bad index %d: %s\n", *rep.FirstBadIndex, rep.Problem)
		} else {
			fmt.Fprintf(stdout, "audit log FAILED verification: %s\n", rep.Problem)
		}
		return errAuditFailed
	}
	fmt.Fprintf(stdout, "audit log verified: %d events, %d signed checkpoints, %d kept checkpoints\n",
		rep.Size, rep.Checkpoints, len(opt.Anchors))
	return nil
}

func auditWitness(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit witness", stderr)
	url := fs.String("url", "", "the CaseBridge server's base URL (required)")
	state := fs.String("state", "", "directory where checkpoints are kept between runs (required)")
	key := fs.String("key", "", "the log's verifier key (recommended: from docs or the operator; default: the key pinned in --state, else fetched and pinned on first use)")
	tokenFile := fs.String("token-file", "", "file holding a bearer access token for the API")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *url == "" || *state == "" {
		return &usageError{msg: "audit witness: --url and --state are required"}
	}
	w := &audit.Witness{BaseURL: *url, StateDir: *state, VerifierKey: *key}
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return &usageError{msg: fmt.Sprintf("audit witness: --token-file: %v", err)}
		}
		w.Token = strings.TrimSpace(string(b))
	}
	res, err := w.Run(ctx)
	if err != nil {
		return err
	}
	if res.KeyFetched {
		fmt.Fprintln(stdout, "pinned the server's verifier key on first use; compare it with the one the operator published")
	}
	switch {
	case res.Current == nil:
		fmt.Fprintln(stdout, "the audit log has no checkpoint yet")
	case res.Previous == nil:
		fmt.Fprintf(stdout, "kept checkpoint of size %d (first run)\n", res.Current.Size)
	default:
		fmt.Fprintf(stdout, "kept checkpoint of size %d: consistent with the kept one of size %d\n", res.Current.Size, res.Previous.Size)
	}
	return nil
}

func auditKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit keygen", stderr)
	origin := fs.String("origin", "", "the log's name, the checkpoints' origin line, e.g. casebridge.example.gov/audit (required)")
	out := fs.String("out", "", "write the signing key to this file (mode 0600, must not exist) instead of stdout")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *origin == "" {
		return &usageError{msg: "audit keygen: --origin is required"}
	}
	skey, vkey, err := audit.GenerateKey(*origin)
	if err != nil {
		return &usageError{msg: err.Error()}
	}
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("write signing key: %w", err)
		}
		if _, err := f.WriteString(skey + "\n"); err != nil {
			_ = f.Close()
			return fmt.Errorf("write signing key: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write signing key: %w", err)
		}
		fmt.Fprintf(stdout, "signing key written to %s (audit.signing_key_file)\n", *out)
	} else {
		fmt.Fprintf(stdout, "signing key (secret; audit.signing_key):\n%s\n", skey)
	}
	fmt.Fprintf(stdout, "verifier key (public; give it to partner agencies):\n%s\n", vkey)
	return nil
}
