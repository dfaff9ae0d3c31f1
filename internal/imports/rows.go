package imports

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/persons"
)

// Row is one valid row of an import, as commit writes it: the person's
// fields (names byte-exact as in the file, only surrounding spaces cut) and
// its role in the case. Dates are ISO 8601 (YYYY-MM-DD), instants RFC 3339.
type Row struct {
	Line                 int     `json:"line"`
	FamilyName           string  `json:"family_name"`
	GivenNames           string  `json:"given_names"`
	FamilyNameNative     string  `json:"family_name_native"`
	GivenNamesNative     string  `json:"given_names_native"`
	Sex                  string  `json:"sex"`
	DateOfBirth          *string `json:"date_of_birth"`
	Nationality          string  `json:"nationality"`
	PassportNumber       string  `json:"passport_number"`
	PassportStatus       string  `json:"passport_status"`
	PassportExpiresOn    *string `json:"passport_expires_on"`
	WorkPermitNumber     string  `json:"work_permit_number"`
	WorkPermitStatus     string  `json:"work_permit_status"`
	Address              string  `json:"address"`
	CustodyStatus        string  `json:"custody_status"`
	Facility             string  `json:"facility"`
	DetainedAt           *string `json:"detained_at"`
	DeportedAt           *string `json:"deported_at"`
	DeportedVia          string  `json:"deported_via"`
	EntryBanUntil        *string `json:"entry_ban_until"`
	AsylumClaimed        bool    `json:"asylum_claimed"`
	ConsularNotification string  `json:"consular_notification"`
	Role                 string  `json:"role"`
}

// RowError is one bad cell (or row) of an import file.
type RowError struct {
	Line   int    `json:"line"`
	Column string `json:"column"`
	Reason string `json:"reason"`
}

// passportKey identifies a passport: number and issuing nationality.
type passportKey struct{ Number, Nationality string }

func (r Row) passport() (passportKey, bool) {
	return passportKey{r.PassportNumber, r.Nationality}, r.PassportNumber != ""
}

// checkRows turns the file's rows into Rows, reporting every bad cell.
// facilities are the registered facility names; mandatory the countries
// whose nationals' consular notification is mandatory.
func checkRows(t *table, facilities map[string]bool, mandatory []string, now time.Time) ([]Row, []RowError) {
	var out []Row
	var bad []RowError
	first := map[passportKey]int{}
	for _, raw := range t.Rows {
		row, errs := checkRow(raw, t.Format, facilities, mandatory, now)
		if k, ok := row.passport(); ok && len(errs) == 0 {
			if line, dup := first[k]; dup {
				errs = append(errs, RowError{Line: raw.Line, Column: "passport_number",
					Reason: fmt.Sprintf("duplicates the passport number of line %d (same nationality)", line)})
			} else {
				first[k] = raw.Line
			}
		}
		if len(errs) > 0 {
			bad = append(bad, errs...)
			continue
		}
		out = append(out, row)
	}
	return out, bad
}

func checkRow(raw rawRow, format Format, facilities map[string]bool, mandatory []string, now time.Time) (Row, []RowError) {
	var errs []RowError
	bad := func(col, format string, args ...any) {
		errs = append(errs, RowError{Line: raw.Line, Column: col, Reason: fmt.Sprintf(format, args...)})
	}
	c := raw.Cells
	str := func(col string) *string {
		if v, ok := c[col]; ok {
			return &v
		}
		return nil
	}
	date := func(col string) (**time.Time, *string) {
		v, ok := c[col]
		if !ok {
			return nil, nil
		}
		d, err := parseDate(v, format)
		if err != nil {
			bad(col, "must be a date YYYY-MM-DD, got %q", v)
			return nil, nil
		}
		s := d.Format(time.DateOnly)
		return &d, &s
	}
	instant := func(col string) (**time.Time, *string) {
		v, ok := c[col]
		if !ok {
			return nil, nil
		}
		d, err := parseInstant(v, format)
		if err != nil {
			bad(col, "must be a date YYYY-MM-DD or a time like 2026-11-14T06:30:00+07:00, got %q", v)
			return nil, nil
		}
		s := d.UTC().Format(time.RFC3339)
		return &d, &s
	}
	enum := func(col string, allowed []string, def string) string {
		v, ok := c[col]
		if !ok {
			return def
		}
		if !slices.Contains(allowed, v) {
			bad(col, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
		}
		return v
	}
	row := Row{Line: raw.Line}
	f := persons.Fields{FamilyName: str("family_name"), GivenNames: str("given_names"),
		FamilyNameNative: str("family_name_native"), GivenNamesNative: str("given_names_native"),
		PassportNumber: str("passport_number"), WorkPermitNumber: str("work_permit_number"),
		Address: str("address"), Facility: str("facility"), DeportedVia: str("deported_via")}
	if v, ok := c["nationality"]; ok {
		v = strings.ToUpper(v)
		f.Nationality = &v
	}
	row.Sex = enum("sex", strs(persons.Sexes), "unknown")
	row.PassportStatus = enum("passport_status", strs(persons.PassportStatuses), "unknown")
	row.WorkPermitStatus = enum("work_permit_status", strs(persons.WorkPermitStatuses), "unknown")
	row.CustodyStatus = enum("custody_status", strs(persons.Custodies), "at_large")
	row.Role = enum("role", strs(persons.Roles), "detainee")
	notif := enum("consular_notification", []string{"requested", "declined"}, "requested")
	var dob, pexp, ban, det, dep **time.Time
	dob, row.DateOfBirth = date("date_of_birth")
	pexp, row.PassportExpiresOn = date("passport_expires_on")
	ban, row.EntryBanUntil = date("entry_ban_until")
	det, row.DetainedAt = instant("detained_at")
	dep, row.DeportedAt = instant("deported_at")
	f.DateOfBirth, f.PassportExpiresOn, f.EntryBanUntil, f.DetainedAt, f.DeportedAt = dob, pexp, ban, det, dep
	if v, ok := c["asylum_claimed"]; ok {
		switch strings.ToLower(v) {
		case "true", "yes", "1":
			row.AsylumClaimed = true
		case "false", "no", "0":
		default:
			bad("asylum_claimed", "must be true or false, got %q", v)
		}
	}
	if len(errs) == 0 {
		cust := persons.Custody(row.CustodyStatus)
		f.CustodyStatus = &cust
		if err := f.Validate(true, now); err != nil {
			var ve *apperr.ValidationError
			if !errors.As(err, &ve) {
				bad("", "%v", err)
			} else {
				for _, fe := range ve.Fields {
					bad(fe.Field, "%s", fe.Message)
				}
			}
		}
	}
	if v := c["facility"]; v != "" && !facilities[v] {
		bad("facility", "%q is not a registered facility (GET /api/v1/facilities)", v)
	}
	val := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	row.FamilyName, row.GivenNames = val(f.FamilyName), val(f.GivenNames)
	row.FamilyNameNative, row.GivenNamesNative = val(f.FamilyNameNative), val(f.GivenNamesNative)
	row.Nationality, row.PassportNumber = val(f.Nationality), val(f.PassportNumber)
	row.WorkPermitNumber, row.Address = val(f.WorkPermitNumber), val(f.Address)
	row.Facility, row.DeportedVia = val(f.Facility), val(f.DeportedVia)
	row.ConsularNotification = notif
	if slices.Contains(mandatory, row.Nationality) {
		row.ConsularNotification = string(persons.NotificationMandatory)
	}
	return row, errs
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// parseDate reads a calendar date: ISO 8601, or in an XLSX file a
// spreadsheet date serial.
func parseDate(v string, format Format) (*time.Time, error) {
	if format == FormatXLSX {
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			t, err := excelize.ExcelDateToTime(n, false)
			if err != nil {
				return nil, err
			}
			d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
			return &d, nil
		}
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// parseInstant reads a time: RFC 3339, or a date (midnight UTC), or in an
// XLSX file a spreadsheet date-time serial (taken as UTC).
func parseInstant(v string, format Format) (*time.Time, error) {
	if format == FormatXLSX {
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			t, err := excelize.ExcelDateToTime(n, false)
			if err != nil {
				return nil, err
			}
			t = t.UTC()
			return &t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return &t, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return nil, err
	}
	return &t, nil
}
