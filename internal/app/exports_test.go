package app_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
)

func parseCSV(t *testing.T, r response) [][]string {
	t.Helper()
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s\n%s", r.status, r.header.Get("Content-Type"), r.body)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, r.body)
	}
	return rows
}

// TestExports: CSV exports hold the same rows as the JSON lists (the same
// RLS), page after page, with formula cells neutralised; an embassy's export
// of its nationals holds the consular projection and nothing else.
func TestExports(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	owned := a.w.Case("owned").ID
	a.exec(`UPDATE cases SET title = '=cmd|'' /C calc''!A0' WHERE id = ?`, owned)
	a.exec(`UPDATE persons SET family_name = '@SUM(1+1)', given_names = E'\tTab' WHERE id = ?`, a.w.Person("cn-detained").ID)
	a.exec(`UPDATE persons SET family_name = '+85512', given_names = E'\rCR' WHERE id = ?`, a.w.Person("vn-detained").ID)
	// 450 more persons in one case: an export of three pages.
	a.exec(`INSERT INTO persons (family_name, nationality, created_by_agency_id, custody_status)
		SELECT '-Bulk ' || g, 'TH', ?, 'detained' FROM generate_series(1, 450) g`, a.w.Agencies["gdi"].ID)
	a.exec(`INSERT INTO case_persons (case_id, person_id) SELECT ?, id FROM persons WHERE family_name LIKE '-Bulk %'`,
		a.w.Case("ppm-owned").ID)

	// Every principal: the same case ids in CSV as in JSON.
	for _, p := range a.w.Principals {
		jsonIDs := []string{}
		cursor := ""
		for {
			path := "/api/v1/cases?limit=200"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			r := a.request(p.Name, "GET", path, "")
			ids, _ := listIDs(t, r, "")
			jsonIDs = append(jsonIDs, ids...)
			next, _ := r.object(t)["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		rows := parseCSV(t, a.request(p.Name, "GET", "/api/v1/cases?format=csv", ""))
		var csvIDs []string
		for _, row := range rows[1:] {
			csvIDs = append(csvIDs, row[0])
		}
		sort.Strings(jsonIDs)
		sort.Strings(csvIDs)
		if !slices.Equal(jsonIDs, csvIDs) && !(len(jsonIDs) == 0 && len(csvIDs) == 0) {
			t.Errorf("%s: cases CSV %v, JSON %v", p.Name, csvIDs, jsonIDs)
		}
	}

	// Formula cells are neutralised (a leading apostrophe).
	rows := parseCSV(t, a.request("gdi-officer", "GET", "/api/v1/cases", "", "Accept", "text/csv"))
	found := false
	for _, row := range rows {
		if row[0] == owned.String() {
			found = row[2] == "'=cmd|' /C calc'!A0"
		}
	}
	if !found {
		t.Errorf("cases export: the formula title is not neutralised\n%v", rows)
	}
	rows = parseCSV(t, a.request("gdi-officer", "GET", "/api/v1/cases/"+owned.String()+"/persons?format=csv", ""))
	names := map[string]bool{}
	for _, row := range rows[1:] {
		names[row[3]+"|"+row[4]] = true
	}
	for _, want := range []string{"'@SUM(1+1)|'\tTab", "'+85512|'\rCR"} {
		if !names[want] {
			t.Errorf("persons export: %q not found neutralised in %v", want, names)
		}
	}
	// Three pages of persons, streamed.
	rows = parseCSV(t, a.request("ppm-officer", "GET", "/api/v1/cases/"+a.w.Case("ppm-owned").ID.String()+"/persons?format=csv", ""))
	if len(rows) != 1+451 {
		t.Errorf("ppm-owned persons export: %d rows, want 452", len(rows))
	}
	for _, row := range rows[1:] {
		if strings.HasPrefix(row[3], "-") {
			t.Errorf("not neutralised: %q", row[3])
			break
		}
	}
	// A case the principal cannot see: a problem, not an empty file.
	if r := a.request("emb-cn-liaison", "GET", "/api/v1/cases/"+owned.String()+"/persons?format=csv", ""); r.status != http.StatusNotFound {
		t.Errorf("embassy export of a case's persons: %d", r.status)
	}

	// The embassy's nationals: the consular projection only.
	r := a.request("emb-cn-liaison", "GET", "/api/v1/consular/nationals?limit=200", "")
	jsonIDs, _ := listIDs(t, r, "")
	rd := a.request("emb-cn-liaison", "GET", "/api/v1/consular/nationals?format=csv", "")
	rows = parseCSV(t, rd)
	header := slices.Clone(rows[0])
	sort.Strings(header)
	if !slices.Equal(header, sortedCopy(consularKeys)) {
		t.Errorf("consular export columns %v, want %v", rows[0], consularKeys)
	}
	var csvIDs []string
	for _, row := range rows[1:] {
		csvIDs = append(csvIDs, row[0])
	}
	sort.Strings(jsonIDs)
	sort.Strings(csvIDs)
	if len(jsonIDs) == 0 || !slices.Equal(jsonIDs, csvIDs) {
		t.Errorf("consular export ids %v, JSON %v", csvIDs, jsonIDs)
	}
	for _, word := range consularForbidden {
		if bytes.Contains(rd.body, []byte(word)) {
			t.Errorf("consular export holds %q", word)
		}
	}
	if r := a.request("gdi-officer", "GET", "/api/v1/consular/nationals?format=csv", ""); r.status != http.StatusForbidden {
		t.Errorf("officer export of the consular list: %d", r.status)
	}
	if r := a.request("gdi-officer", "GET", "/api/v1/cases?format=xml", ""); r.status != http.StatusUnprocessableEntity {
		t.Errorf("format=xml: %d", r.status)
	}
}
