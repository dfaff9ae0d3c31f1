package auth

import (
	"context"
	"log/slog"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/audit"
)

// Kinds of sign-in event.
const (
	eventSignIn         = "sign_in"
	eventSignOut        = "sign_out"
	eventSignInRefused  = "sign_in_refused"
	eventBearerRefused  = "bearer_refused"
	eventSessionRefused = "session_refused"
)

// authEvent is one sign-in, sign-out or refusal.
type authEvent struct {
	Kind      string
	Method    string // browser, bearer, session
	Issuer    string
	Subject   string
	UserID    string
	Agency    string
	SessionID string
	Roles     []access.Role
	Reason    string
	Err       error
}

// recordAuthEvent is the one place sign-in events are recorded: as an audit
// event (ACCESS.md: every sign-in, sign-out and refused sign-in is audited)
// and as a structured log line. The audit event commits on its own, so a
// refusal is recorded although nothing else about the request is.
func (s *Service) recordAuthEvent(ctx context.Context, ev authEvent) {
	s.auditAuthEvent(ctx, ev)
	attrs := []any{"event", ev.Kind, "method", ev.Method}
	for _, kv := range [][2]string{
		{"issuer", ev.Issuer}, {"subject", ev.Subject}, {"user_id", ev.UserID},
		{"agency", ev.Agency}, {"session_id", ev.SessionID}, {"reason", ev.Reason},
	} {
		if kv[1] != "" {
			attrs = append(attrs, kv[0], kv[1])
		}
	}
	if ev.Roles != nil {
		attrs = append(attrs, "roles", ev.Roles)
	}
	if ev.Err != nil {
		attrs = append(attrs, "err", ev.Err.Error())
	}
	level := slog.LevelInfo
	if ev.Kind != eventSignIn && ev.Kind != eventSignOut {
		level = slog.LevelWarn
	}
	s.log.Log(ctx, level, "auth event", attrs...)
}

// auditAuthEvent writes ev to the audit log. The actor is who signed in (or
// whom the refused credential claimed to be); no secret (session id, token)
// goes into the event.
func (s *Service) auditAuthEvent(ctx context.Context, ev authEvent) {
	outcome := audit.Denied
	if ev.Kind == eventSignIn || ev.Kind == eventSignOut {
		outcome = audit.OK
	}
	actor := access.Principal{Issuer: ev.Issuer, Subject: ev.Subject, AgencyCode: ev.Agency, Roles: ev.Roles}
	if id, err := uuid.Parse(ev.UserID); err == nil {
		actor.UserID = id
	}
	details := map[string]string{"method": ev.Method}
	if ev.Reason != "" {
		details["reason"] = ev.Reason
	}
	err := audit.Record(ctx, audit.Event{
		Action: "auth." + ev.Kind, ObjectType: "user", ObjectID: ev.UserID,
		Outcome: outcome, Details: details, Actor: &actor,
	})
	if err != nil {
		s.log.ErrorContext(ctx, "audit auth event", "event", ev.Kind, "err", err.Error())
	}
}
