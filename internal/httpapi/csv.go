package httpapi

import (
	"encoding/csv"
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
