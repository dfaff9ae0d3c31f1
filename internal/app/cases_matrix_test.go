package app_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/authztest"
)

// The projections, key by key (spec/ACCESS.md). A response for a readable
// object must have exactly these keys: nothing outside the projection.
var (
	caseSummaryKeys = []string{"access", "court_agency", "hearing_date", "id", "kind", "owner_agency",
		"reference", "status", "title", "updated_at"}
	caseFullKeys = append(slices.Clone(caseSummaryKeys), "created_at", "legal_basis", "notes", "operation",
		"persons_count", "possible_victim", "summary", "version")
	personFullKeys = []string{"address", "asylum_claimed", "cases", "consular_notification", "created_at",
		"created_by_agency", "ct_proceedings_cleared", "custody_status", "date_of_birth", "deported_at",
		"deported_via", "detained_at", "entry_ban_until", "facility", "family_name", "family_name_native",
		"given_names", "given_names_native", "id", "nationality", "passport_expires_on", "passport_number",
		"passport_status", "screening_notes", "sex", "trafficking_flag", "updated_at", "version",
		"victim_consents_to_embassy", "work_permit_number", "work_permit_status"}
	// The consular projection: id, family name, given names, sex, date of
	// birth, nationality, passport number, custody status, facility,
	// detained_at, charges, deported_at, deported_via, entry_ban_until,
	// and the open consular notification.
	consularKeys = []string{"charges", "custody_status", "date_of_birth", "deported_at", "deported_via",
		"detained_at", "entry_ban_until", "facility", "family_name", "given_names", "id", "nationality",
		"notification", "passport_number", "sex"}
	chargeKeys = []string{"case_kind", "court_name", "hearing_date", "legal_basis", "status"}
	// The summary projection: id, names, sex, nationality, custody status
	// and the person's role in each case (cases).
	personSummaryKeys = []string{"cases", "custody_status", "family_name", "given_names", "id", "nationality", "sex"}
	// Words that must never appear in a consular document: the world puts
	// them in screening notes, addresses, summaries and notes.
	consularForbidden = []string{"screening of", "address of", "Summary of", "Notes of", "asylum",
		"trafficking_flag", "screening_notes", "reference", "Operation "}
)

// matrix runs and counts cells.
type matrix struct {
	t     *testing.T
	a     *caseAPI
	cells int
}

// expect sends one request and checks its status; it returns the response
// for further checks of its content.
func (m *matrix) expect(name, as, method, path, body string, want int, headers ...string) response {
	m.t.Helper()
	m.cells++
	r := m.a.request(as, method, path, body, headers...)
	who := as
	if who == "" {
		who = "(nobody)"
	}
	if r.status != want {
		m.t.Errorf("%s | %s | %s %s: status %d, want %d\n%s", who, name, method, path, r.status, want, r.body)
	}
	if schema := responseSchema(method, path, r.status); schema != "" {
		if err := m.a.conforms(schema, r.body); err != nil {
			m.t.Errorf("%s | %s | %s %s: the response does not conform to %s: %v\n%s", who, name, method, path, schema, err, r.body)
		}
	}
	return r
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// responseSchema names the api/openapi.yaml schema of a response.
func responseSchema(method, path string, status int) string {
	if status >= 400 {
		return "Problem"
	}
	if status == http.StatusNoContent {
		return ""
	}
	route, _, _ := strings.Cut(path, "?")
	route = uuidRE.ReplaceAllString(route, "{}")
	return map[string]string{
		"GET /api/v1/cases":                          "CaseList",
		"POST /api/v1/cases":                         "CaseFull",
		"GET /api/v1/cases/{}":                       "Case",
		"PATCH /api/v1/cases/{}":                     "CaseFull",
		"POST /api/v1/cases/{}/status":               "CaseFull",
		"GET /api/v1/cases/{}/shares":                "ShareList",
		"POST /api/v1/cases/{}/shares":               "Share",
		"GET /api/v1/cases/{}/persons":               "LinkedPersonList",
		"POST /api/v1/cases/{}/persons":              "LinkedPerson",
		"GET /api/v1/persons":                        "PersonList",
		"POST /api/v1/persons":                       "Person",
		"GET /api/v1/persons/{}":                     "PersonView",
		"PATCH /api/v1/persons/{}":                   "Person",
		"POST /api/v1/persons/{}/screening":          "Person",
		"GET /api/v1/persons/{}/screening/history":   "ScreeningHistory",
		"GET /api/v1/agencies/{}/webhook":            "Webhook",
		"GET /api/v1/agencies/{}/webhook/deliveries": "WebhookDeliveryList",
		"PUT /api/v1/agencies/{}/webhook":            "Webhook",
		"GET /api/v1/consular/nationals":             "NationalList",
		"GET /api/v1/consular/nationals/{}":          "National",
		"GET /api/v1/agencies":                       "AgencyList",
		"POST /api/v1/agencies":                      "Agency",
		"PATCH /api/v1/agencies/{}":                  "Agency",
		"GET /api/v1/users":                          "UserList",
		"GET /api/v1/facilities":                     "FacilityList",
		"GET /api/v1/notifications":                  "NotificationList",
		"POST /api/v1/notifications/{}/ack":          "Notification",
		"GET /api/v1/persons/{}/visits":              "VisitList",
		"POST /api/v1/persons/{}/visits":             "Visit",
		"GET /api/v1/visits":                         "VisitList",
		"POST /api/v1/facilities":                    "Facility",
	}[method+" "+route]
}

func (m *matrix) keys(name, as string, got map[string]any, want []string) {
	m.t.Helper()
	if g, w := keysOf(got), sortedCopy(want); !slices.Equal(g, w) {
		m.t.Errorf("%s | %s: keys\n got  %v\n want %v", as, name, g, w)
	}
}

// consular checks a consular document: exactly its keys, its charges'
// keys, and none of the words of the full record.
func (m *matrix) consular(name, as string, r response) {
	m.t.Helper()
	obj := r.object(m.t)
	m.keys(name, as, obj, consularKeys)
	charges, _ := obj["charges"].([]any)
	for _, ch := range charges {
		m.keys(name+" charge", as, ch.(map[string]any), chargeKeys)
	}
	for _, word := range consularForbidden {
		if strings.Contains(string(r.body), word) {
			m.t.Errorf("%s | %s: the consular document contains %q:\n%s", as, name, word, r.body)
		}
	}
}

// nationalFacts checks what the consular projection says of x: the
// facility as the own state may see it (never a shelter's name) and the
// charges of the cases that link x as detainee or suspect only.
func (m *matrix) nationalFacts(as string, x *authztest.Person, r response) {
	m.t.Helper()
	obj := r.object(m.t)
	if got, want := obj["facility"], m.a.w.ConsularFacility(x); got != want {
		m.t.Errorf("%s | national %s: facility %q, want %q", as, x.Name, got, want)
	}
	charges, _ := obj["charges"].([]any)
	if want := len(m.a.w.Charges(m.a.w.Principal(as), x)); len(charges) != want {
		m.t.Errorf("%s | national %s: %d charges, want %d:\n%s", as, x.Name, len(charges), want, r.body)
	}
	if strings.Contains(string(r.body), "shelter") {
		m.t.Errorf("%s | national %s: the consular document names a shelter:\n%s", as, x.Name, r.body)
	}
}

func worldPersonByID(w *authztest.World, id string) *authztest.Person {
	for _, x := range w.Persons {
		if x.ID.String() == id {
			return x
		}
	}
	panic("no person " + id)
}

// status picks the expected status: ok when allowed, 403 when the object
// is visible but the action is not allowed, 404 when it is not visible.
func status(visible, allowed bool, ok int) int {
	switch {
	case allowed:
		return ok
	case visible:
		return http.StatusForbidden
	}
	return http.StatusNotFound
}

// TestAuthorizationMatrix checks every (principal, endpoint, object) cell of
// the case, person, consular and directory API against spec/ACCESS.md
// (authztest's model): the status, and for readable objects the exact set
// of keys of the projection. Lists are compared with the model as sets,
// every id a list returns is fetched, and nobody signed in gets 401.
func TestAuthorizationMatrix(t *testing.T) {
	a := newCaseAPI(t, nil)
	w := a.w
	m := &matrix{t: t, a: a}
	// The schema check can fail: a summary with a full key does not conform.
	if err := a.conforms("Case", []byte(`{"id": "x", "notes": "n"}`)); err == nil {
		t.Fatal("a malformed case conforms to the Case schema")
	}
	future := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)

	for _, p := range w.Principals {
		as := p.Name
		for _, c := range w.Cases {
			g := w.CaseAccess(p, c)
			visible := g.Level != ""
			path := "/api/v1/cases/" + c.ID.String()

			// Read, in the projection of the grant.
			r := m.expect("read case "+c.Name, as, "GET", path, "", status(visible, visible, 200))
			if r.status == 200 {
				obj := r.object(t)
				if g.Level == "full" {
					m.keys("case "+c.Name, as, obj, caseFullKeys)
				} else {
					m.keys("case "+c.Name, as, obj, caseSummaryKeys)
				}
				// A count shown counts only what the principal may see.
				if g.Level == "full" {
					if n, _ := obj["persons_count"].(float64); int(n) != len(w.CasePersons(p, c)) {
						t.Errorf("%s | case %s: persons_count %v, want %d", as, c.Name, obj["persons_count"], len(w.CasePersons(p, c)))
					}
				}
				acc, _ := obj["access"].(map[string]any)
				wantCeiling := any(nil)
				if g.Ceiling >= 0 {
					wantCeiling = authztest.RankName(g.Ceiling)
				}
				if acc["level"] != g.Level || acc["ceiling"] != wantCeiling {
					t.Errorf("%s | case %s: access %v, want level %s ceiling %v", as, c.Name, acc, g.Level, wantCeiling)
				}
			}

			// Edit.
			m.expect("edit case "+c.Name, as, "PATCH", path, `{"title": "Case `+c.Name+`"}`,
				status(visible, w.CanEdit(p, c), 200), "If-Match", etag(c.ID, a.version("cases", c.ID)))

			// Status change: "open" is never a next status, so an allowed
			// caller gets 409 and nothing changes.
			m.expect("change status of "+c.Name, as, "POST", path+"/status", `{"status": "open"}`,
				status(visible, w.CanChangeStatus(p, c), http.StatusConflict))

			// Shares: list, create, revoke.
			r = m.expect("list shares of "+c.Name, as, "GET", path+"/shares", "", status(visible, visible, 200))
			if r.status == 200 {
				ids, _ := listIDs(t, r, "")
				var want []string
				for _, s := range c.Shares {
					if w.ShareVisible(p, s) {
						want = append(want, s.ID.String())
					}
				}
				if !slices.Equal(sortedCopy(ids), sortedCopy(want)) {
					t.Errorf("%s | shares of %s: %v, want %v", as, c.Name, ids, want)
				}
			}
			r = m.expect("share "+c.Name, as, "POST", path+"/shares",
				`{"agency_id": "`+w.Agencies["court-sr"].ID.String()+`", "level": "summary", "ceiling": "public",
				  "purpose": "matrix", "expires_at": "`+future+`"}`,
				status(visible, w.CanShare(p, c), http.StatusCreated))
			if r.status == http.StatusCreated {
				a.exec(`DELETE FROM shares WHERE id = ?`, r.object(t)["id"])
			}
			if len(c.Shares) > 0 {
				s := c.Shares[0]
				r = m.expect("revoke a share of "+c.Name, as, "DELETE", path+"/shares/"+s.ID.String(), "",
					status(visible, w.CanShare(p, c), http.StatusNoContent))
				if r.status == http.StatusNoContent && !s.Revoked {
					a.exec(`UPDATE shares SET revoked_at = NULL, revoked_by = NULL WHERE id = ?`, s.ID)
				}
			}

			// Persons of the case: list, link, unlink.
			r = m.expect("list persons of "+c.Name, as, "GET", path+"/persons", "", status(visible, visible, 200))
			if r.status == 200 {
				ids, items := listIDs(t, r, "person")
				var want []string
				// The case's list holds every linked person P may see, in
				// full or in the summary projection; an embassy's own
				// nationals are only in its consular list.
				for _, x := range w.CasePersons(p, c) {
					want = append(want, x.ID.String())
				}
				if !slices.Equal(sortedCopy(ids), sortedCopy(want)) {
					t.Errorf("%s | persons of %s: %v, want %v", as, c.Name, ids, want)
				}
				for i, it := range items {
					x := worldPersonByID(w, ids[i])
					keys := personFullKeys
					if !w.PersonFull(p, x) {
						keys = personSummaryKeys
					}
					m.keys("linked person "+x.Name+" of "+c.Name, as, it["person"].(map[string]any), keys)
					if it["role"] != x.Role(c) {
						t.Errorf("%s | persons of %s: %s has role %v, want %s", as, c.Name, x.Name, it["role"], x.Role(c))
					}
				}
			}
			scratch := w.Person("scratch-" + c.Owner.Code)
			r = m.expect("link a person to "+c.Name, as, "POST", path+"/persons",
				`{"person_id": "`+scratch.ID.String()+`", "role": "witness"}`,
				status(visible, w.CanEdit(p, c), http.StatusCreated))
			if r.status == http.StatusCreated {
				a.exec(`DELETE FROM case_persons WHERE case_id = ? AND person_id = ?`, c.ID, scratch.ID)
			}
			if len(c.Persons) > 0 {
				x := c.Persons[0]
				r = m.expect("unlink a person from "+c.Name, as, "DELETE", path+"/persons/"+x.ID.String(), "",
					status(visible, w.CanEdit(p, c), http.StatusNoContent))
				if r.status == http.StatusNoContent {
					a.exec(`INSERT INTO case_persons (case_id, person_id, role) VALUES (?, ?, ?)`, c.ID, x.ID, x.Role(c))
				}
			}
		}

		for _, x := range w.Persons {
			proj := w.Projection(p, x)
			visible := proj != ""
			path := "/api/v1/persons/" + x.ID.String()
			r := m.expect("read person "+x.Name, as, "GET", path, "", status(visible, visible, 200))
			if r.status == 200 {
				switch proj {
				case "full":
					m.keys("person "+x.Name, as, r.object(t), personFullKeys)
				case "summary":
					m.keys("person "+x.Name, as, r.object(t), personSummaryKeys)
				default:
					m.consular("person "+x.Name, as, r)
					m.nationalFacts(as, x, r)
				}
			}
			m.expect("edit person "+x.Name, as, "PATCH", path, `{"address": "address of `+x.Name+`"}`,
				status(visible, w.CanEditPerson(p, x), 200), "If-Match", etag(x.ID, a.version("persons", x.ID)))
			m.expect("screen person "+x.Name, as, "POST", path+"/screening", `{"screening_notes": "screening of `+x.Name+` by `+as+`"}`,
				status(visible, w.CanScreen(p, x), 200))
			// The screening history: whoever sees the person in full; the
			// person's own state not even a refusal (404).
			m.expect("screening history of "+x.Name, as, "GET", path+"/screening/history", "",
				status(proj == "summary", proj == "full", 200))

			want := http.StatusForbidden
			if w.IsConsularViewer(p) {
				want = status(false, w.ConsularMatch(p, x), 200)
			}
			// Consular visits: listed where the person is visible; requested
			// by a liaison who sees the person in the consular view.
			m.expect("visits of "+x.Name, as, "GET", path+"/visits", "", status(visible, visible, 200))
			from := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
			r = m.expect("request a visit to "+x.Name, as, "POST", path+"/visits",
				`{"preferred_from": "`+from+`", "preferred_to": "`+from+`"}`,
				status(visible, w.ConsularMatch(p, x), http.StatusCreated))
			if r.status == http.StatusCreated {
				a.exec(`DELETE FROM consular_visits WHERE id = ?`, r.object(t)["id"])
			}
			// Acknowledging the person's notification: the liaison of the
			// notified embassy; a coordinator sees it (403); others 404.
			var notes []string
			a.scan(&notes, `SELECT id::text FROM consular_notifications WHERE person_id = ? AND withdrawn_at IS NULL`, x.ID)
			for _, n := range notes {
				seesIt := w.ConsularMatch(p, x) || (p.Agency.Kind == "interior_ministry" && p.Has("coordinator"))
				r := m.expect("acknowledge the notification about "+x.Name, as, "POST", "/api/v1/notifications/"+n+"/ack", "",
					status(seesIt, w.ConsularMatch(p, x), 200))
				if r.status == 200 {
					a.exec(`UPDATE consular_notifications SET acknowledged_at = NULL, acknowledged_by = NULL WHERE id = ?`, n)
				}
			}

			r = m.expect("consular view of "+x.Name, as, "GET", "/api/v1/consular/nationals/"+x.ID.String(), "", want)
			if r.status == 200 {
				m.consular("national "+x.Name, as, r)
				m.nationalFacts(as, x, r)
			}
		}

		// Lists hold exactly the model's objects (of the world), and every
		// id a list returns can be fetched.
		worldCase := map[string]*authztest.Case{}
		for _, c := range w.Cases {
			worldCase[c.ID.String()] = c
		}
		r := m.expect("list cases", as, "GET", "/api/v1/cases?limit=200", "", 200)
		ids, items := listIDs(t, r, "")
		var got, want []string
		for i, id := range ids {
			c, ok := worldCase[id]
			if !ok {
				t.Errorf("%s | list cases: %s is not a case of the world", as, id)
				continue
			}
			got = append(got, c.Name)
			if w.CaseAccess(p, c).Level == "full" {
				m.keys("listed case "+c.Name, as, items[i], caseFullKeys)
			} else {
				m.keys("listed case "+c.Name, as, items[i], caseSummaryKeys)
			}
			m.expect("fetch listed case "+c.Name, as, "GET", "/api/v1/cases/"+id, "", 200)
		}
		for _, c := range w.Cases {
			if w.Sees(p, c) {
				want = append(want, c.Name)
			}
		}
		if !slices.Equal(sortedCopy(got), sortedCopy(want)) {
			t.Errorf("%s | list cases:\n got  %v\n want %v", as, sortedCopy(got), sortedCopy(want))
		}

		worldPerson := map[string]*authztest.Person{}
		for _, x := range w.Persons {
			worldPerson[x.ID.String()] = x
		}
		for _, list := range []struct {
			path  string
			model func(*authztest.Person) bool
			fetch string
			keys  []string
		}{
			{"/api/v1/persons?limit=200", func(x *authztest.Person) bool { return w.PersonFull(p, x) }, "/api/v1/persons/", personFullKeys},
			{"/api/v1/consular/nationals?limit=200", func(x *authztest.Person) bool { return w.ConsularMatch(p, x) }, "/api/v1/consular/nationals/", consularKeys},
		} {
			wantStatus := 200
			if strings.Contains(list.path, "consular") && !w.IsConsularViewer(p) {
				wantStatus = http.StatusForbidden
			}
			r := m.expect("list "+list.path, as, "GET", list.path, "", wantStatus)
			if r.status != 200 {
				continue
			}
			ids, items := listIDs(t, r, "")
			got, want = nil, nil
			for i, id := range ids {
				x, ok := worldPerson[id]
				if !ok {
					t.Errorf("%s | %s: %s is not a person of the world", as, list.path, id)
					continue
				}
				got = append(got, x.Name)
				m.keys("listed "+x.Name, as, items[i], list.keys)
				m.expect("fetch listed "+x.Name, as, "GET", list.fetch+id, "", 200)
			}
			for _, x := range w.Persons {
				if list.model(x) {
					want = append(want, x.Name)
				}
			}
			if !slices.Equal(sortedCopy(got), sortedCopy(want)) {
				t.Errorf("%s | %s:\n got  %v\n want %v", as, list.path, sortedCopy(got), sortedCopy(want))
			}
		}

		// Creates and the directory.
		canCreate := p.Agency.Kind == "immigration_police" || p.Agency.Kind == "counter_trafficking"
		canCreate = canCreate && p.Has("officer", "supervisor")
		r = m.expect("create a case", as, "POST", "/api/v1/cases", `{"title": "Matrix case", "kind": "smuggling"}`,
			status(true, canCreate, http.StatusCreated))
		if r.status == http.StatusCreated {
			obj := r.object(t)
			m.keys("created case", as, obj, caseFullKeys)
			if ref, _ := obj["reference"].(string); !strings.HasPrefix(ref, strings.ToUpper(p.Agency.Code)+"-") {
				t.Errorf("%s | created case reference %q", as, ref)
			}
			a.exec(`DELETE FROM cases WHERE id = ?`, obj["id"])
		}
		r = m.expect("create a person", as, "POST", "/api/v1/persons", `{"family_name": "Matrix", "nationality": "TH"}`,
			status(true, canCreate, http.StatusCreated))
		if r.status == http.StatusCreated {
			m.keys("created person", as, r.object(t), personFullKeys)
			a.exec(`DELETE FROM persons WHERE id = ?`, r.object(t)["id"])
		}
		m.expect("list agencies", as, "GET", "/api/v1/agencies", "", 200)
		r = m.expect("create an agency", as, "POST", "/api/v1/agencies",
			`{"code": "mx-`+fmt.Sprint(m.cells)+`", "name": "Matrix court", "kind": "court"}`,
			status(true, w.IsAdmin(p), http.StatusCreated))
		if r.status == http.StatusCreated {
			a.exec(`DELETE FROM agencies WHERE id = ?`, r.object(t)["id"])
		}
		gdi := w.Agencies["gdi"]
		m.expect("edit an agency", as, "PATCH", "/api/v1/agencies/"+gdi.ID.String(), `{"name": "`+gdi.Name+`"}`,
			status(true, w.IsAdmin(p), 200), "If-Match", etag(gdi.ID, a.version("agencies", gdi.ID)))
		m.expect("list users", as, "GET", "/api/v1/users", "", status(true, w.IsAdmin(p), 200))
		// An embassy's webhook and its delivery log: admins (403 for anyone
		// else; agencies are visible to all). A URL outside the allow-list:
		// 422 for an admin.
		embCN := "/api/v1/agencies/" + w.Agencies["emb-cn"].ID.String() + "/webhook"
		m.expect("read a webhook", as, "GET", embCN, "", status(true, w.IsAdmin(p), 200))
		m.expect("read a webhook's deliveries", as, "GET", embCN+"/deliveries", "", status(true, w.IsAdmin(p), 200))
		m.expect("set a webhook outside the allow-list", as, "PUT", embCN, `{"url": "https://internal.example/hook"}`,
			status(true, w.IsAdmin(p), http.StatusUnprocessableEntity))

		// Lists of notifications and visits: every principal (each sees what
		// the rules give it; TestConsularNotifications checks the contents).
		m.expect("list notifications", as, "GET", "/api/v1/notifications", "", 200)
		m.expect("list visits", as, "GET", "/api/v1/visits", "", 200)

		// Facilities: read by the agencies that hold, screen, oversee or try
		// persons (never an embassy); registered by their officers and
		// supervisors (immigration police, counter-trafficking) and admins.
		readsFacilities := p.Agency.Kind != "embassy"
		r = m.expect("list facilities", as, "GET", "/api/v1/facilities", "", 200)
		if n := len(r.object(t)["items"].([]any)); readsFacilities != (n > 0) {
			t.Errorf("%s | list facilities: %d items; reads facilities: %v", as, n, readsFacilities)
		}
		canRegister := w.IsAdmin(p) || (canCreate)
		r = m.expect("register a facility", as, "POST", "/api/v1/facilities",
			`{"name": "Matrix facility `+fmt.Sprint(m.cells)+`", "kind": "police_station"}`,
			status(true, canRegister, http.StatusCreated))
		if r.status == http.StatusCreated {
			a.exec(`DELETE FROM facilities WHERE id = ?`, r.object(t)["id"])
		}
	}

	// Nobody signed in: 401 everywhere.
	c, x := w.Cases[0], w.Persons[0]
	for _, e := range []struct{ method, path, body string }{
		{"GET", "/api/v1/cases", ""}, {"POST", "/api/v1/cases", `{}`},
		{"GET", "/api/v1/cases/" + c.ID.String(), ""}, {"PATCH", "/api/v1/cases/" + c.ID.String(), `{}`},
		{"POST", "/api/v1/cases/" + c.ID.String() + "/status", `{}`},
		{"GET", "/api/v1/cases/" + c.ID.String() + "/shares", ""},
		{"POST", "/api/v1/cases/" + c.ID.String() + "/shares", `{}`},
		{"DELETE", "/api/v1/cases/" + c.ID.String() + "/shares/" + uuid.NewString(), ""},
		{"GET", "/api/v1/cases/" + c.ID.String() + "/persons", ""},
		{"POST", "/api/v1/cases/" + c.ID.String() + "/persons", `{}`},
		{"DELETE", "/api/v1/cases/" + c.ID.String() + "/persons/" + x.ID.String(), ""},
		{"GET", "/api/v1/persons", ""}, {"POST", "/api/v1/persons", `{}`},
		{"GET", "/api/v1/persons/" + x.ID.String(), ""}, {"PATCH", "/api/v1/persons/" + x.ID.String(), `{}`},
		{"POST", "/api/v1/persons/" + x.ID.String() + "/screening", `{}`},
		{"GET", "/api/v1/consular/nationals", ""}, {"GET", "/api/v1/consular/nationals/" + x.ID.String(), ""},
		{"GET", "/api/v1/agencies", ""}, {"POST", "/api/v1/agencies", `{}`},
		{"PATCH", "/api/v1/agencies/" + uuid.NewString(), `{}`}, {"GET", "/api/v1/users", ""},
		{"GET", "/api/v1/facilities", ""}, {"POST", "/api/v1/facilities", `{}`},
		{"GET", "/api/v1/notifications", ""}, {"POST", "/api/v1/notifications/" + uuid.NewString() + "/ack", ""},
		{"GET", "/api/v1/persons/" + x.ID.String() + "/visits", ""}, {"POST", "/api/v1/persons/" + x.ID.String() + "/visits", `{}`},
		{"GET", "/api/v1/visits", ""}, {"POST", "/api/v1/visits/" + uuid.NewString() + "/answer", `{}`},
		{"GET", "/api/v1/persons/" + x.ID.String() + "/screening/history", ""},
		{"GET", "/api/v1/agencies/" + uuid.NewString() + "/webhook", ""}, {"PUT", "/api/v1/agencies/" + uuid.NewString() + "/webhook", `{}`},
		{"GET", "/api/v1/agencies/" + uuid.NewString() + "/webhook/deliveries", ""},
	} {
		r := m.expect("signed out", "", e.method, e.path, e.body, http.StatusUnauthorized)
		if r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s: 401 without WWW-Authenticate", e.method, e.path)
		}
	}

	t.Logf("authorization matrix: %d cells (%d principals, %d cases, %d persons)",
		m.cells, len(w.Principals), len(w.Cases), len(w.Persons))
	fmt.Printf("authorization matrix: %d cells\n", m.cells)
}
