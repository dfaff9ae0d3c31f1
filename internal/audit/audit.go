// Package audit is CaseBridge's tamper-evident audit log.
//
// Every read, change, sign-in and refusal is written as one row of
// audit_events by Record, in the caller's transaction. A sequencer (one at a
// time across instances) then gives queued events their index in an RFC 6962
// Merkle tree (golang.org/x/mod/sumdb/tlog), stores the tree's hashes and
// signs a checkpoint (C2SP tlog-checkpoint, as a golang.org/x/mod/sumdb/note
// signed with Ed25519). Partner agencies keep checkpoints (Witness) and check
// that every new one extends the one they hold, so rewriting history is
// detected even by someone with full access to the database; Verify
// recomputes the whole tree from the stored events and names the first bad
// index.
//
// The leaf of the tree is EncodeLeaf of the stored event, documented in
// docs/audit.md so that other implementations can recompute it.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/store"
)

// Outcome is how the audited attempt ended.
type Outcome string

// Outcomes.
const (
	OK       Outcome = "ok"        // done
	Denied   Outcome = "denied"    // 403, refused sign-in
	NotFound Outcome = "not_found" // 404 on an object that exists
	Error    Outcome = "error"     // failed for another reason
)

// Valid reports whether o is a known outcome.
func (o Outcome) Valid() bool {
	switch o {
	case OK, Denied, NotFound, Error:
		return true
	}
	return false
}

// Event is what a caller records. Actor, agency, request id and client
// address come from the context (access.WithPrincipal, WithRequestInfo);
// the database assigns id and time.
type Event struct {
	Action     string    // dotted verb, e.g. "case.read", "document.content.read", "auth.sign_in"
	ObjectType string    // e.g. "case", "person", "document"
	ObjectID   string    // the object's id as text
	CaseID     uuid.UUID // the case the object belongs to; uuid.Nil for none
	Outcome    Outcome   // empty means OK
	Details    any       // anything json.Marshal takes; nil for none. Never case content.

	// Actor, when set, is used instead of the principal in ctx: sign-in
	// handlers record before (or instead of) putting a principal there.
	Actor *access.Principal
}

// Field limits. Longer values are cut (at a rune boundary), never refused:
// failing to audit must not be caused by an odd header.
const (
	maxShort   = 200  // action, object type, codes, request id, client address
	maxMedium  = 1000 // issuer, subject, name, object id
	maxDetails = 16 << 10
)

// ErrBadEvent means Record was called with an event it cannot store.
var ErrBadEvent = errors.New("bad audit event")

// Record writes ev in the caller's transaction when ctx is inside
// store.WithTx, so the event commits or rolls back with the change it
// records. Outside a transaction it commits the event on its own.
//
// An event about a refusal (Denied, NotFound) must survive the rollback of
// the request's transaction: record it with the context from outside
// store.WithTx, after it returned.
//
// Cost: one INSERT (plus one into the sequencing queue, by trigger).
func Record(ctx context.Context, ev Event) error {
	if ev.Action == "" {
		return fmt.Errorf("record audit event: %w: action is empty", ErrBadEvent)
	}
	if ev.Outcome == "" {
		ev.Outcome = OK
	}
	if !ev.Outcome.Valid() {
		return fmt.Errorf("record audit event %s: %w: outcome %q", ev.Action, ErrBadEvent, ev.Outcome)
	}
	details := "{}"
	if ev.Details != nil {
		b, err := json.Marshal(ev.Details)
		if err != nil {
			return fmt.Errorf("record audit event %s: encode details: %w", ev.Action, err)
		}
		if len(b) > maxDetails {
			return fmt.Errorf("record audit event %s: %w: details exceed %d bytes", ev.Action, ErrBadEvent, maxDetails)
		}
		details = string(b)
	}
	var p access.Principal
	if ev.Actor != nil {
		p = *ev.Actor
	} else {
		p, _ = access.FromContext(ctx)
	}
	info := requestInfoFrom(ctx)
	insert := func(ctx context.Context) error {
		err := store.DB(ctx).Exec(`INSERT INTO audit_events
			(actor_user_id, actor_issuer, actor_subject, actor_name, agency_id, agency_code,
			 action, object_type, object_id, case_id, outcome, request_id, client_addr, details)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)`,
			nullUUID(p.UserID), clip(p.Issuer, maxMedium), clip(p.Subject, maxMedium), clip(p.Name, maxMedium),
			nullUUID(p.AgencyID), clip(p.AgencyCode, maxShort),
			clip(ev.Action, maxShort), clip(ev.ObjectType, maxShort), clip(ev.ObjectID, maxMedium),
			nullUUID(ev.CaseID), string(ev.Outcome),
			clip(info.requestID, maxShort), clip(info.clientAddr, maxShort), details).Error
		if err != nil {
			return fmt.Errorf("record audit event %s: %w", ev.Action, err)
		}
		return nil
	}
	if store.InTx(ctx) {
		return insert(ctx)
	}
	return store.WithTx(ctx, insert)
}

func nullUUID(u uuid.UUID) any {
	if u == uuid.Nil {
		return nil
	}
	return u.String()
}

// clip cuts s to at most n bytes without splitting a rune, and replaces
// invalid UTF-8 (PostgreSQL text refuses it).
func clip(s string, n int) string {
	if !utf8.ValidString(s) {
		s = string([]rune(s)) // each invalid byte becomes U+FFFD
	}
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

type requestInfoKey struct{}

type requestInfo struct {
	requestID  string
	clientAddr string
}

// WithRequestInfo returns a context carrying the request id and the client's
// address, which Record writes into every event. The HTTP middleware calls
// it once per request.
func WithRequestInfo(ctx context.Context, requestID, clientAddr string) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, requestInfo{requestID: requestID, clientAddr: clientAddr})
}

func requestInfoFrom(ctx context.Context) requestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(requestInfo)
	return ri
}
