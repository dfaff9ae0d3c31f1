// Package imports is the bulk import of persons into a case: a CSV or XLSX
// file is read, every row checked and reported (line, column, reason), and
// on the importer's confirmation all rows are written in one transaction,
// or none. Persons already on file (same passport number and nationality,
// visible to the importer) are linked, not duplicated.
package imports

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/config"
)

// Columns are the columns an import file may have, in template order: the
// person fields of the API (same names) and the person's role in the case.
var Columns = []string{
	"family_name", "given_names", "family_name_native", "given_names_native", "sex", "date_of_birth",
	"nationality", "passport_number", "passport_status", "passport_expires_on", "work_permit_number",
	"work_permit_status", "address", "custody_status", "facility", "detained_at", "deported_at",
	"deported_via", "entry_ban_until", "asylum_claimed", "consular_notification", "role",
}

// Required are the columns every file must have.
var Required = []string{"family_name", "nationality"}

// Format is an import file's format.
type Format string

// Formats.
const (
	FormatCSV  Format = "csv"
	FormatXLSX Format = "xlsx"
)

// Limits bound what one import may hold.
type Limits struct {
	MaxBytes         int64
	MaxRows          int
	MaxUnzippedBytes int64
	// JobAboveRows: an import of more rows is committed by a background
	// job rather than in the request (0: always in the request).
	JobAboveRows int
}

// LimitsFrom returns the limits the settings give.
func LimitsFrom(cfg config.Imports) Limits {
	return Limits{MaxBytes: cfg.MaxBytes, MaxRows: cfg.MaxRows, MaxUnzippedBytes: cfg.MaxUnzippedBytes, JobAboveRows: cfg.JobAboveRows}
}

// rawRow is one data row of the file: its line (CSV: the line it starts on;
// XLSX: the row number) and its cells by column name.
type rawRow struct {
	Line  int
	Cells map[string]string
}

// table is a read file.
type table struct {
	Format Format
	Rows   []rawRow
}

// fileError is a problem with the whole file: 422 naming it.
func fileError(format string, args ...any) error {
	return apperr.Invalid("file", format, args...)
}

// detect tells the format from the first bytes (an XLSX file is a zip
// archive) and the file name.
func detect(data []byte, name string) Format {
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) || strings.HasSuffix(strings.ToLower(name), ".xlsx") {
		return FormatXLSX
	}
	return FormatCSV
}

// read parses data as an import file.
func read(data []byte, name string, lim Limits) (*table, error) {
	if len(data) == 0 {
		return nil, fileError("is empty: the first line must name the columns, and at least one row must follow")
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, apperr.With(apperr.ErrTooLarge, "The import file exceeds the limit of %d bytes.", lim.MaxBytes)
	}
	if detect(data, name) == FormatXLSX {
		return readXLSX(data, lim)
	}
	return readCSV(data, lim)
}

var bomUTF8 = []byte{0xEF, 0xBB, 0xBF}

// readCSV reads a CSV file in UTF-8, with or without a byte order mark.
func readCSV(data []byte, lim Limits) (*table, error) {
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) ||
		bytes.IndexByte(data, 0) >= 0 {
		return nil, fileError("is encoded in UTF-16 (or holds NUL bytes); save it as \"CSV UTF-8\"")
	}
	data = bytes.TrimPrefix(data, bomUTF8)
	if !utf8.Valid(data) {
		line := 1
		for i := 0; i < len(data); {
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			if r == '\n' {
				line++
			}
			i += size
		}
		return nil, fileError("is not UTF-8 (line %d holds a byte that is not; Latin-1 or Windows-1252?); save it as \"CSV UTF-8\"", line)
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, fileError("is empty: the first line must name the columns, and at least one row must follow")
	}
	if err != nil {
		return nil, csvError(err)
	}
	cols, err := checkHeader(header)
	if err != nil {
		return nil, err
	}
	t := &table{Format: FormatCSV}
	var formulas []string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := r.FieldPos(0)
		row, err := makeRow(line, cols, rec, &formulas)
		if err != nil {
			return nil, err
		}
		if row.Cells == nil {
			continue
		}
		if len(t.Rows) >= lim.MaxRows {
			return nil, apperr.With(apperr.ErrTooLarge, "The import file holds more than %d rows (imports.max_rows); split it.", lim.MaxRows)
		}
		t.Rows = append(t.Rows, row)
	}
	return finish(t, formulas)
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fileError("is not valid CSV: line %d: %v", pe.Line, pe.Err)
	}
	return fileError("could not be read as CSV")
}

// checkHeader maps the header to column names: every name known, none
// twice, the required ones present.
func checkHeader(header []string) ([]string, error) {
	cols := make([]string, len(header))
	var unknown, twice []string
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if i == 0 {
			h = strings.TrimPrefix(h, "\uFEFF")
		}
		cols[i] = h
		switch {
		case h == "" && i == len(header)-1 && i > 0:
			// a trailing separator
		case !slices.Contains(Columns, h):
			unknown = append(unknown, fmt.Sprintf("%q", h))
		case seen[h]:
			twice = append(twice, h)
		}
		seen[h] = true
	}
	var fs apperr.Fields
	if len(unknown) > 0 {
		fs.Add("header", "unknown column(s) %s; the columns are: %s (see GET /api/v1/imports/template.csv)",
			strings.Join(unknown, ", "), strings.Join(Columns, ", "))
	}
	if len(twice) > 0 {
		fs.Add("header", "column(s) %s appear more than once", strings.Join(twice, ", "))
	}
	for _, r := range Required {
		if !seen[r] {
			fs.Add("header", "the required column %s is missing", r)
		}
	}
	if err := fs.Err(); err != nil {
		return nil, err
	}
	return cols, nil
}

// formulaStart are the first characters that make a spreadsheet evaluate a
// cell (CSV injection). Nothing in a person record starts with them.
func formulaStart(v string) bool {
	return v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0]))
}

// makeRow builds one row; a row with no value at all has nil Cells (it is
// skipped). Cells that would be formulas are collected in formulas.
func makeRow(line int, cols, rec []string, formulas *[]string) (rawRow, error) {
	row := rawRow{Line: line}
	for i, v := range rec {
		if i >= len(cols) || cols[i] == "" {
			if strings.TrimSpace(v) != "" {
				return row, fileError("line %d has more cells than the header has columns", line)
			}
			continue
		}
		if formulaStart(v) && len(*formulas) < 20 {
			*formulas = append(*formulas, fmt.Sprintf("line %d column %s", line, cols[i]))
		}
		if v = strings.TrimSpace(v); v != "" {
			if row.Cells == nil {
				row.Cells = map[string]string{}
			}
			row.Cells[cols[i]] = v
		}
	}
	return row, nil
}

func finish(t *table, formulas []string) (*table, error) {
	if len(formulas) > 0 {
		return nil, fileError("holds spreadsheet formulas or cells starting with =, +, -, @, tab or CR (%s); "+
			"import values only", strings.Join(formulas, "; "))
	}
	if len(t.Rows) == 0 {
		return nil, fileError("has a header but no rows")
	}
	return t, nil
}

// readXLSX reads the first sheet of an XLSX workbook. The archive's
// declared sizes are checked before anything is decompressed (zip bombs),
// and excelize's own limits are set to the same bound.
func readXLSX(data []byte, lim Limits) (*table, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fileError("is not a valid XLSX workbook (not a zip archive)")
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > uint64(lim.MaxUnzippedBytes) { // #nosec G115 -- imports.max_unzipped_bytes is validated positive (at least imports.max_bytes)
			return nil, fileError("expands to more than %d bytes when unpacked (imports.max_unzipped_bytes); it is refused as a possible zip bomb", lim.MaxUnzippedBytes)
		}
		if f.CompressedSize64 > 0 && f.UncompressedSize64/f.CompressedSize64 > 1000 {
			return nil, fileError("has a part (%s) compressed more than 1000 to 1; it is refused as a possible zip bomb", f.Name)
		}
	}
	wb, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		RawCellValue: true, UnzipSizeLimit: lim.MaxUnzippedBytes, UnzipXMLSizeLimit: lim.MaxUnzippedBytes,
	})
	if err != nil {
		return nil, fileError("is not a valid XLSX workbook")
	}
	defer wb.Close()
	sheets := wb.GetSheetList()
	if len(sheets) == 0 {
		return nil, fileError("is an XLSX workbook without sheets")
	}
	sheet := sheets[0]
	rows, err := wb.Rows(sheet)
	if err != nil {
		return nil, fileError("could not be read as XLSX: %v", err)
	}
	defer rows.Close()
	var cols []string
	t := &table{Format: FormatXLSX}
	var formulas []string
	n := 0
	for rows.Next() {
		n++
		rec, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, fileError("could not be read as XLSX (row %d)", n)
		}
		if cols == nil {
			if len(rec) == 0 {
				continue
			}
			if cols, err = checkHeader(rec); err != nil {
				return nil, err
			}
			continue
		}
		for i := range rec {
			if rec[i] == "" {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(i+1, n)
			if f, _ := wb.GetCellFormula(sheet, cell); f != "" && len(formulas) < 20 {
				name := ""
				if i < len(cols) {
					name = cols[i]
				}
				formulas = append(formulas, fmt.Sprintf("row %d column %s", n, name))
			}
		}
		row, err := makeRow(n, cols, rec, &formulas)
		if err != nil {
			return nil, err
		}
		if row.Cells == nil {
			continue
		}
		if len(t.Rows) >= lim.MaxRows {
			return nil, apperr.With(apperr.ErrTooLarge, "The import file holds more than %d rows (imports.max_rows); split it.", lim.MaxRows)
		}
		t.Rows = append(t.Rows, row)
	}
	if cols == nil {
		return nil, fileError("is empty: the first row must name the columns, and at least one row must follow")
	}
	return finish(t, formulas)
}
