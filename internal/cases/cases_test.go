package cases_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/cases"
)

// The allowed moves, in full: everything not listed is refused.
func TestTransitions(t *testing.T) {
	allowed := map[[2]cases.Status]bool{
		{"open", "investigation"}: true, {"open", "closed"}: true,
		{"investigation", "before_court"}: true, {"investigation", "closed"}: true,
		{"before_court", "adjudicated"}: true, {"before_court", "investigation"}: true,
		{"before_court", "before_court"}: true,
		{"adjudicated", "closed"}:        true,
	}
	for _, from := range cases.Statuses {
		for _, to := range cases.Statuses {
			if got := cases.CanMove(from, to); got != allowed[[2]cases.Status{from, to}] {
				t.Errorf("%s → %s: %v", from, to, got)
			}
		}
	}
	if len(cases.Next(cases.StatusClosed)) != 0 {
		t.Error("a closed case moves on")
	}
}

func fields(err error) []string {
	var ve *apperr.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var out []string
	for _, f := range ve.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestValidation(t *testing.T) {
	now := time.Now()
	court := uuid.New()
	basis := "Art. 29"
	day := now.Add(24 * time.Hour)
	for _, c := range []struct {
		name string
		err  error
		want []string
	}{
		{"new case ok", cases.NewCase{Title: "t", Kind: cases.KindSmuggling}.Validate(), nil},
		{"new case", cases.NewCase{Title: "a\x00b", Kind: "x", Notes: strings.Repeat("n", 50001)}.Validate(),
			[]string{"title", "kind", "notes"}},
		{"referral ok", cases.StatusChange{Status: cases.StatusBeforeCourt, CourtAgencyID: &court, HearingDate: &day, LegalBasis: &basis}.Validate(), nil},
		{"referral", cases.StatusChange{Status: cases.StatusBeforeCourt}.Validate(),
			[]string{"court_agency_id", "hearing_date", "legal_basis"}},
		{"closing with court data", cases.StatusChange{Status: cases.StatusClosed, CourtAgencyID: &court, LegalBasis: &basis}.Validate(),
			[]string{"court_agency_id", "legal_basis"}},
		{"share ok", cases.NewShare{AgencyID: court, Level: cases.LevelFull, Ceiling: access.Restricted, Purpose: "p",
			ExpiresAt: now.Add(365 * 24 * time.Hour)}.Validate(now), nil},
		{"share too long", cases.NewShare{AgencyID: court, Level: cases.LevelFull, Ceiling: access.Restricted, Purpose: "p",
			ExpiresAt: now.Add(366 * 24 * time.Hour)}.Validate(now), []string{"expires_at"}},
		{"share", cases.NewShare{Level: "all", Ceiling: "top", ExpiresAt: now.Add(-time.Hour)}.Validate(now),
			[]string{"agency_id", "level", "ceiling", "purpose", "expires_at"}},
		{"empty patch", cases.Patch{}.Validate(), []string{"body"}},
	} {
		if got := fields(c.err); !slices.Equal(got, c.want) {
			t.Errorf("%s: fields %v, want %v (%v)", c.name, got, c.want, c.err)
		}
	}
}
