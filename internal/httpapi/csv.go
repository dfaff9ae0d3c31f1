package httpapi

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// wantsCSV reports whether the client asks for a list as CSV: ?format=csv
// or an Accept header that names text/csv (and not JSON first).
func wantsCSV(c *gin.Context) bool {
	if c.Query("format") == "csv" {
		return true
	}
	for _, part := range strings.Split(c.GetHeader("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "text/csv":
			return true
		case "application/json", "application/problem+json":
			return false
		}
	}
	return false
}

// NeutraliseCell makes a cell safe to open in a spreadsheet: a value that
// starts with =, +, -, @, tab or CR would be evaluated as a formula (CSV
// injection), so it gets a leading apostrophe, which spreadsheets show as
// text and do not evaluate (OWASP's recommendation).
func NeutraliseCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// csvWriter streams CSV rows to the response, each cell neutralised.
type csvWriter struct {
	w *csv.Writer
	c *gin.Context
}

func newCSVWriter(c *gin.Context, filename string) *csvWriter {
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="`+filename+`"`)
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	return &csvWriter{w: csv.NewWriter(c.Writer), c: c}
}

// Row writes one row; every 100 rows reach the client at once (streamed,
// never the whole list in memory).
func (cw *csvWriter) Row(cells ...string) {
	for i, v := range cells {
		cells[i] = NeutraliseCell(v)
	}
	_ = cw.w.Write(cells)
}

func (cw *csvWriter) Flush() {
	cw.w.Flush()
	cw.c.Writer.Flush()
}

func writeCSV(c *gin.Context, filename string, rows [][]string) {
	cw := newCSVWriter(c, filename)
	for _, r := range rows {
		cw.Row(r...)
	}
	cw.Flush()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// exportPageSize is the page size an export reads at a time.
const exportPageSize = 200

// streamCSV answers a list as CSV: the same pages, through the same
// service (and so the same RLS) as the JSON list, written and flushed page
// by page (never the whole list in memory). columns are paths into each
// item's JSON document ("person.family_name"); a missing value is empty,
// an object or array is written as compact JSON. The first page is read
// before anything is written, so a refusal is still a problem document.
func streamCSV[T any](c *gin.Context, filename string, columns []string, page func(cursor string) ([]T, string, error)) {
	items, next, err := page(c.Query("cursor"))
	if err != nil {
		Fail(c, err)
		return
	}
	cw := newCSVWriter(c, filename)
	cw.Row(append([]string(nil), columns...)...)
	for {
		for _, it := range items {
			cw.Row(csvCells(it, columns)...)
		}
		cw.Flush()
		if next == "" || c.Request.Context().Err() != nil {
			return
		}
		if items, next, err = page(next); err != nil {
			// Headers are sent: end the body with a line that says so.
			cw.Row("export interrupted: " + err.Error())
			cw.Flush()
			return
		}
	}
}

func csvCells(item any, columns []string) []string {
	b, _ := json.Marshal(item)
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	out := make([]string, len(columns))
	for i, col := range columns {
		var v any = doc
		for _, part := range strings.Split(col, ".") {
			m, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = m[part]
		}
		switch x := v.(type) {
		case nil:
		case string:
			out[i] = x
		case float64, bool:
			out[i] = fmt.Sprint(x)
		default:
			if m, ok := x.(map[string]any); ok && m["code"] != nil {
				out[i] = fmt.Sprint(m["code"])
				continue
			}
			j, _ := json.Marshal(x)
			out[i] = string(j)
		}
	}
	return out
}

// Export columns of the lists.
var (
	caseCSVColumns = []string{"id", "reference", "title", "kind", "status", "owner_agency", "court_agency",
		"hearing_date", "access.level", "updated_at"}
	casePersonCSVColumns = []string{"role", "linked_at", "person.id", "person.family_name", "person.given_names",
		"person.family_name_native", "person.given_names_native", "person.sex", "person.date_of_birth",
		"person.nationality", "person.passport_number", "person.custody_status", "person.facility",
		"person.detained_at", "person.deported_at", "person.deported_via"}
	// The consular projection (ACCESS.md) and nothing else.
	nationalCSVColumns = []string{"id", "family_name", "given_names", "sex", "date_of_birth", "nationality",
		"passport_number", "custody_status", "facility", "detained_at", "deported_at", "deported_via",
		"entry_ban_until", "charges", "notification"}
)
