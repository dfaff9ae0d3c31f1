// Package pgerr turns the errors PostgreSQL raises for CaseBridge's rules
// into the domain error kinds of internal/apperr: the column guards and
// row-level security (SQLSTATE 42501) become 403 with the permission the
// database named, the non-punishment triggers (CB409) a 409 with their
// sentence, unique violations a conflict, and CHECK and foreign-key
// violations a field error. Anything else is returned unchanged (and
// becomes a 500 whose detail says nothing).
package pgerr

import (
	"errors"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/casebridge/casebridge/internal/apperr"
)

// SQLSTATEs raised by CaseBridge's migrations.
const (
	InsufficientPrivilege = "42501"
	NonPunishment         = "CB409"
	UniqueViolation       = "23505"
	CheckViolation        = "23514"
	ForeignKeyViolation   = "23503"
	NotNullViolation      = "23502"
)

var permissionRE = regexp.MustCompile(`missing permission ([a-z_]+\.[a-z_.]+)`)

// Map converts err when it is one of the PostgreSQL errors above;
// permission names the action attempted, used when the database did not
// name one (a plain RLS refusal). The result wraps err's kind, never its
// SQL text, except for the sentences our own triggers raise for users.
func Map(err error, permission string) error {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return err
	}
	switch pg.Code {
	case InsufficientPrivilege:
		if m := permissionRE.FindStringSubmatch(pg.Message); m != nil {
			permission = m[1]
		}
		return apperr.Forbidden(permission, "The database refused the change.")
	case NonPunishment:
		code := "person.non_punishment"
		switch {
		case strings.Contains(pg.Message, "referral"):
			code = "case.referral_pending_screening"
		case strings.Contains(pg.Message, "deport"):
			code = "person.deportation_pending_screening"
		}
		return apperr.Coded(apperr.ErrConflict, code, "%s.", sentence(pg.Message))
	case UniqueViolation:
		return apperr.Coded(apperr.ErrConflict, "conflict.exists", "It already exists (%s).", field(pg))
	case CheckViolation, NotNullViolation:
		// Our own triggers name the column and say what it must be
		// ("facility must name a registered facility").
		if pg.ColumnName != "" && strings.HasPrefix(pg.Message, pg.ColumnName+" must ") {
			return apperr.Invalid(pg.ColumnName, "%s", strings.TrimPrefix(pg.Message, pg.ColumnName+" "))
		}
		return apperr.Invalid(field(pg), "is not allowed")
	case ForeignKeyViolation:
		return apperr.Invalid(field(pg), "names nothing that exists")
	}
	return err
}

// sentence makes the trigger's message start with a capital letter.
func sentence(msg string) string {
	msg = strings.TrimSuffix(strings.TrimSpace(msg), ".")
	if msg == "" {
		return "The rules of the database refused the change"
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}

// field guesses the request field from the column or the constraint name
// (PostgreSQL names them <table>_<column>_check / _fkey / _key).
func field(pg *pgconn.PgError) string {
	if pg.ColumnName != "" {
		return pg.ColumnName
	}
	name := pg.ConstraintName
	if pg.TableName != "" {
		name = strings.TrimPrefix(name, pg.TableName+"_")
	}
	for _, suffix := range []string{"_check", "_fkey", "_key", "_pkey"} {
		name = strings.TrimSuffix(name, suffix)
	}
	if name == "" || strings.Contains(name, "check") {
		return "body"
	}
	return name
}
