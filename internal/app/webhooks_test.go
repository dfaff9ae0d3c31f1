package app_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/testenv"
	"github.com/casebridge/casebridge/internal/webhooks"
)

// received is one request a test receiver got.
type received struct {
	id, timestamp, signature string
	body                     []byte
	answered                 int
}

// receiver is a real HTTP endpoint on loopback that records every request
// and answers 500 to the first failFirst of them.
type receiver struct {
	mu        sync.Mutex
	got       []received
	failFirst int
	srv       *httptest.Server
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	r := &receiver{failFirst: failFirst}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		code := http.StatusNoContent
		if len(r.got) < r.failFirst {
			code = http.StatusInternalServerError
		}
		r.got = append(r.got, received{id: req.Header.Get("webhook-id"), timestamp: req.Header.Get("webhook-timestamp"),
			signature: req.Header.Get("webhook-signature"), body: b, answered: code})
		r.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// delivered returns the bodies answered 2xx, decoded.
func (r *receiver) delivered() []map[string]any {
	var out []map[string]any
	for _, g := range r.all() {
		if g.answered < 300 {
			var m map[string]any
			_ = json.Unmarshal(g.body, &m)
			out = append(out, m)
		}
	}
	return out
}

// waitFor polls until cond holds or the time is up.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func webhookConfig(c *config.Config) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	c.Webhooks.SecretKey = base64.StdEncoding.EncodeToString(key)
	c.Webhooks.AllowLoopback = true
	c.Webhooks.AllowedHosts = []string{"hooks.example.org"}
	c.Webhooks.DispatchInterval = 100 * time.Millisecond
	c.Webhooks.RetryBase = 50 * time.Millisecond
	c.Webhooks.Timeout = 2 * time.Second
	c.Jobs.PollInterval = 50 * time.Millisecond
}

// startWorkers runs a second instance's job queue on the same database:
// it dispatches and delivers.
func startWorkers(t *testing.T, a *caseAPI) *app.Program {
	t.Helper()
	cfg := a.cfg
	cfg.Database.URL = a.appURL
	prog, err := app.New(cfg, testenv.Open(t, a.appURL), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	stop, err := prog.StartJobs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = stop(ctx)
	})
	return prog
}

// verifySignature checks a request as docs/webhooks.md tells a receiver
// to, written out here rather than with the package's own Verify: HMAC-
// SHA256 keyed by the base64-decoded secret (after "whsec_") over
// "<webhook-id>.<webhook-timestamp>.<body>", base64, after "v1,".
func verifySignature(secret string, g received) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(g.id + "." + g.timestamp + "." + string(g.body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Fields(g.signature) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

// TestWebhooks: an admin sets the Chinese embassy's webhook; a detention
// recorded through the API reaches it signed, once, after three failures;
// nothing is sent twice after a 2xx; a flag set afterwards sends
// notification.withdrawn with ids only; no body ever mentions asylum; the
// Vietnamese embassy's endpoint gets nothing about Chinese nationals; a URL
// outside the allow-list is refused naming the field; only admins manage
// webhooks.
func TestWebhooks(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, webhookConfig)
	w := a.w
	cnRecv, vnRecv := newReceiver(t, 3), newReceiver(t, 0)
	embCN, embVN := w.Agencies["emb-cn"].ID.String(), w.Agencies["emb-vn"].ID.String()
	path := "/api/v1/agencies/" + embCN + "/webhook"

	// Configuration: refused outside the allow-list, without https, for a
	// non-embassy, and for anyone but an admin.
	for _, bad := range []string{"https://internal.example/hook", "http://hooks.example.org/hook",
		"https://user:pw@hooks.example.org/hook", "ftp://127.0.0.1/x", ""} {
		r := a.request("moi-admin", "PUT", path, `{"url": "`+bad+`"}`)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), `"url"`) {
			t.Errorf("PUT url %q: %d, want 422 naming url\n%s", bad, r.status, r.body)
		}
	}
	if r := a.request("moi-admin", "PUT", "/api/v1/agencies/"+w.Agencies["gdi"].ID.String()+"/webhook",
		`{"url": "https://hooks.example.org/x"}`); r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), `"agency"`) {
		t.Errorf("a webhook for the immigration police: %d, want 422 naming agency\n%s", r.status, r.body)
	}
	for _, who := range []string{"emb-cn-liaison", "gdi-officer", "moi-coordinator", "ncct-officer"} {
		if r := a.request(who, "PUT", path, `{"url": "https://hooks.example.org/x"}`); r.status != http.StatusForbidden {
			t.Errorf("%s PUT webhook: %d, want 403", who, r.status)
		}
		for _, p := range []string{path, path + "/deliveries"} {
			if r := a.request(who, "GET", p, ""); r.status != http.StatusForbidden {
				t.Errorf("%s GET %s: %d, want 403", who, p, r.status)
			}
		}
	}
	if r := a.request("moi-admin", "GET", "/api/v1/agencies/"+uuid.NewString()+"/webhook", ""); r.status != http.StatusNotFound {
		t.Errorf("webhook of an unknown agency: %d, want 404", r.status)
	}
	if r := a.request("moi-admin", "GET", path, ""); r.status != http.StatusOK || r.object(t)["configured"] != false {
		t.Errorf("before it is set: %d %s", r.status, r.body)
	}
	// Allowed host: accepted (never reached in this test).
	r := a.request("moi-admin", "PUT", path, `{"url": "https://hooks.example.org/cn", "enabled": false}`)
	if r.status != http.StatusOK {
		t.Fatalf("PUT allowed host: %d\n%s", r.status, r.body)
	}
	first, _ := r.object(t)["secret"].(string)
	// The real endpoint, with a new secret.
	r = a.request("moi-admin", "PUT", path, `{"url": "`+cnRecv.srv.URL+`/hook", "enabled": true, "rotate_secret": true}`)
	if r.status != http.StatusOK {
		t.Fatalf("PUT loopback receiver: %d\n%s", r.status, r.body)
	}
	secret, _ := r.object(t)["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") || secret == first || !strings.HasPrefix(first, "whsec_") {
		t.Fatalf("secrets: first %q, rotated %q", first, secret)
	}
	r = a.request("moi-admin", "GET", path, "")
	if strings.Contains(string(r.body), secret) || strings.Contains(string(r.body), `"secret"`) || r.object(t)["url"] != cnRecv.srv.URL+"/hook" {
		t.Errorf("GET shows the secret or the wrong URL: %s", r.body)
	}
	var sealed []byte
	if err := a.owner.Raw(`SELECT secret_sealed FROM agency_webhooks WHERE agency_id = ?`, embCN).Row().Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if len(sealed) == 0 || strings.Contains(string(sealed), strings.TrimPrefix(secret, "whsec_")) {
		t.Errorf("the secret is not stored encrypted")
	}
	if r := a.request("moi-admin", "PUT", "/api/v1/agencies/"+embVN+"/webhook", `{"url": "`+vnRecv.srv.URL+`/vn"}`); r.status != http.StatusOK {
		t.Fatalf("PUT VN: %d\n%s", r.status, r.body)
	}

	prog := startWorkers(t, a)

	// A detention recorded through the API: delivered once, after three
	// failed attempts, signed as documented, with the consular projection.
	owned := w.Case("owned")
	r = a.request("gdi-officer", "POST", "/api/v1/persons", `{"family_name": "Hooked", "given_names": "Newly",
		"nationality": "CN", "custody_status": "detained", "facility": "Phnom Penh IDC", "case_id": "`+owned.ID.String()+`"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("record a detention: %d\n%s", r.status, r.body)
	}
	personID := r.object(t)["id"].(string)
	waitFor(t, "the notification delivered", 60*time.Second, func() bool { return len(cnRecv.delivered()) == 1 })
	got := cnRecv.all()
	if len(got) != 4 {
		t.Fatalf("%d requests, want 3 failures then 1 success", len(got))
	}
	for i, g := range got {
		if g.id != got[0].id {
			t.Errorf("attempt %d has webhook-id %s, first had %s", i+1, g.id, got[0].id)
		}
		if !verifySignature(secret, g) {
			t.Errorf("attempt %d: the signature does not verify by the documented scheme", i+1)
		}
		if err := webhooks.Verify(secret, g.id, g.timestamp, g.signature, g.body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("attempt %d: %v", i+1, err)
		}
		if verifySignature(first, g) {
			t.Errorf("attempt %d verifies with the rotated-out secret", i+1)
		}
		tampered := g
		tampered.body = append([]byte(nil), g.body...)
		tampered.body[len(tampered.body)/2] ^= 1
		if verifySignature(secret, tampered) {
			t.Errorf("attempt %d: a changed body still verifies", i+1)
		}
	}
	msg := cnRecv.delivered()[0]
	data := msg["data"].(map[string]any)
	person := data["person"].(map[string]any)
	if msg["type"] != "notification.created" || person["id"] != personID {
		t.Fatalf("delivered %v", msg)
	}
	wantKeys := slices.DeleteFunc(slices.Clone(consularKeys), func(k string) bool { return k == "notification" })
	if k := keysOf(person); !slices.Equal(k, wantKeys) {
		t.Errorf("person keys in the webhook:\n got  %v\n want %v", k, wantKeys)
	}
	if n := data["notification"].(map[string]any); n["id"] == nil || n["episode"] != float64(1) {
		t.Errorf("notification in the webhook: %v", n)
	}

	// The delivery log: one delivery, four attempts, the first three 500
	// (the worker records the answer right after the receiver sent it).
	waitFor(t, "the delivery recorded", 30*time.Second, func() bool {
		var n int64
		a.scan(&n, `SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'`)
		return n == 1
	})
	r = a.request("moi-admin", "GET", path+"/deliveries", "")
	if r.status != http.StatusOK {
		t.Fatalf("deliveries: %d\n%s", r.status, r.body)
	}
	_, items := listIDs(t, r, "")
	if len(items) != 1 || items[0]["status"] != "delivered" || items[0]["attempts"] != float64(4) || items[0]["id"] != got[0].id {
		t.Fatalf("delivery log: %s", r.body)
	}
	log := items[0]["attempt_log"].([]any)
	for i, at := range log {
		want := float64(500)
		if i == 3 {
			want = 204
		}
		if at.(map[string]any)["status_code"] != want {
			t.Errorf("attempt %d logged %v, want %v", i+1, at.(map[string]any)["status_code"], want)
		}
	}
	// Nothing twice after a 2xx: running the delivery again sends nothing.
	if err := prog.Webhooks.Deliver(t.Context(), uuid.MustParse(got[0].id), false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(cnRecv.all()); n != 4 {
		t.Errorf("%d requests after a repeated delivery job, want still 4", n)
	}
	var audited int64
	a.scan(&audited, `SELECT count(*) FROM audit_events WHERE action = 'webhook.deliver' AND object_id = ?`, personID)
	if audited != 1 {
		t.Errorf("%d audit events for the delivery, want 1", audited)
	}

	// A trafficking flag set afterwards: notification.withdrawn with the
	// ids and nothing else.
	a.exec(`UPDATE persons SET trafficking_flag = 'suspected' WHERE id = ?`, personID)
	waitFor(t, "the withdrawal delivered", 30*time.Second, func() bool { return len(cnRecv.delivered()) == 2 })
	wd := cnRecv.delivered()[1]
	b, _ := json.Marshal(wd["data"])
	nid := data["notification"].(map[string]any)["id"].(string)
	if wd["type"] != "notification.withdrawn" ||
		string(b) != `{"notification":{"id":"`+nid+`"},"person":{"id":"`+personID+`"}}` {
		t.Errorf("withdrawal: type %v data %s", wd["type"], b)
	}

	// The asylum claimant and the consenting victim, detained anew: notified,
	// and no body says anything of asylum, trafficking or screening.
	for _, name := range []string{"cn-claimant", "cn-victim-consents"} {
		x := w.Person(name)
		a.exec(`UPDATE persons SET custody_status = 'released' WHERE id = ?`, x.ID)
		a.exec(`UPDATE persons SET custody_status = 'detained' WHERE id = ?`, x.ID)
	}
	// A victim without consent detained anew: nothing about them.
	hidden := w.Person("cn-victim")
	a.exec(`UPDATE persons SET custody_status = 'released' WHERE id = ?`, hidden.ID)
	a.exec(`UPDATE persons SET custody_status = 'detained' WHERE id = ?`, hidden.ID)
	// (released: a withdrawal each; detained: a new notification each)
	waitFor(t, "the re-detentions delivered", 30*time.Second, func() bool { return len(cnRecv.delivered()) == 6 })
	time.Sleep(500 * time.Millisecond)
	for _, g := range cnRecv.all() {
		low := strings.ToLower(string(g.body))
		for _, word := range []string{"asylum", "trafficking", "screening", "suspected", "identified", "consents_to", "address", "work_permit", hidden.ID.String()} {
			if strings.Contains(low, word) {
				t.Errorf("a webhook body mentions %q: %s", word, g.body)
			}
		}
	}
	// Other embassy: nothing about Chinese nationals.
	if n := len(vnRecv.all()); n != 0 {
		t.Errorf("the Vietnamese embassy's endpoint got %d requests about Chinese nationals", n)
	}
	r = a.request("moi-admin", "GET", "/api/v1/agencies/"+embVN+"/webhook/deliveries", "")
	if _, items := listIDs(t, r, ""); len(items) != 0 {
		t.Errorf("VN delivery log: %s", r.body)
	}
}

// TestWebhookVisitAnswered: an answered visit request reaches the embassy
// that asked, with the answer and the consular projection.
func TestWebhookVisitAnswered(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, webhookConfig)
	recv := newReceiver(t, 0)
	embCN := a.w.Agencies["emb-cn"].ID.String()
	if r := a.request("moi-admin", "PUT", "/api/v1/agencies/"+embCN+"/webhook", `{"url": "`+recv.srv.URL+`/"}`); r.status != http.StatusOK {
		t.Fatalf("PUT: %d\n%s", r.status, r.body)
	}
	startWorkers(t, a)
	x := a.w.Person("cn-detained")
	from := time.Now().AddDate(0, 0, 2).Format(time.DateOnly)
	r := a.request("emb-cn-liaison", "POST", "/api/v1/persons/"+x.ID.String()+"/visits",
		`{"preferred_from": "`+from+`", "preferred_to": "`+from+`", "note": "first visit"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("request visit: %d\n%s", r.status, r.body)
	}
	vid := r.object(t)["id"].(string)
	r = a.request("gdi-officer", "POST", "/api/v1/visits/"+vid+"/answer",
		`{"status": "scheduled", "visit_at": "`+time.Now().AddDate(0, 0, 3).UTC().Format(time.RFC3339)+`", "place": "Phnom Penh IDC, room 2"}`)
	if r.status != http.StatusOK {
		t.Fatalf("answer: %d\n%s", r.status, r.body)
	}
	waitFor(t, "visit.answered", 30*time.Second, func() bool {
		for _, m := range recv.delivered() {
			if m["type"] == "visit.answered" {
				return true
			}
		}
		return false
	})
	for _, m := range recv.delivered() {
		if m["type"] != "visit.answered" {
			continue
		}
		d := m["data"].(map[string]any)
		v, p := d["visit"].(map[string]any), d["person"].(map[string]any)
		if v["id"] != vid || v["status"] != "scheduled" || v["place"] != "Phnom Penh IDC, room 2" || p["id"] != x.ID.String() {
			t.Errorf("visit.answered: %v", d)
		}
		if k := keysOf(p); !slices.Equal(k, consularKeys) {
			t.Errorf("person keys: %v", k)
		}
	}
}
