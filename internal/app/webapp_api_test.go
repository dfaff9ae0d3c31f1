package app_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/casebridge/casebridge/internal/testenv"
)

// The web app's second wave (issue 14) needs a few query parameters and
// labels from the API: a search over a case's persons, filters on a case's
// documents, the audit trail named for people and filtered by what people
// know (a case reference, refusals only), and an agency's Khmer name.

// names returns the family names of a case-persons page.
func casePersonNames(t *testing.T, r response) []string {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d\n%s", r.status, r.body)
	}
	_, items := listIDs(t, r, "")
	var out []string
	for _, it := range items {
		p, _ := it["person"].(map[string]any)
		out = append(out, fmt.Sprint(p["family_name"]))
	}
	slices.Sort(out)
	return out
}

func TestCasePersonsSearch(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	owned := a.w.Case("owned")
	path := "/api/v1/cases/" + owned.ID.String() + "/persons"

	all := casePersonNames(t, a.request("gdi-officer", "GET", path, ""))
	if len(all) < 3 {
		t.Fatalf("the owned case links %v; the test needs at least 3", all)
	}
	for _, tc := range []struct {
		as, q string
		want  []string
	}{
		{"gdi-officer", "detained", []string{"Family cn-detained", "Family vn-detained"}},
		{"gdi-officer", "FAMILY vn-det", []string{"Family vn-detained"}},
		{"gdi-officer", "nobody-by-this-name", nil},
		// A words-only search: tsquery syntax from the caller is ignored.
		{"gdi-officer", "vn & !detained", []string{"Family vn-detained"}},
		{"moi-coordinator", "claimant", []string{"Family cn-claimant"}},
	} {
		got := casePersonNames(t, a.request(tc.as, "GET", path+"?q="+url.QueryEscape(tc.q), ""))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s q=%q: %v, want %v", tc.as, tc.q, got, tc.want)
		}
	}
	// Pages of a search hold the same persons as one page.
	var paged []string
	cursor := ""
	for range 10 {
		p := path + "?q=family&limit=1"
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		r := a.request("gdi-officer", "GET", p, "")
		paged = append(paged, casePersonNames(t, r)...)
		next, _ := r.object(t)["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	slices.Sort(paged)
	if !slices.Equal(paged, all) {
		t.Errorf("paged search %v, want %v", paged, all)
	}
	// The summary projection: a search shows no more than the list does.
	summary := a.w.Case("shared-summary")
	sp := "/api/v1/cases/" + summary.ID.String() + "/persons"
	if got := casePersonNames(t, a.request("ppm-officer", "GET", sp+"?q=th-summary", "")); !slices.Equal(got, []string{"Family th-summary"}) {
		t.Errorf("summary share, q=th-summary: %v", got)
	}
	// Another agency sees nothing: the case does not exist for it.
	if r := a.request("ppm-officer", "GET", path+"?q=detained", ""); r.status != 404 {
		t.Errorf("other agency: %d, want 404\n%s", r.status, r.body)
	}
	if r := a.request("gdi-officer", "GET", path+"?q="+strings.Repeat("x", 201), ""); r.status != 422 {
		t.Errorf("q of 201 characters: %d, want 422", r.status)
	}
	if r := a.request("gdi-officer", "GET", path+"?sort=name", ""); r.status != 422 {
		t.Errorf("unknown parameter: %d, want 422", r.status)
	}
}

func TestCaseDocumentsFilter(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	owned, x := a.w.Case("owned"), a.w.Person("cn-detained")
	docs := []struct {
		title, kind string
		about       *uuid.UUID
	}{
		{"Passport of Wang", "passport", &x.ID},
		{"Raid report 100%", "police_report", nil},
		{"Raid photos", "photo", nil},
	}
	for i, d := range docs {
		id := uuid.New()
		sha := fmt.Sprintf("%064x", i+1)
		err := a.owner.Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec(`INSERT INTO blobs (sha256, size) VALUES (?, 10)`, sha).Error; err != nil {
				return err
			}
			if err := tx.Exec(`INSERT INTO documents (id, case_id, person_id, title, kind, classification,
					consular_releasable, current_version)
				VALUES (?, ?, ?, ?, ?, 'restricted', false, 1)`, id, owned.ID, d.about, d.title, d.kind).Error; err != nil {
				return err
			}
			return tx.Exec(`INSERT INTO document_versions (document_id, version, sha256, size, media_type, filename)
				VALUES (?, 1, ?, 10, 'application/pdf', 'f.pdf')`, id, sha).Error
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	path := "/api/v1/cases/" + owned.ID.String() + "/documents"
	titles := func(as, query string) []string {
		t.Helper()
		r := a.request(as, "GET", path+query, "")
		if r.status != 200 {
			t.Fatalf("%s %s: %d\n%s", as, query, r.status, r.body)
		}
		_, items := listIDs(t, r, "")
		var out []string
		for _, it := range items {
			out = append(out, fmt.Sprint(it["title"]))
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"Passport of Wang", "Raid photos", "Raid report 100%"}},
		{"?kind=photo", []string{"Raid photos"}},
		{"?person=" + x.ID.String(), []string{"Passport of Wang"}},
		{"?q=raid", []string{"Raid photos", "Raid report 100%"}},
		{"?q=" + url.QueryEscape("100%"), []string{"Raid report 100%"}},
		{"?q=" + url.QueryEscape("%"), []string{"Raid report 100%"}}, // a literal %, not a wildcard
		{"?q=raid&kind=passport", nil},
	} {
		if got := titles("gdi-officer", tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("documents%s: %v, want %v", tc.query, got, tc.want)
		}
	}
	if r := a.request("gdi-officer", "GET", path+"?kind=novel", ""); r.status != 422 {
		t.Errorf("unknown kind: %d, want 422", r.status)
	}
	if r := a.request("gdi-officer", "GET", path+"?person=nope", ""); r.status != 422 {
		t.Errorf("bad person id: %d, want 422", r.status)
	}
	if r := a.request("ppm-officer", "GET", path+"?kind=photo", ""); r.status != 404 {
		t.Errorf("other agency: %d, want 404", r.status)
	}
}

func TestAuditForPeople(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	owned := a.w.Case("owned")
	var ref string
	a.scan(&ref, `SELECT reference FROM cases WHERE id = ?`, owned.ID)
	// Something to find: a read, a refusal on the case, and another case's read.
	if r := a.request("gdi-viewer", "GET", "/api/v1/cases/"+owned.ID.String(), ""); r.status != 200 {
		t.Fatal(r.status)
	}
	if r := a.request("ppm-officer", "GET", "/api/v1/cases/"+owned.ID.String(), ""); r.status != 404 {
		t.Fatal(r.status)
	}
	if r := a.request("gdi-viewer", "GET", "/api/v1/cases/"+a.w.Case("shared-full").ID.String(), ""); r.status != 200 {
		t.Fatal(r.status)
	}
	a.exec(`UPDATE agencies SET name_km = 'អគ្គនាយកដ្ឋានអន្តោប្រវេសន៍' WHERE code = 'gdi'`)

	events := func(as, query string) []map[string]any {
		t.Helper()
		r := a.request(as, "GET", "/api/v1/audit/events"+query, "")
		if r.status != 200 {
			t.Fatalf("%s audit%s: %d\n%s", as, query, r.status, r.body)
		}
		_, items := listIDs(t, r, "")
		return items
	}
	byRef := events("gdi-admin", "?limit=200&case_reference="+url.QueryEscape(ref))
	if len(byRef) < 2 {
		t.Fatalf("events of %s: %d, want at least the read and the refusal", ref, len(byRef))
	}
	sawRead := false
	for _, e := range byRef {
		if e["case_id"] != owned.ID.String() || e["case_reference"] != ref {
			t.Errorf("case_reference filter returned %v / %v, want %s / %s", e["case_id"], e["case_reference"], owned.ID, ref)
		}
		if e["action"] == "case.read" && e["outcome"] == "ok" {
			sawRead = true
			if e["object_label"] != ref {
				t.Errorf("a case's object_label is its reference: %q", e["object_label"])
			}
			if e["agency_name"] != a.w.Agencies["gdi"].Name || e["agency_name_km"] != "អគ្គនាយកដ្ឋានអន្តោប្រវេសន៍" {
				t.Errorf("agency labels: %q / %q", e["agency_name"], e["agency_name_km"])
			}
		}
	}
	if !sawRead {
		t.Error("the gdi-viewer's read is not in the case's trail")
	}
	// Refusals only: every event is denied or not_found, the ppm refusal among them.
	refused := events("gdi-admin", "?limit=200&refused=true")
	sawRefusal := false
	for _, e := range refused {
		if o := e["outcome"]; o != "denied" && o != "not_found" {
			t.Errorf("refused=true returned outcome %v", o)
		}
		sawRefusal = sawRefusal || (e["agency_code"] == "ppm" && e["case_id"] == owned.ID.String())
	}
	if !sawRefusal {
		t.Error("refused=true misses the other agency's 404 on the case")
	}
	// Persons and documents get no label (their names and titles are case content).
	for _, e := range events("gdi-admin", "?limit=200&object_type=person") {
		if e["object_label"] != "" {
			t.Errorf("a person event carries a label: %q", e["object_label"])
		}
	}
	if got := events("gdi-admin", "?case_reference=NOPE-0000-000000"); len(got) != 0 {
		t.Errorf("an unknown reference matched %d events", len(got))
	}
	// The CSV export: a header and the same events.
	r := a.request("gdi-admin", "GET", "/api/v1/audit/events?format=csv&case_reference="+url.QueryEscape(ref), "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", r.status, r.header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "case_reference")
	if col < 0 || len(rows) < len(byRef)+1 {
		t.Fatalf("csv: header %v, %d rows, want at least %d", rows[0], len(rows), len(byRef)+1)
	}
	for _, row := range rows[1:] {
		if row[col] != ref {
			t.Errorf("csv row for another case: %v", row)
		}
	}
	// Other agencies, and non-admins, see nothing: 403, and the label
	// functions give them nothing either.
	for _, as := range []string{"gdi-supervisor", "ppm-officer", "moi-coordinator"} {
		for _, q := range []string{"?case_reference=" + ref, "?refused=true", "?format=csv"} {
			if r := a.request(as, "GET", "/api/v1/audit/events"+q, ""); r.status != 403 {
				t.Errorf("%s audit%s: %d, want 403", as, q, r.status)
			}
		}
	}
	if r := a.request("gdi-admin", "GET", "/api/v1/audit/events?refused=maybe", ""); r.status != 422 {
		t.Errorf("refused=maybe: %d, want 422", r.status)
	}
	if r := a.request("gdi-admin", "GET", "/api/v1/audit/events?case_reference=x&case="+owned.ID.String(), ""); r.status != 422 {
		t.Errorf("case and case_reference: %d, want 422", r.status)
	}
}

// The reference lookups past RLS answer only admins (checked in SQL, as the
// application role with each principal's settings).
func TestAuditLabelFunctionsAdminOnly(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	owned := a.w.Case("owned")
	db := testenv.Open(t, a.appURL) // as the application role
	for _, tc := range []struct {
		roles string
		want  bool
	}{{"admin", true}, {"supervisor", false}, {"coordinator", false}, {"", false}} {
		var got struct {
			Ref *string
			ID  *string
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec(`SELECT set_config('casebridge.roles', ?, true), set_config('casebridge.agency_id', ?, true),
				set_config('casebridge.agency_kind', 'immigration_police', true)`, tc.roles, a.w.Agencies["ppm"].ID.String()).Error; err != nil {
				return err
			}
			return tx.Raw(`SELECT cb_audit_case_reference(?) AS ref,
				cb_audit_case_id(cb_audit_case_reference(?))::text AS id`, owned.ID, owned.ID).Scan(&got).Error
		})
		if err != nil {
			t.Fatal(err)
		}
		if (got.Ref != nil) != tc.want || (got.ID != nil) != tc.want {
			t.Errorf("roles %s: reference %v, id %v; want answers %v", tc.roles, got.Ref, got.ID, tc.want)
		}
		if tc.want && *got.ID != owned.ID.String() {
			t.Errorf("reference round trip: %s, want %s", *got.ID, owned.ID)
		}
	}
}

func TestAgencyKhmerName(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	r := a.request("gdi-admin", "POST", "/api/v1/agencies",
		`{"code": "kandal-police", "name": "Kandal Provincial Police", "name_km": " ស្នងការដ្ឋាននគរបាលខេត្តកណ្ដាល ", "kind": "immigration_police"}`)
	if r.status != 201 {
		t.Fatalf("create: %d\n%s", r.status, r.body)
	}
	ag := r.object(t)
	if ag["name_km"] != "ស្នងការដ្ឋាននគរបាលខេត្តកណ្ដាល" {
		t.Errorf("created name_km %q (trimmed expected)", ag["name_km"])
	}
	id := fmt.Sprint(ag["id"])
	r = a.request("gdi-admin", "PATCH", "/api/v1/agencies/"+id, `{"name_km": "នគរបាលកណ្ដាល"}`, "If-Match", r.header.Get("ETag"))
	if r.status != 200 || r.object(t)["name_km"] != "នគរបាលកណ្ដាល" {
		t.Fatalf("patch: %d\n%s", r.status, r.body)
	}
	// Every signed-in principal reads it in the directory (to show it in Khmer).
	r = a.request("emb-cn-liaison", "GET", "/api/v1/agencies?kind=immigration_police", "")
	var list struct {
		Items []struct {
			Code   string `json:"code"`
			NameKm string `json:"name_km"`
		} `json:"items"`
	}
	if err := json.Unmarshal(r.body, &list); err != nil || r.status != 200 {
		t.Fatalf("list: %d %v", r.status, err)
	}
	found := false
	for _, it := range list.Items {
		found = found || (it.Code == "kandal-police" && it.NameKm == "នគរបាលកណ្ដាល")
	}
	if !found {
		t.Errorf("the directory does not carry the Khmer name: %s", r.body)
	}
	// Only admins change it; too long is refused naming the field.
	r = a.request("gdi-supervisor", "PATCH", "/api/v1/agencies/"+id, `{"name_km": "x"}`, "If-Match", etag(uuid.MustParse(id), 2))
	if r.status != 403 {
		t.Errorf("supervisor patch: %d, want 403", r.status)
	}
	r = a.request("gdi-admin", "PATCH", "/api/v1/agencies/"+id, `{"name_km": "`+strings.Repeat("ក", 201)+`"}`, "If-Match", etag(uuid.MustParse(id), 2))
	if r.status != 422 || !strings.Contains(string(r.body), "name_km") {
		t.Errorf("201 characters: %d\n%s", r.status, r.body)
	}
	r = a.request("gdi-admin", "PATCH", "/api/v1/agencies/"+id, `{"name_km": null}`, "If-Match", etag(uuid.MustParse(id), 2))
	if r.status != 422 {
		t.Errorf("null name_km: %d, want 422", r.status)
	}
}

func TestNationalsSearchAndTotal(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	list := func(as, query string) (names []string, total float64) {
		t.Helper()
		r := a.request(as, "GET", "/api/v1/consular/nationals?limit=200"+query, "")
		if r.status != 200 {
			t.Fatalf("%s nationals%s: %d\n%s", as, query, r.status, r.body)
		}
		_, items := listIDs(t, r, "")
		for _, it := range items {
			names = append(names, fmt.Sprint(it["family_name"]))
		}
		slices.Sort(names)
		total, _ = r.object(t)["total"].(float64)
		return names, total
	}
	all, total := list("emb-cn-liaison", "")
	if len(all) < 3 || int(total) != len(all) {
		t.Fatalf("all nationals: %d listed, total %v", len(all), total)
	}
	// The total counts every match, not the page.
	r := a.request("emb-cn-liaison", "GET", "/api/v1/consular/nationals?limit=1", "")
	if got, _ := r.object(t)["total"].(float64); int(got) != len(all) {
		t.Errorf("total on a page of 1: %v, want %d", got, len(all))
	}
	if got, n := list("emb-cn-liaison", "&q=deported"); !slices.Equal(got, []string{"Family cn-deported"}) || n != 1 {
		t.Errorf("q=deported: %v (total %v)", got, n)
	}
	if got, n := list("emb-cn-liaison", "&q=nobody-by-this-name"); len(got) != 0 || n != 0 {
		t.Errorf("q=nobody: %v (total %v)", got, n)
	}
	// Another embassy sees nothing of China's nationals, searched or not.
	if got, _ := list("emb-vn-liaison", "&q=cn"); len(got) != 0 {
		t.Errorf("emb-vn q=cn: %v", got)
	}
	if r := a.request("gdi-officer", "GET", "/api/v1/consular/nationals?q=cn", ""); r.status != 403 {
		t.Errorf("gdi-officer: %d, want 403", r.status)
	}
	// Part of a facility's name, case ignored; LIKE's wildcards are literal.
	var facility string
	a.scan(&facility, `SELECT facility FROM persons WHERE nationality = 'CN' AND facility IS NOT NULL
		AND facility NOT IN (SELECT name FROM facilities WHERE kind = 'shelter') LIMIT 1`)
	if facility != "" {
		part := strings.ToUpper(facility[1 : len(facility)-1])
		got, _ := list("emb-cn-liaison", "&facility="+url.QueryEscape(part))
		if len(got) == 0 || len(got) > len(all) {
			t.Errorf("facility part %q: %v", part, got)
		}
	}
	// A shelter is never named to the person's own state, so its real name finds nobody.
	if got, _ := list("emb-cn-liaison", "&facility=social+affairs"); len(got) != 0 {
		t.Errorf("the shelter's real name finds %v", got)
	}
	if got, _ := list("emb-cn-liaison", "&facility=care+of+the"); !slices.Contains(got, "Family cn-victim-consents") {
		t.Errorf("facility=care of the: %v, want the consenting victim in the shelter", got)
	}
	if got, _ := list("emb-cn-liaison", "&facility=%25"); len(got) != 0 {
		t.Errorf("facility=%%: %v, want none (a literal %%)", got)
	}
}
