package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Paths of the public audit endpoints, relative to the server's base URL.
const (
	PathCheckpoint  = "/api/v1/audit/checkpoint"
	PathKey         = "/api/v1/audit/key"
	PathInclusion   = "/api/v1/audit/proof/inclusion"
	PathConsistency = "/api/v1/audit/proof/consistency"
)

// ProofResponse is the JSON body of the proof endpoints: the proof's hashes,
// base64 (standard, padded).
type ProofResponse struct {
	Index    *int64      `json:"index,omitempty"`
	Size     *int64      `json:"size,omitempty"`
	From     *int64      `json:"from,omitempty"`
	To       *int64      `json:"to,omitempty"`
	LeafHash *tlog.Hash  `json:"leaf_hash,omitempty"`
	Hashes   []tlog.Hash `json:"hashes"`
}

// Witness is what a partner agency runs (casebridge audit witness): it
// fetches the log's latest checkpoint, checks its signature and that it
// extends the checkpoint kept from the previous run, and keeps it.
//
// The state directory holds "key" (the pinned verifier key) and
// "checkpoint" (the latest accepted signed note); a checkpoint that fails is
// saved next to them as "rejected-<unix time>.note", as evidence.
type Witness struct {
	BaseURL     string       // the CaseBridge server
	StateDir    string       // where checkpoints are kept
	VerifierKey string       // the log's key; empty: the pinned one, or fetched on first use
	Token       string       // bearer token for the API, if it needs one
	Client      *http.Client // default: 30 s timeout
}

// WitnessResult says what a run found.
type WitnessResult struct {
	Previous   *Checkpoint // the checkpoint kept before, if any
	Current    *Checkpoint // the accepted checkpoint; nil when the log is still empty
	KeyFetched bool        // the key was fetched from the server and pinned (first use)
}

// Run fetches, checks and keeps the latest checkpoint. A signature failure
// is ErrBadCheckpoint; a checkpoint that does not extend the kept one is
// ErrInconsistent.
func (w *Witness) Run(ctx context.Context) (WitnessResult, error) {
	var res WitnessResult
	if err := os.MkdirAll(w.StateDir, 0o700); err != nil {
		return res, fmt.Errorf("witness: create state directory: %w", err)
	}
	pinned, err := readState(filepath.Join(w.StateDir, "key"))
	if err != nil {
		return res, err
	}
	key := strings.TrimSpace(w.VerifierKey)
	switch {
	case key != "" && pinned != "" && key != strings.TrimSpace(pinned):
		return res, fmt.Errorf("witness: --key differs from the key pinned in %s; use a new state directory for another log", w.StateDir)
	case key == "" && pinned != "":
		key = strings.TrimSpace(pinned)
	case key == "":
		b, err := w.get(ctx, PathKey)
		if err != nil {
			return res, err
		}
		key = strings.TrimSpace(string(b))
		res.KeyFetched = true
	}
	if pinned == "" {
		if err := writeState(w.StateDir, "key", []byte(key+"\n")); err != nil {
			return res, err
		}
	}

	old, err := readState(filepath.Join(w.StateDir, "checkpoint"))
	if err != nil {
		return res, err
	}
	if old != "" {
		c, err := OpenCheckpoint([]byte(old), key)
		if err != nil {
			return res, fmt.Errorf("witness: the kept checkpoint no longer verifies: %w", err)
		}
		res.Previous = &c
	}

	msg, err := w.get(ctx, PathCheckpoint)
	var se *statusError
	if errors.As(err, &se) && se.code == http.StatusNotFound {
		if res.Previous != nil {
			return res, fmt.Errorf("witness: %w: the log has no checkpoint but one of size %d was kept", ErrInconsistent, res.Previous.Size)
		}
		return res, nil
	}
	if err != nil {
		return res, err
	}
	cur, err := OpenCheckpoint(msg, key)
	if err != nil {
		w.reject(msg)
		return res, fmt.Errorf("witness: the server's checkpoint: %w", err)
	}
	res.Current = &cur

	if p := res.Previous; p != nil {
		switch {
		case cur.Size < p.Size:
			w.reject(msg)
			return res, fmt.Errorf("witness: %w: the log shrank from %d to %d entries", ErrInconsistent, p.Size, cur.Size)
		case cur.Size == p.Size:
			if cur.Root != p.Root {
				w.reject(msg)
				return res, fmt.Errorf("witness: %w: two different trees of size %d (kept root %s, now %s)", ErrInconsistent, cur.Size, p.Root, cur.Root)
			}
		default:
			q := url.Values{"from": {strconv.FormatInt(p.Size, 10)}, "to": {strconv.FormatInt(cur.Size, 10)}}
			body, err := w.get(ctx, PathConsistency+"?"+q.Encode())
			if err != nil {
				return res, err
			}
			var pr ProofResponse
			if err := json.Unmarshal(body, &pr); err != nil {
				return res, fmt.Errorf("witness: decode consistency proof: %w", err)
			}
			if err := tlog.CheckTree(pr.Hashes, cur.Size, cur.Root, p.Size, p.Root); err != nil {
				w.reject(msg)
				return res, fmt.Errorf("witness: %w: the tree of size %d does not extend the kept tree of size %d: history was rewritten (%w)", ErrInconsistent, cur.Size, p.Size, err)
			}
		}
	}
	if err := writeState(w.StateDir, "checkpoint", msg); err != nil {
		return res, err
	}
	return res, nil
}

type statusError struct {
	url  string
	code int
}

func (e *statusError) Error() string { return fmt.Sprintf("GET %s: HTTP status %d", e.url, e.code) }

func (w *Witness) get(ctx context.Context, path string) ([]byte, error) {
	u := strings.TrimRight(w.BaseURL, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	if w.Token != "" {
		req.Header.Set("Authorization", "Bearer "+w.Token)
	}
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("witness: GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("witness: %w", &statusError{url: u, code: resp.StatusCode})
	}
	return body, nil
}

// reject keeps a refused checkpoint as evidence; failing to is not fatal.
func (w *Witness) reject(msg []byte) {
	_ = writeState(w.StateDir, fmt.Sprintf("rejected-%d.note", time.Now().Unix()), msg)
}

func readState(path string) (string, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- the witness state file named on the command line
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("witness: read state: %w", err)
	}
	return string(b), nil
}

// writeState replaces dir/name atomically (temporary file, fsync, rename).
func writeState(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return fmt.Errorf("witness: write state: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("witness: write state %s: %w", name, err)
	}
	return nil
}
