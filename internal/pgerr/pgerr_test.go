package pgerr_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/pgerr"
)

func TestMap(t *testing.T) {
	wrap := func(pg *pgconn.PgError) error { return fmt.Errorf("update: %w", pg) }
	var pe *apperr.PermissionError
	err := pgerr.Map(wrap(&pgconn.PgError{Code: "42501", Message: "missing permission person.screen for person 1"}), "case.edit")
	if !errors.As(err, &pe) || pe.Permission != "person.screen" {
		t.Errorf("guard: %v", err)
	}
	err = pgerr.Map(wrap(&pgconn.PgError{Code: "42501", Message: "new row violates row-level security policy"}), "case.edit")
	if !errors.As(err, &pe) || pe.Permission != "case.edit" {
		t.Errorf("rls: %v", err)
	}
	err = pgerr.Map(wrap(&pgconn.PgError{Code: "CB409", Message: "case X links a possible victim"}), "")
	var de *apperr.DetailError
	if !errors.Is(err, apperr.ErrConflict) || !errors.As(err, &de) || de.Detail != "Case X links a possible victim." {
		t.Errorf("non-punishment: %v", err)
	}
	err = pgerr.Map(wrap(&pgconn.PgError{Code: "23514", TableName: "cases", ConstraintName: "cases_title_check"}), "")
	var ve *apperr.ValidationError
	if !errors.As(err, &ve) || ve.Fields[0].Field != "title" {
		t.Errorf("check: %v", err)
	}
	err = pgerr.Map(wrap(&pgconn.PgError{Code: "23514", ColumnName: "court_agency_id"}), "")
	if !errors.As(err, &ve) || ve.Fields[0].Field != "court_agency_id" {
		t.Errorf("check with column: %v", err)
	}
	if err := pgerr.Map(wrap(&pgconn.PgError{Code: "23505"}), ""); !errors.Is(err, apperr.ErrConflict) {
		t.Errorf("unique: %v", err)
	}
	plain := errors.New("connection reset")
	if pgerr.Map(plain, "x") != plain {
		t.Error("a non-PostgreSQL error changed")
	}
	if err := pgerr.Map(wrap(&pgconn.PgError{Code: "40001"}), ""); errors.Is(err, apperr.ErrConflict) || errors.Is(err, apperr.ErrInvalid) {
		t.Errorf("serialization failure became a domain error: %v", err)
	}
}
