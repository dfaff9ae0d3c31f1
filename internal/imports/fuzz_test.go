package imports

import (
	"testing"
	"time"
)

// FuzzReadImportFile feeds arbitrary bytes to the import file reader as a
// CSV and as an XLSX file, and the rows it accepts to the row checks: an
// import file comes from outside, so nothing in it may panic the server or
// make it read past its limits; it is read, or refused with an error.
func FuzzReadImportFile(f *testing.F) {
	f.Add(TemplateCSV(), "raid.csv")
	if x, err := TemplateXLSX(); err == nil {
		f.Add(x, "raid.xlsx")
	}
	f.Add([]byte("\uFEFFfamily_name,nationality\nWang,CN\n"), "bom.csv")
	f.Add([]byte("family_name,nationality,date_of_birth\n\"Li\"\"\",VN,1990-02-30\n"), "quotes.csv")
	f.Add([]byte("family_name,nationality\n=cmd,CN\n"), "formula.csv")
	f.Add([]byte("PK\x03\x04garbage"), "broken.xlsx")
	lim := Limits{MaxBytes: 1 << 20, MaxRows: 500, MaxUnzippedBytes: 4 << 20}
	facilities := map[string]bool{"Phnom Penh IDC": true}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		tab, err := read(data, name, lim)
		if err != nil {
			return
		}
		if tab == nil {
			t.Fatal("read returned neither a table nor an error")
		}
		if len(tab.Rows) > lim.MaxRows {
			t.Fatalf("%d rows read past the limit of %d", len(tab.Rows), lim.MaxRows)
		}
		rows, bad := checkRows(tab, facilities, []string{"VN"}, now)
		if len(rows)+len(bad) == 0 && len(tab.Rows) > 0 {
			t.Fatalf("%d rows read, none checked", len(tab.Rows))
		}
	})
}
