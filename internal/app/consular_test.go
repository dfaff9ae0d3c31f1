package app_test

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/authztest"
	"github.com/casebridge/casebridge/internal/config"
)

// held: the custody statuses in which a notification becomes due.
var held = []string{"detained", "charged", "convicted", "awaiting_deportation"}

// notified lists, by the model, the persons whose notification is in the
// inbox of principal p: visible to its embassy in the consular view while
// held in custody.
func notified(w *authztest.World, p *authztest.Principal) []string {
	var out []string
	for _, x := range w.Persons {
		if w.ConsularMatch(p, x) && slices.Contains(held, x.Custody) {
			out = append(out, x.ID.String())
		}
	}
	slices.Sort(out)
	return out
}

func inbox(t *testing.T, a *caseAPI, as, query string) (persons []string, items []map[string]any) {
	t.Helper()
	r := a.request(as, "GET", "/api/v1/notifications?limit=200"+query, "")
	if r.status != http.StatusOK {
		t.Fatalf("%s: inbox: %d\n%s", as, r.status, r.body)
	}
	if err := a.conforms("NotificationList", r.body); err != nil {
		t.Fatalf("%s: inbox does not conform: %v\n%s", as, err, r.body)
	}
	_, items = listIDs(t, r, "")
	for _, it := range items {
		persons = append(persons, it["person"].(map[string]any)["id"].(string))
	}
	slices.Sort(persons)
	for _, word := range []string{"asylum", "screening", "address of", "trafficking", "Summary of", "shelter"} {
		if strings.Contains(strings.ToLower(string(r.body)), strings.ToLower(word)) && !strings.HasPrefix(as, "moi") {
			t.Errorf("%s: the inbox contains %q:\n%s", as, word, r.body)
		}
	}
	return persons, items
}

func notificationOf(t *testing.T, items []map[string]any, personID string) map[string]any {
	t.Helper()
	for _, it := range items {
		if it["person"].(map[string]any)["id"] == personID {
			return it
		}
	}
	return nil
}

// TestConsularNotifications: a notification is due, once per custody
// episode, exactly when the person becomes visible to their embassy in
// custody; it leaves the inbox when they stop being visible and comes back
// when a screening is cleared; the right embassy acknowledges it, nobody
// else; the ministry sees every one, overdue included.
func TestConsularNotifications(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, func(c *config.Config) { c.Consular.MandatoryCountries = []string{"TH"} })
	w := a.w
	cn, vn := w.Principal("emb-cn-liaison"), w.Principal("emb-vn-liaison")

	// The inboxes hold exactly the model's persons (declined, a victim
	// without consent, at large, deported: none; a consenting victim, a
	// cleared screening, an asylum claimant: one, saying nothing of it).
	for _, p := range []*authztest.Principal{cn, vn} {
		got, _ := inbox(t, a, p.Name, "")
		if want := notified(w, p); !slices.Equal(got, want) {
			t.Errorf("%s inbox:\n got  %v\n want %v", p.Name, got, want)
		}
	}
	for _, who := range []string{"gdi-officer", "ncct-officer", "court-pp-clerk", "moi-admin"} {
		if got, _ := inbox(t, a, who, ""); len(got) != 0 {
			t.Errorf("%s sees %d notifications, want none", who, len(got))
		}
	}
	all, _ := inbox(t, a, "moi-coordinator", "")
	want := 0 // every country's, whether or not its embassy is registered
	for _, x := range w.Persons {
		if slices.Contains(held, x.Custody) && x.Notification != "declined" &&
			(x.Flag == "none" || x.Flag == "cleared" || x.Consents) {
			want++
		}
	}
	if len(all) != want {
		t.Errorf("coordinator sees %d notifications, want %d", len(all), want)
	}
	var dup int64
	if err := a.owner.Raw(`SELECT count(*) FROM (SELECT person_id, episode FROM consular_notifications
		GROUP BY person_id, episode HAVING count(*) > 1) d`).Scan(&dup).Error; err != nil || dup != 0 {
		t.Fatalf("persons with more than one notification in an episode: %d (%v)", dup, err)
	}

	// A detention recorded through the API is notified in the same request.
	owned := w.Case("owned")
	r := a.request("gdi-officer", "POST", "/api/v1/persons", `{"family_name": "Newly", "given_names": "Held",
		"nationality": "CN", "custody_status": "detained", "facility": "Phnom Penh IDC", "case_id": "`+owned.ID.String()+`"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("record a detention: %d\n%s", r.status, r.body)
	}
	newID := r.object(t)["id"].(string)
	_, items := inbox(t, a, cn.Name, "&state=new")
	if notificationOf(t, items, newID) == nil {
		t.Errorf("the new detention is not in the Chinese embassy's inbox")
	}
	// The open notification is part of the consular projection.
	if it := notificationOf(t, items, newID); it != nil {
		r := a.request(cn.Name, "GET", "/api/v1/consular/nationals/"+newID, "")
		n, _ := r.object(t)["notification"].(map[string]any)
		if r.status != http.StatusOK || n == nil || n["id"] != it["id"] || n["acknowledged_at"] != nil || n["episode"] != float64(1) {
			t.Errorf("the national's open notification: %d %s", r.status, r.body)
		}
		r = a.request(cn.Name, "GET", "/api/v1/consular/nationals?limit=200", "")
		_, nats := listIDs(t, r, "")
		for _, x := range nats {
			if x["id"] == newID {
				if n, _ := x["notification"].(map[string]any); n == nil || n["id"] != it["id"] {
					t.Errorf("the nationals list lacks the open notification: %v", x)
				}
			}
		}
	}
	// A mandatory-notification country: notified even when the person declined.
	r = a.request("gdi-officer", "POST", "/api/v1/persons", `{"family_name": "Mandatory", "nationality": "TH",
		"custody_status": "detained", "consular_notification": "declined", "case_id": "`+owned.ID.String()+`"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("record a Thai detention: %d\n%s", r.status, r.body)
	}
	var n int64
	if err := a.owner.Raw(`SELECT count(*) FROM consular_notifications WHERE person_id = ? AND country = 'TH'`,
		r.object(t)["id"]).Scan(&n).Error; err != nil || n != 1 {
		t.Errorf("mandatory country, declined: %d notifications (%v), want 1", n, err)
	}

	// A flag set after sending: the notification leaves the inbox at once;
	// the ministry still sees it, withdrawn.
	x := w.Person("cn-detained")
	r = a.request("gdi-officer", "POST", "/api/v1/persons/"+x.ID.String()+"/screening", `{"trafficking_flag": "suspected"}`)
	if r.status != http.StatusOK {
		t.Fatalf("flag %s: %d\n%s", x.Name, r.status, r.body)
	}
	if _, items := inbox(t, a, cn.Name, ""); notificationOf(t, items, x.ID.String()) != nil {
		t.Errorf("a flagged person's notification is still in the embassy's inbox")
	}
	_, items = inbox(t, a, "moi-coordinator", "&state=withdrawn")
	if it := notificationOf(t, items, x.ID.String()); it == nil || it["state"] != "withdrawn" {
		t.Errorf("the coordinator does not see the withdrawn notification: %v", it)
	}
	// Screening cleared: due again — the same notification, back in the inbox.
	r = a.request("ncct-officer", "POST", "/api/v1/persons/"+x.ID.String()+"/screening",
		`{"trafficking_flag": "cleared", "screening_notes": "no indicators", "reason": "Interviewed: no indicators of trafficking."}`)
	if r.status != http.StatusOK {
		t.Fatalf("clear %s: %d\n%s", x.Name, r.status, r.body)
	}
	_, items = inbox(t, a, cn.Name, "")
	it := notificationOf(t, items, x.ID.String())
	if it == nil {
		t.Fatalf("a cleared person's notification is not back in the inbox")
	}
	if err := a.owner.Raw(`SELECT count(*) FROM consular_notifications WHERE person_id = ?`, x.ID).Scan(&n).Error; err != nil || n != 1 {
		t.Errorf("after withdrawal and clearing: %d notifications (%v), want 1", n, err)
	}

	// Acknowledgement: the notified embassy (idempotent); another embassy
	// 404; the ministry 403; an officer 404.
	id := it["id"].(string)
	path := "/api/v1/notifications/" + id + "/ack"
	r = a.request(cn.Name, "POST", path, "")
	if r.status != http.StatusOK || r.object(t)["state"] != "acknowledged" {
		t.Fatalf("acknowledge: %d\n%s", r.status, r.body)
	}
	first := r.object(t)["acknowledged_at"]
	if r = a.request(cn.Name, "POST", path, ""); r.status != http.StatusOK || r.object(t)["acknowledged_at"] != first {
		t.Errorf("acknowledge twice: %d %v, want 200 and the first time %v", r.status, r.object(t)["acknowledged_at"], first)
	}
	for who, want := range map[string]int{vn.Name: 404, "gdi-officer": 404, "moi-coordinator": 403, "": 401} {
		if r := a.request(who, "POST", path, ""); r.status != want {
			t.Errorf("%s acknowledges a Chinese notification: %d, want %d", who, r.status, want)
		}
	}
	if got, _ := inbox(t, a, cn.Name, "&state=acknowledged"); !slices.Contains(got, x.ID.String()) {
		t.Errorf("state=acknowledged does not list it")
	}

	// Overdue: not acknowledged within consular.overdue_after (72h).
	late := w.Person("cn-charged")
	a.exec(`UPDATE consular_notifications SET due_at = now() - interval '100 hours' WHERE person_id = ?`, late.ID)
	for _, who := range []string{"moi-coordinator", cn.Name} {
		_, items := inbox(t, a, who, "&state=overdue")
		if it := notificationOf(t, items, late.ID.String()); it == nil || it["overdue"] != true {
			t.Errorf("%s: the late notification is not overdue: %v", who, it)
		}
	}
	if got, _ := inbox(t, a, cn.Name, "&state=overdue"); slices.Contains(got, x.ID.String()) {
		t.Errorf("an acknowledged notification is listed as overdue")
	}
	if r := a.request(cn.Name, "GET", "/api/v1/notifications?state=lost", ""); r.status != http.StatusUnprocessableEntity {
		t.Errorf("state=lost: %d, want 422", r.status)
	}
}

// Concurrent changes that make the same notification due (two servers, a
// retried request) still give exactly one per custody episode: the unique
// constraint decides, not a check in Go.
func TestConsularNotificationOnceUnderRaces(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	x := a.w.Person("cn-declined")
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Half choose "requested" (due), half touch consent: every one
			// re-runs the rule on the same person.
			sql := `UPDATE persons SET consular_notification = 'requested' WHERE id = ?`
			if i%2 == 1 {
				sql = `UPDATE persons SET victim_consents_to_embassy = NOT victim_consents_to_embassy WHERE id = ?`
			}
			errs <- a.owner.Exec(sql, x.ID).Error
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int64
	if err := a.owner.Raw(`SELECT count(*) FROM consular_notifications WHERE person_id = ?`, x.ID).Scan(&n).Error; err != nil || n != 1 {
		t.Fatalf("%d notifications after 20 concurrent changes (%v), want 1", n, err)
	}
	// A new custody episode is a new notification.
	a.exec(`UPDATE persons SET custody_status = 'released' WHERE id = ?`, x.ID)
	a.exec(`UPDATE persons SET custody_status = 'detained' WHERE id = ?`, x.ID)
	if err := a.owner.Raw(`SELECT count(*) FROM consular_notifications WHERE person_id = ?`, x.ID).Scan(&n).Error; err != nil || n != 2 {
		t.Fatalf("%d notifications after a second detention (%v), want 2", n, err)
	}
}

// TestConsularVisits: a liaison requests a visit to a national it sees; the
// officers of the agency holding the person in a case answer it; others get
// 404 or 403 as ACCESS.md says; the ministry sees unanswered requests.
func TestConsularVisits(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	w := a.w
	x := w.Person("cn-detained") // detainee in "owned" (gdi)
	from := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	to := time.Now().UTC().AddDate(0, 0, 8).Format(time.DateOnly)
	body := `{"preferred_from": "` + from + `", "preferred_to": "` + to + `", "note": "Family asked us to visit."}`
	path := "/api/v1/persons/" + x.ID.String() + "/visits"
	for who, want := range map[string]int{"emb-vn-liaison": 404, "gdi-officer": 403, "ppm-officer": 404, "": 401} {
		if r := a.request(who, "POST", path, body); r.status != want {
			t.Errorf("%s requests a visit to %s: %d, want %d\n%s", who, x.Name, r.status, want, r.body)
		}
	}
	victim := w.Person("cn-victim") // a possible victim without consent: invisible to the embassy
	if r := a.request("emb-cn-liaison", "POST", "/api/v1/persons/"+victim.ID.String()+"/visits", body); r.status != http.StatusNotFound {
		t.Errorf("a visit to a possible victim without consent: %d, want 404", r.status)
	}
	if r := a.request("emb-cn-liaison", "POST", path, `{"preferred_from": "`+to+`", "preferred_to": "`+from+`"}`); r.status != http.StatusUnprocessableEntity {
		t.Errorf("preferred_to before preferred_from: %d, want 422", r.status)
	}
	r := a.request("emb-cn-liaison", "POST", path, body)
	if r.status != http.StatusCreated {
		t.Fatalf("request a visit: %d\n%s", r.status, r.body)
	}
	if err := a.conforms("Visit", r.body); err != nil {
		t.Fatalf("visit does not conform: %v\n%s", err, r.body)
	}
	visit := r.object(t)["id"].(string)

	// Who sees the request.
	for who, want := range map[string]int{"emb-cn-liaison": 1, "gdi-officer": 1, "gdi-viewer": 1, "moi-coordinator": 1,
		"ppm-officer": -404, "emb-vn-liaison": -404} {
		r := a.request(who, "GET", path, "")
		switch {
		case want < 0 && r.status != -want:
			t.Errorf("%s lists the visits of %s: %d, want %d", who, x.Name, r.status, -want)
		case want >= 0:
			if r.status != http.StatusOK {
				t.Errorf("%s lists the visits: %d", who, r.status)
				continue
			}
			if ids, _ := listIDs(t, r, ""); len(ids) != want {
				t.Errorf("%s sees %d visit requests, want %d", who, len(ids), want)
			}
		}
	}

	// Who answers.
	answer := `{"status": "scheduled", "visit_at": "` + time.Now().UTC().AddDate(0, 0, 3).Format(time.RFC3339) +
		`", "place": "Immigration Detention Centre, visitors' room"}`
	apath := "/api/v1/visits/" + visit + "/answer"
	for who, want := range map[string]int{"ppm-officer": 404, "emb-vn-liaison": 404, "gdi-viewer": 403,
		"emb-cn-liaison": 403, "moi-coordinator": 403, "": 401} {
		if r := a.request(who, "POST", apath, answer); r.status != want {
			t.Errorf("%s answers: %d, want %d\n%s", who, r.status, want, r.body)
		}
	}
	if r := a.request("gdi-officer", "POST", apath, `{"status": "refused"}`); r.status != http.StatusUnprocessableEntity {
		t.Errorf("a refusal without a reason: %d, want 422", r.status)
	}
	r = a.request("gdi-officer", "POST", apath, answer)
	if r.status != http.StatusOK || r.object(t)["status"] != "scheduled" {
		t.Fatalf("answer: %d\n%s", r.status, r.body)
	}
	if r := a.request("gdi-supervisor", "POST", apath, `{"status": "refused", "refusal_reason": "late"}`); r.status != http.StatusConflict {
		t.Errorf("a second answer: %d, want 409", r.status)
	}
	r = a.request("emb-cn-liaison", "GET", path, "")
	if _, items := listIDs(t, r, ""); len(items) != 1 || items[0]["status"] != "scheduled" || items[0]["place"] == nil {
		t.Errorf("the embassy does not see the answer: %s", r.body)
	}

	// Unanswered past consular.visit_overdue_after: the ministry's overdue list.
	y := w.Person("cn-charged")
	r = a.request("emb-cn-liaison", "POST", "/api/v1/persons/"+y.ID.String()+"/visits", body)
	if r.status != http.StatusCreated {
		t.Fatalf("second request: %d\n%s", r.status, r.body)
	}
	a.exec(`UPDATE consular_visits SET requested_at = now() - interval '60 hours' WHERE id = ?`, r.object(t)["id"])
	r = a.request("moi-coordinator", "GET", "/api/v1/visits?state=overdue", "")
	if ids, items := listIDs(t, r, ""); len(ids) != 1 || items[0]["overdue"] != true {
		t.Errorf("coordinator's overdue visits: %s", r.body)
	}
	for _, who := range []string{"emb-cn-liaison", "emb-vn-liaison"} {
		for _, p := range []string{"/api/v1/visits", path} {
			r := a.request(who, "GET", p, "")
			if strings.Contains(strings.ToLower(string(r.body)), "asylum") {
				t.Errorf("%s GET %s mentions asylum: %s", who, p, r.body)
			}
		}
	}
}
