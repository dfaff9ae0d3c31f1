package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/config"
)

// problemFields returns the fields a 422 problem lists, in order.
func problemFields(t *testing.T, r response) []string {
	t.Helper()
	var p struct {
		Status int `json:"status"`
		Errors []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("not a problem: %v\n%s", err, r.body)
	}
	var out []string
	for _, e := range p.Errors {
		if e.Message == "" {
			t.Errorf("field %s has no message", e.Field)
		}
		out = append(out, e.Field)
	}
	return out
}

func wantFields(t *testing.T, what string, r response, want ...string) {
	t.Helper()
	if r.status != http.StatusUnprocessableEntity {
		t.Errorf("%s: status %d, want 422\n%s", what, r.status, r.body)
		return
	}
	if got := problemFields(t, r); !slices.Equal(sortedCopy(got), sortedCopy(want)) {
		t.Errorf("%s: fields\n got  %v\n want %v\n%s", what, got, want, r.body)
	}
}

// Every bad field of a request is listed in one problem, whatever made it
// bad: unknown, wrong type, out of range, or in conflict with another.
func TestValidationListsEveryBadField(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	w := a.w
	owned := w.Case("owned")
	in400Days := time.Now().Add(400 * 24 * time.Hour).UTC().Format(time.RFC3339)

	wantFields(t, "create case", a.request("gdi-officer", "POST", "/api/v1/cases",
		`{"title": "", "kind": "ufo", "summary": 5, "operation": {"date": "31/12/2025", "crew": 3}, "extra": true}`),
		"title", "kind", "summary", "operation.date", "operation.crew", "extra")
	wantFields(t, "create person", a.request("gdi-officer", "POST", "/api/v1/persons",
		`{"family_name": "", "nationality": "China", "sex": "x", "date_of_birth": "2999-01-01",
		  "custody_status": "deported", "consular_notification": "mandatory", "detained_at": "yesterday",
		  "facility": null, "foo": 1, "case_id": "nope"}`),
		"family_name", "nationality", "sex", "date_of_birth", "deported_at", "consular_notification",
		"detained_at", "facility", "foo", "case_id")
	wantFields(t, "create share", a.request("gdi-supervisor", "POST", "/api/v1/cases/"+owned.ID.String()+"/shares",
		`{"agency_id": "nope", "level": "all", "ceiling": "top", "purpose": "", "expires_at": "`+in400Days+`"}`),
		"agency_id", "level", "ceiling", "purpose", "expires_at")
	wantFields(t, "share without expiry", a.request("gdi-supervisor", "POST", "/api/v1/cases/"+owned.ID.String()+"/shares",
		`{"agency_id": "`+w.Agencies["ppm"].ID.String()+`", "level": "full", "ceiling": "secret", "purpose": "x"}`),
		"expires_at")
	wantFields(t, "referral without its data", a.request("gdi-supervisor", "POST", "/api/v1/cases/"+owned.ID.String()+"/status",
		`{"status": "before_court"}`), "court_agency_id", "hearing_date", "legal_basis")
	wantFields(t, "closing with a hearing", a.request("gdi-supervisor", "POST", "/api/v1/cases/"+owned.ID.String()+"/status",
		`{"status": "closed", "hearing_date": "2026-01-02", "note": 7}`), "hearing_date", "note")
	wantFields(t, "patch case", a.request("gdi-officer", "PATCH", "/api/v1/cases/"+owned.ID.String(),
		`{"title": null, "kind": "x", "operation": {"date": 5}, "status": "closed"}`,
		"If-Match", etag(owned.ID, a.version("cases", owned.ID))), "title", "kind", "operation.date", "status")
	wantFields(t, "patch nothing", a.request("gdi-officer", "PATCH", "/api/v1/cases/"+owned.ID.String(), `{}`,
		"If-Match", etag(owned.ID, a.version("cases", owned.ID))), "body")
	wantFields(t, "screening", a.request("ncct-officer", "POST", "/api/v1/persons/"+w.Person("cn-victim").ID.String()+"/screening",
		`{"trafficking_flag": "maybe", "victim_consents_to_embassy": "yes", "ct_proceedings_cleared": null}`),
		"trafficking_flag", "victim_consents_to_embassy", "ct_proceedings_cleared")
	wantFields(t, "case list query", a.request("gdi-officer", "GET",
		"/api/v1/cases?limit=500&status=weird&bogus=1&updated_since=yesterday&cursor=not-a-cursor", ""),
		"limit", "status", "bogus", "updated_since", "cursor")
	wantFields(t, "person list query", a.request("gdi-officer", "GET",
		"/api/v1/persons?nationality=China&custody_status=lost&trafficking_flag=maybe&limit=0", ""),
		"nationality", "custody_status", "trafficking_flag", "limit")
	wantFields(t, "consular list query", a.request("emb-cn-liaison", "GET",
		"/api/v1/consular/nationals?hearing_before=soon&custody_status=free&limit=x", ""),
		"hearing_before", "custody_status", "limit")
	wantFields(t, "create agency", a.request("gdi-admin", "POST", "/api/v1/agencies",
		`{"code": "Bad Code", "name": "", "kind": "embassy"}`), "code", "name", "country")
	wantFields(t, "not an object", a.request("gdi-officer", "POST", "/api/v1/cases", `[1, 2]`), "body")
	wantFields(t, "not JSON", a.request("gdi-officer", "POST", "/api/v1/cases", `{"title": `), "body")

	// Unknown fields are refused, by name.
	wantFields(t, "unknown field", a.request("gdi-officer", "POST", "/api/v1/cases",
		`{"title": "t", "kind": "smuggling", "owner_agency_id": "x"}`), "owner_agency_id")
	// Not JSON at all: 415.
	r := a.request("gdi-officer", "POST", "/api/v1/cases", "", "Content-Type", "text/plain")
	if r.status != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain body: %d, want 415", r.status)
	}
}

// Bodies over server.max_body_bytes are 413, whether the length is
// declared or the body is streamed.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	big := `{"title": "t", "kind": "smuggling", "summary": "` + strings.Repeat("x", 20<<10) + `"}`
	for _, path := range []string{"/api/v1/cases", "/api/v1/persons"} {
		if r := a.request("gdi-officer", "POST", path, big); r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s with a 20 KiB body: %d, want 413\n%s", path, r.status, r.body)
		}
	}
	// Streamed (chunked, no Content-Length): the limit holds while reading.
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte(big))
		_ = pw.Close()
	}()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", a.base+"/api/v1/cases", pr)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.tokens["gdi-officer"])
	resp, err := a.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || req.ContentLength > 0 {
		t.Errorf("chunked 20 KiB body: %d (content length %d), want 413", resp.StatusCode, req.ContentLength)
	}
	var n int64
	if err := a.owner.Raw(`SELECT count(*) FROM cases WHERE title = 't'`).Scan(&n).Error; err != nil || n != 0 {
		t.Errorf("a refused body created %d cases (%v)", n, err)
	}
}

// A person's facility names a registered facility (a managed list): any
// other name is a 422 naming the field, and nothing changes.
func TestFacilityMustBeRegistered(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	x := a.w.Person("cn-detained")
	path := "/api/v1/persons/" + x.ID.String()
	r := a.request("gdi-officer", "PATCH", path, `{"facility": "Prey Sar"}`, "If-Match", etag(x.ID, a.version("persons", x.ID)))
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), `"field":"facility"`) {
		t.Fatalf("unregistered facility: %d, want 422 naming facility\n%s", r.status, r.body)
	}
	var facility string
	if err := a.owner.Raw(`SELECT facility FROM persons WHERE id = ?`, x.ID).Scan(&facility).Error; err != nil || facility != x.Facility {
		t.Fatalf("after the refusal the facility is %q (%v), want %q", facility, err, x.Facility)
	}
	r = a.request("gdi-officer", "POST", "/api/v1/facilities", `{"name": "Prey Sar", "kind": "prison"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("register Prey Sar: %d\n%s", r.status, r.body)
	}
	r = a.request("gdi-officer", "PATCH", path, `{"facility": "Prey Sar"}`, "If-Match", etag(x.ID, a.version("persons", x.ID)))
	if r.status != http.StatusOK {
		t.Fatalf("registered facility: %d\n%s", r.status, r.body)
	}
	r = a.request("gdi-officer", "POST", "/api/v1/facilities", `{"name": "Prey Sar", "kind": "shelter"}`)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("register Prey Sar twice: %d, want 422\n%s", r.status, r.body)
	}
}

// Optimistic concurrency: If-Match with the ETag of the last read; none
// is 428, another version 412; "*" matches any current representation
// (RFC 9110 §13.1.1), so the write proceeds, and on an object that does not
// exist it is the usual 404.
func TestIfMatch(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	w := a.w
	for _, obj := range []struct {
		what, as, path, body string
	}{
		{"case", "gdi-officer", "/api/v1/cases/" + w.Case("owned").ID.String(), `{"summary": "changed"}`},
		{"person", "gdi-officer", "/api/v1/persons/" + w.Person("cn-detained").ID.String(), `{"facility": "Social affairs shelter, PP"}`},
		{"agency", "gdi-admin", "/api/v1/agencies/" + w.Agencies["ppm"].ID.String(), `{"name": "Sihanoukville Police"}`},
	} {
		var e1 string
		if obj.what == "agency" {
			e1 = etag(w.Agencies["ppm"].ID, a.version("agencies", w.Agencies["ppm"].ID))
		} else {
			r := a.request(obj.as, "GET", obj.path, "")
			e1 = r.header.Get("ETag")
			if r.status != 200 || e1 == "" {
				t.Fatalf("%s: GET %d, ETag %q", obj.what, r.status, e1)
			}
		}
		check := func(name string, want int, headers ...string) response {
			t.Helper()
			r := a.request(obj.as, "PATCH", obj.path, obj.body, headers...)
			if r.status != want {
				t.Errorf("%s, %s: %d, want %d\n%s", obj.what, name, r.status, want, r.body)
			}
			return r
		}
		check("no If-Match", http.StatusPreconditionRequired)
		check("weak ETag", http.StatusPreconditionFailed, "If-Match", "W/"+e1)
		check("ETag of another object", http.StatusPreconditionFailed, "If-Match", etag(w.Case("victim").ID, 1))
		r := check("current ETag", http.StatusOK, "If-Match", e1)
		e2 := r.header.Get("ETag")
		if e2 == "" || e2 == e1 {
			t.Errorf("%s: ETag after the change %q (before %q)", obj.what, e2, e1)
		}
		check("stale ETag", http.StatusPreconditionFailed, "If-Match", e1)
		e3 := check("one of several ETags", http.StatusOK, "If-Match", e1+", "+e2).header.Get("ETag")
		r = check("If-Match: *", http.StatusOK, "If-Match", "*")
		if e4 := r.header.Get("ETag"); e4 == "" || e4 == e3 {
			t.Errorf("%s: ETag after the If-Match: * write %q (before %q): no new version", obj.what, e4, e3)
		}
		check("If-Match: * after it", http.StatusOK, "If-Match", " * ")
		missing := obj.path[:strings.LastIndex(obj.path, "/")+1] + "9d1c9a52-4f57-4c11-9a8e-2d1f0f3f6b10"
		if r := a.request(obj.as, "PATCH", missing, obj.body, "If-Match", "*"); r.status != http.StatusNotFound {
			t.Errorf("%s: If-Match: * on an object that does not exist: %d, want 404\n%s", obj.what, r.status, r.body)
		}
	}
	// The status change takes If-Match too.
	c := w.Case("owned")
	r := a.request("gdi-supervisor", "POST", "/api/v1/cases/"+c.ID.String()+"/status", `{"status": "investigation"}`,
		"If-Match", etag(c.ID, 1))
	if r.status != http.StatusPreconditionFailed {
		t.Errorf("status change with a stale ETag: %d, want 412\n%s", r.status, r.body)
	}
	r = a.request("gdi-supervisor", "POST", "/api/v1/cases/"+c.ID.String()+"/status", `{"status": "investigation"}`,
		"If-Match", "*")
	if r.status != http.StatusOK {
		t.Errorf("status change with If-Match: *: %d, want 200\n%s", r.status, r.body)
	}
}

// Idempotency-Key: a retry gets the stored response and changes nothing.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	count := func(sql string, args ...any) int64 {
		var n int64
		if err := a.owner.Raw(sql, args...).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	body := `{"title": "Raid on the Tuol Kork compound", "kind": "illegal_work"}`
	r1 := a.request("gdi-officer", "POST", "/api/v1/cases", body, "Idempotency-Key", "raid-1")
	r2 := a.request("gdi-officer", "POST", "/api/v1/cases", body, "Idempotency-Key", "raid-1")
	if r1.status != 201 || r2.status != 201 {
		t.Fatalf("statuses %d, %d, want 201, 201\n%s\n%s", r1.status, r2.status, r1.body, r2.body)
	}
	if string(r1.body) != string(r2.body) || r1.header.Get("Location") != r2.header.Get("Location") ||
		r1.header.Get("ETag") != r2.header.Get("ETag") {
		t.Errorf("the replay differs:\n%s %s\n%s %s", r1.header.Get("Location"), r1.body, r2.header.Get("Location"), r2.body)
	}
	if r1.header.Get("Idempotent-Replayed") != "" || r2.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("Idempotent-Replayed: first %q, retry %q", r1.header.Get("Idempotent-Replayed"), r2.header.Get("Idempotent-Replayed"))
	}
	if n := count(`SELECT count(*) FROM cases WHERE title = 'Raid on the Tuol Kork compound'`); n != 1 {
		t.Errorf("%d cases created, want 1", n)
	}
	// The same key with another request is refused.
	r := a.request("gdi-officer", "POST", "/api/v1/cases", `{"title": "Another", "kind": "illegal_work"}`, "Idempotency-Key", "raid-1")
	if r.status != http.StatusUnprocessableEntity {
		t.Errorf("same key, other body: %d, want 422\n%s", r.status, r.body)
	}
	// Keys belong to their principal: another user's "raid-1" is new.
	r = a.request("gdi-supervisor", "POST", "/api/v1/cases", body, "Idempotency-Key", "raid-1")
	if r.status != 201 || string(r.body) == string(r1.body) {
		t.Errorf("another principal's key: %d\n%s", r.status, r.body)
	}
	// A refused request stores nothing: the key can be used again.
	r = a.request("gdi-officer", "POST", "/api/v1/cases", `{"title": ""}`, "Idempotency-Key", "raid-2")
	if r.status != http.StatusUnprocessableEntity {
		t.Errorf("invalid body: %d", r.status)
	}
	r = a.request("gdi-officer", "POST", "/api/v1/cases", `{"title": "Second raid", "kind": "illegal_work"}`, "Idempotency-Key", "raid-2")
	if r.status != 201 {
		t.Errorf("the key of a refused request could not be used: %d\n%s", r.status, r.body)
	}
	// A bad key.
	wantFields(t, "long key", a.request("gdi-officer", "POST", "/api/v1/cases", body, "Idempotency-Key", strings.Repeat("k", 201)),
		"Idempotency-Key")
	// Concurrent retries create one person.
	var wg sync.WaitGroup
	bodies := make([]string, 6)
	statuses := make([]int, 6)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := a.request("gdi-officer", "POST", "/api/v1/persons",
				`{"family_name": "Wang", "given_names": "Wei", "nationality": "CN"}`, "Idempotency-Key", "person-wang")
			statuses[i], bodies[i] = resp.status, string(resp.body)
		}()
	}
	wg.Wait()
	for i := range bodies {
		if statuses[i] != 201 || bodies[i] != bodies[0] {
			t.Errorf("concurrent retry %d: %d %s", i, statuses[i], bodies[i])
		}
	}
	if n := count(`SELECT count(*) FROM persons WHERE family_name = 'Wang'`); n != 1 {
		t.Errorf("%d persons created by concurrent retries, want 1", n)
	}
}

// The life of a case: references, status transitions, court referral and
// what the court then sees, the non-punishment principle, screening and
// the mandatory consular notification.
func TestCaseLifecycle(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, func(c *config.Config) { c.Consular.MandatoryCountries = []string{"VN"} })
	w := a.w
	court := w.Agencies["court-pp"].ID.String()
	mustStatus := func(r response, want int, what string) response {
		t.Helper()
		if r.status != want {
			t.Fatalf("%s: %d, want %d\n%s", what, r.status, want, r.body)
		}
		return r
	}

	// References: <AGENCY CODE>-<YEAR>-<NNNNNN>, consecutive per agency.
	ref := regexp.MustCompile(`^GDI-(\d{4})-(\d{6})$`)
	var refs []string
	for range 2 {
		r := mustStatus(a.request("gdi-officer", "POST", "/api/v1/cases", `{"title": "Inspection", "kind": "illegal_work",
			"operation": {"name": "Preah Sihanouk inspections", "place": "Sihanoukville", "date": "2025-09-12"}}`), 201, "create")
		obj := r.object(t)
		refs = append(refs, obj["reference"].(string))
		if obj["status"] != "open" || r.header.Get("Location") != "/api/v1/cases/"+obj["id"].(string) {
			t.Errorf("created case: %v, Location %q", obj, r.header.Get("Location"))
		}
	}
	m0, m1 := ref.FindStringSubmatch(refs[0]), ref.FindStringSubmatch(refs[1])
	if m0 == nil || m1 == nil || m0[1] != m1[1] || m1[2] <= m0[2] {
		t.Errorf("references %v", refs)
	}

	// Transitions.
	pre := w.Case("court-pre-referral")
	path := "/api/v1/cases/" + pre.ID.String()
	r := mustStatus(a.request("gdi-supervisor", "POST", "/api/v1/cases/"+w.Case("owned").ID.String()+"/status",
		`{"status": "adjudicated"}`), 409, "open → adjudicated")
	if !strings.Contains(string(r.body), "investigation, closed") {
		t.Errorf("the refusal does not name the allowed statuses: %s", r.body)
	}
	wantFields(t, "referral to a police agency", a.request("gdi-supervisor", "POST", path+"/status",
		`{"status": "before_court", "court_agency_id": "`+w.Agencies["ppm"].ID.String()+`", "hearing_date": "2026-06-01", "legal_basis": "Art. 29"}`),
		"court_agency_id")
	r = mustStatus(a.request("gdi-officer", "POST", path+"/status",
		`{"status": "before_court", "court_agency_id": "`+court+`", "hearing_date": "2026-06-01", "legal_basis": "Art. 29"}`),
		403, "an officer refers")
	if !strings.Contains(string(r.body), `"missing_permission":"case.change_status"`) {
		t.Errorf("403 does not name the permission: %s", r.body)
	}
	mustStatus(a.request("court-pp-clerk", "GET", path, ""), 404, "the court before referral")
	r = mustStatus(a.request("gdi-supervisor", "POST", path+"/status",
		`{"status": "before_court", "court_agency_id": "`+court+`", "hearing_date": "2026-06-01", "legal_basis": "Law on Immigration, art. 29", "note": "referred"}`),
		200, "referral")
	if obj := r.object(t); obj["status"] != "before_court" || obj["hearing_date"] != "2026-06-01" || obj["legal_basis"] != "Law on Immigration, art. 29" {
		t.Errorf("after referral: %v", obj)
	}
	r = mustStatus(a.request("court-pp-clerk", "GET", path, ""), 200, "the court after referral")
	// The status history shows the referral to whoever sees the case, and
	// the case's absence to whoever does not.
	hr := mustStatus(a.request("court-pp-clerk", "GET", path+"/history", ""), 200, "history for the court")
	var hist struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(hr.body, &hist); err != nil || len(hist.Items) == 0 {
		t.Fatalf("history: %v %s", err, hr.body)
	}
	if last := hist.Items[len(hist.Items)-1]; last["to_status"] != "before_court" || last["note"] != "referred" {
		t.Errorf("last history entry %v, want the referral", last)
	}
	mustStatus(a.request("emb-cn-liaison", "GET", path+"/history", ""), 404, "history for an embassy without a grant")
	if acc := r.object(t)["access"].(map[string]any); acc["level"] != "full" || acc["ceiling"] != "confidential" {
		t.Errorf("the court's access: %v", acc)
	}
	mustStatus(a.request("court-sr-clerk", "GET", path, ""), 404, "another court")
	mustStatus(a.request("gdi-supervisor", "POST", path+"/status", `{"status": "adjudicated"}`), 200, "adjudicated")
	mustStatus(a.request("court-pp-clerk", "GET", path, ""), 200, "the court after judgment")
	mustStatus(a.request("gdi-supervisor", "POST", path+"/status", `{"status": "closed"}`), 200, "closed")
	mustStatus(a.request("court-pp-clerk", "GET", path, ""), 404, "the court after closing")
	var history []string
	if err := a.owner.Raw(`SELECT coalesce(from_status, '') || '>' || to_status FROM case_status_history
			WHERE case_id = ? ORDER BY id`, pre.ID).Scan(&history).Error; err != nil {
		t.Fatal(err)
	}
	if want := []string{"open>investigation", "investigation>before_court", "before_court>adjudicated", "adjudicated>closed"}; !slices.Equal(history, want) {
		t.Errorf("status history %v, want %v", history, want)
	}

	// Non-punishment: no referral and no deportation of a possible victim
	// until counter-trafficking clears the proceedings.
	victim := w.Case("victim")
	vpath := "/api/v1/cases/" + victim.ID.String()
	referral := `{"status": "before_court", "court_agency_id": "` + court + `", "hearing_date": "2026-07-01", "legal_basis": "Art. 30"}`
	r = mustStatus(a.request("gdi-supervisor", "POST", vpath+"/status", referral), 409, "referral of a possible victim")
	if !strings.Contains(string(r.body), "trafficking victim") {
		t.Errorf("409 without the reason: %s", r.body)
	}
	cv := w.Person("cn-victim")
	r = mustStatus(a.request("gdi-officer", "PATCH", "/api/v1/persons/"+cv.ID.String(),
		`{"custody_status": "deported", "deported_at": "2026-01-05T06:00:00Z", "deported_via": "Phnom Penh airport"}`,
		"If-Match", etag(cv.ID, a.version("persons", cv.ID))), 409, "deporting a possible victim")
	if !strings.Contains(string(r.body), "counter-trafficking") {
		t.Errorf("409 without the reason: %s", r.body)
	}
	r = mustStatus(a.request("gdi-officer", "POST", "/api/v1/persons/"+cv.ID.String()+"/screening",
		`{"ct_proceedings_cleared": true}`), 403, "the police clear the proceedings")
	if !strings.Contains(string(r.body), `"missing_permission":"person.screen"`) {
		t.Errorf("403 does not name the permission: %s", r.body)
	}
	// Counter-trafficking's decision needs a reason, and becomes a row of
	// the screening history.
	for _, x := range victim.Persons {
		r := mustStatus(a.request("ncct-officer", "POST", "/api/v1/persons/"+x.ID.String()+"/screening",
			`{"ct_proceedings_cleared": true}`), 422, "clearing without a reason "+x.Name)
		if !strings.Contains(string(r.body), `"reason"`) {
			t.Errorf("422 does not name the reason: %s", r.body)
		}
		mustStatus(a.request("ncct-officer", "POST", "/api/v1/persons/"+x.ID.String()+"/screening",
			`{"ct_proceedings_cleared": true, "screening_notes": "Interviewed.", "reason": "Interviewed; no indicators of coercion; proceedings may continue."}`),
			200, "clearing "+x.Name)
		r = mustStatus(a.request("ncct-officer", "GET", "/api/v1/persons/"+x.ID.String()+"/screening/history", ""), 200, "history "+x.Name)
		_, hist := listIDs(t, r, "")
		if len(hist) != 1 || hist[0]["decision"] != "no_objection_to_proceedings" ||
			hist[0]["reason"] != "Interviewed; no indicators of coercion; proceedings may continue." ||
			hist[0]["agency"].(map[string]any)["code"] != "ncct" {
			t.Errorf("screening history of %s: %s", x.Name, r.body)
		}
		// The owner sees it (it sees the person in full); the person's own
		// state does not, nor does an agency without a grant.
		mustStatus(a.request("gdi-officer", "GET", "/api/v1/persons/"+x.ID.String()+"/screening/history", ""), 200, "owner reads the history")
		mustStatus(a.request("emb-cn-liaison", "GET", "/api/v1/persons/"+x.ID.String()+"/screening/history", ""), 404, "embassy reads the history")
		mustStatus(a.request("ppm-officer", "GET", "/api/v1/persons/"+x.ID.String()+"/screening/history", ""), 404, "other agency reads the history")
		var audited int64
		a.scan(&audited, `SELECT count(*) FROM audit_events WHERE action = 'person.screen' AND object_id = ?
			AND details->'decisions' ? 'no_objection_to_proceedings'`, x.ID.String())
		if audited != 1 {
			t.Errorf("%s: %d audited decisions, want 1", x.Name, audited)
		}
	}
	mustStatus(a.request("gdi-supervisor", "POST", vpath+"/status", referral), 200, "referral after clearing")

	// An owner officer may raise a suspicion and nothing more; the
	// suspicion opens the case to counter-trafficking (G3).
	owned := w.Case("owned")
	cn := w.Person("cn-detained")
	mustStatus(a.request("ncct-viewer", "GET", "/api/v1/cases/"+owned.ID.String(), ""), 404, "counter-trafficking before the flag")
	mustStatus(a.request("gdi-officer", "POST", "/api/v1/persons/"+cn.ID.String()+"/screening",
		`{"trafficking_flag": "identified"}`), 403, "an officer identifies a victim")
	mustStatus(a.request("gdi-officer", "POST", "/api/v1/persons/"+cn.ID.String()+"/screening",
		`{"trafficking_flag": "suspected"}`), 200, "an officer raises a suspicion")
	r = mustStatus(a.request("ncct-viewer", "GET", "/api/v1/cases/"+owned.ID.String(), ""), 200, "counter-trafficking after the flag")
	if acc := r.object(t)["access"].(map[string]any); acc["level"] != "full" || acc["ceiling"] != "restricted" {
		t.Errorf("counter-trafficking viewer's access: %v", acc)
	}
	// The Chinese embassy no longer sees the possible victim.
	mustStatus(a.request("emb-cn-liaison", "GET", "/api/v1/consular/nationals/"+cn.ID.String(), ""), 404, "embassy after the flag")

	// Mandatory notification (VN configured): set by the server, kept.
	r = mustStatus(a.request("gdi-officer", "POST", "/api/v1/persons",
		`{"family_name": "Nguyen", "given_names": "Van An", "nationality": "vn", "consular_notification": "declined",
		  "case_id": "`+owned.ID.String()+`", "role": "detainee", "custody_status": "detained"}`), 201, "a Vietnamese detainee")
	vn := r.object(t)
	if vn["consular_notification"] != "mandatory" || vn["nationality"] != "VN" {
		t.Errorf("Vietnamese person: %v", vn)
	}
	cases, _ := vn["cases"].([]any)
	if len(cases) != 1 {
		t.Errorf("the new person is not linked: %v", vn["cases"])
	}
	r = mustStatus(a.request("gdi-officer", "PATCH", "/api/v1/persons/"+vn["id"].(string), `{"consular_notification": "declined"}`,
		"If-Match", r.header.Get("ETag")), 200, "declining a mandatory notification")
	if r.object(t)["consular_notification"] != "mandatory" {
		t.Errorf("a mandatory notification was declined")
	}
	r = mustStatus(a.request("gdi-officer", "POST", "/api/v1/persons",
		`{"family_name": "Somchai", "nationality": "TH", "consular_notification": "declined"}`), 201, "a Thai person")
	if r.object(t)["consular_notification"] != "declined" {
		t.Errorf("Thai person: %s", r.body)
	}
	mustStatus(a.request("emb-vn-liaison", "GET", "/api/v1/consular/nationals/"+vn["id"].(string), ""), 200, "the embassy sees the mandatory national")
}

// Lists: keyset pages cover the list exactly once, in a stable order, and
// the filters select what they say.
func TestListsPaginateAndFilter(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	w := a.w
	all := func(as, path string, limit int) []string {
		t.Helper()
		var out []string
		cursor := ""
		for pages := 0; ; pages++ {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			p := path + sep + "limit=" + strconv.Itoa(limit)
			if cursor != "" {
				p += "&cursor=" + cursor
			}
			r := a.request(as, "GET", p, "")
			if r.status != 200 {
				t.Fatalf("GET %s: %d\n%s", p, r.status, r.body)
			}
			var page struct {
				Items      []map[string]any `json:"items"`
				NextCursor *string          `json:"next_cursor"`
			}
			if err := json.Unmarshal(r.body, &page); err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				out = append(out, it["id"].(string))
			}
			if page.NextCursor == nil || pages > 100 {
				return out
			}
			cursor = *page.NextCursor
		}
	}
	names := func(ids []string) []string {
		var out []string
		for _, id := range ids {
			name := id
			for _, c := range w.Cases {
				if c.ID.String() == id {
					name = c.Name
				}
			}
			for _, x := range w.Persons {
				if x.ID.String() == id {
					name = x.Name
				}
			}
			out = append(out, name)
		}
		return out
	}
	for _, l := range []struct{ as, path string }{
		{"moi-coordinator", "/api/v1/cases"},
		{"gdi-viewer", "/api/v1/cases"},
		{"moi-coordinator", "/api/v1/persons"},
		{"emb-cn-liaison", "/api/v1/consular/nationals"},
	} {
		one := all(l.as, l.path, 200)
		paged := all(l.as, l.path, 3)
		if !slices.Equal(one, paged) || len(one) < 4 {
			t.Errorf("%s %s: pages of 3 %v, one page %v", l.as, l.path, names(paged), names(one))
		}
	}
	for _, f := range []struct {
		as, path string
		want     []string
	}{
		{"moi-coordinator", "/api/v1/cases?status=before_court", []string{"court-before"}},
		{"moi-coordinator", "/api/v1/cases?status=adjudicated,closed", []string{"court-adjudicated", "court-closed"}},
		{"moi-coordinator", "/api/v1/cases?owner=PPM", []string{"ppm-owned"}},
		{"moi-coordinator", "/api/v1/cases?q=revoked", []string{"shared-revoked"}},
		{"moi-coordinator", "/api/v1/cases?q=gdi-2026-000001", []string{"owned"}},
		{"moi-coordinator", "/api/v1/cases?kind=smuggling", nil},
		{"moi-coordinator", "/api/v1/cases?updated_since=2999-01-01T00:00:00Z", nil},
		{"ppm-officer", "/api/v1/cases?owner=gdi", []string{"shared-full", "shared-summary"}},
		{"moi-coordinator", "/api/v1/persons?q=victim", []string{"cn-victim", "cn-victim-consents"}},
		{"moi-coordinator", "/api/v1/persons?q=FAMILY+vn-pp", []string{"vn-ppm"}},
		{"moi-coordinator", "/api/v1/persons?nationality=vn", []string{"vn-detained", "vn-ppm", "vn-shared-claimant"}},
		{"moi-coordinator", "/api/v1/persons?trafficking_flag=identified", []string{"cn-victim-consents", "cn-ncct"}},
		{"moi-coordinator", "/api/v1/persons?custody_status=charged,convicted", []string{"cn-charged", "cn-convicted"}},
		{"emb-cn-liaison", "/api/v1/consular/nationals?custody_status=deported", []string{"cn-deported"}},
		{"emb-cn-liaison", "/api/v1/consular/nationals?hearing_before=2100-01-01", []string{"cn-charged", "cn-convicted"}},
		{"emb-cn-liaison", "/api/v1/consular/nationals?hearing_before=2000-01-01", nil},
		{"emb-cn-liaison", "/api/v1/consular/nationals?facility=Elsewhere", nil},
		{"emb-vn-liaison", "/api/v1/consular/nationals", []string{"vn-detained", "vn-ppm", "vn-shared-claimant"}},
	} {
		got := names(all(f.as, f.path, 50))
		if !slices.Equal(sortedCopy(got), sortedCopy(f.want)) {
			t.Errorf("%s %s: %v, want %v", f.as, f.path, got, f.want)
		}
	}
	// The case list is ordered by last update, newest first.
	c := w.Case("court-closed")
	r := a.request("gdi-officer", "PATCH", "/api/v1/cases/"+c.ID.String(), `{"notes": "touched"}`, "If-Match", etag(c.ID, 1))
	if r.status != 200 {
		t.Fatalf("touch: %d %s", r.status, r.body)
	}
	if first := names(all("gdi-officer", "/api/v1/cases", 1))[0]; first != "court-closed" {
		t.Errorf("the most recently updated case comes first: %s", first)
	}
}

// Reads, changes and refusals on existing objects are audited; a 404 on
// an id that exists nowhere is not (there is nothing to audit).
func TestCaseAuditTrail(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	w := a.w
	owned, x := w.Case("owned"), w.Person("cn-detained")
	steps := []struct {
		as, method, path, body string
		status                 int
		action, outcome        string
	}{
		{"gdi-viewer", "GET", "/api/v1/cases/" + owned.ID.String(), "", 200, "case.read", "ok"},
		{"ppm-officer", "GET", "/api/v1/cases/" + owned.ID.String(), "", 404, "case.read", "not_found"},
		{"gdi-viewer", "POST", "/api/v1/cases/" + owned.ID.String() + "/status", `{"status": "closed"}`, 403, "case.status_change", "denied"},
		{"gdi-supervisor", "POST", "/api/v1/cases/" + owned.ID.String() + "/status", `{"status": "investigation"}`, 200, "case.status_change", "ok"},
		{"emb-cn-liaison", "GET", "/api/v1/consular/nationals/" + x.ID.String(), "", 200, "consular.read", "ok"},
		{"emb-vn-liaison", "GET", "/api/v1/persons/" + x.ID.String(), "", 404, "person.read", "not_found"},
		{"gdi-officer", "GET", "/api/v1/consular/nationals", "", 403, "consular.list", "denied"},
		{"gdi-officer", "GET", "/api/v1/cases", "", 200, "case.list", "ok"},
	}
	for _, s := range steps {
		r := a.request(s.as, s.method, s.path, s.body)
		if r.status != s.status {
			t.Fatalf("%s %s %s: %d, want %d\n%s", s.as, s.method, s.path, r.status, s.status, r.body)
		}
		var n int64
		err := a.owner.Raw(`SELECT count(*) FROM audit_events WHERE action = ? AND outcome = ? AND agency_code = ?`,
			s.action, s.outcome, w.Principal(s.as).Agency.Code).Scan(&n).Error
		if err != nil || n != 1 {
			t.Errorf("%s %s %s: %d audit events %s/%s (%v), want 1", s.as, s.method, s.path, n, s.action, s.outcome, err)
		}
	}
	// An id that exists nowhere leaves no refusal in the log.
	r := a.request("ppm-officer", "GET", "/api/v1/cases/00000000-0000-4000-8000-000000000000", "")
	var n int64
	if err := a.owner.Raw(`SELECT count(*) FROM audit_events WHERE object_id = '00000000-0000-4000-8000-000000000000'`).Scan(&n).Error; err != nil || r.status != 404 || n != 0 {
		t.Errorf("unknown id: %d, %d audit events (%v)", r.status, n, err)
	}
}
