package config

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Audit holds the audit log's settings (internal/audit, docs/audit.md).
type Audit struct {
	// SigningKey is the checkpoint signing key in note format
	// ("PRIVATE+KEY+<origin>+<hash>+<key>", from `casebridge audit keygen`).
	// Secret. SigningKeyFile names a file holding it instead (mode 0600).
	// `serve` needs one of them; `dev` generates a key in its data dir.
	SigningKey     string `yaml:"signing_key"`
	SigningKeyFile string `yaml:"signing_key_file"`
	// SequencerInterval is how often the sequencer looks for new events;
	// BatchSize is the most events it integrates per transaction.
	SequencerInterval time.Duration `yaml:"sequencer_interval"`
	BatchSize         int           `yaml:"batch_size"`
}

func defaultAudit() Audit {
	return Audit{SequencerInterval: 500 * time.Millisecond, BatchSize: 2000}
}

func (c Config) validateAudit(mode string) error {
	a := c.Audit
	switch {
	case a.SequencerInterval < 10*time.Millisecond || a.SequencerInterval > time.Hour:
		return &Error{Setting: "audit.sequencer_interval", Msg: "must be between 10ms and 1h"}
	case a.BatchSize < 1 || a.BatchSize > 50000:
		return &Error{Setting: "audit.batch_size", Msg: "must be between 1 and 50000"}
	case a.SigningKey != "" && a.SigningKeyFile != "":
		return &Error{Setting: "audit.signing_key_file", Msg: "set audit.signing_key or audit.signing_key_file, not both"}
	case a.SigningKey != "":
		if _, err := note.NewSigner(strings.TrimSpace(a.SigningKey)); err != nil {
			return &Error{Setting: "audit.signing_key", Msg: fmt.Sprintf("not a note signer key (generate one with casebridge audit keygen): %v", err)}
		}
	case mode == "serve" && a.SigningKeyFile == "":
		return &Error{Setting: "audit.signing_key", Msg: "must be set, or audit.signing_key_file (generate a key with casebridge audit keygen --origin NAME)"}
	}
	return nil
}
