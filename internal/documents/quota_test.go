package documents_test

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/documents"
)

// pdfOfSize is a distinct PDF of exactly n bytes.
func pdfOfSize(tag, n int) []byte {
	b := pdf(tag)
	if len(b) > n {
		panic("pdfOfSize: too small")
	}
	return append(b, bytes.Repeat([]byte{'\n'}, n-len(b))...)
}

// The per-agency upload quota (documents.agency_daily_quota), over real
// HTTP: uploads within it commit; one that would exceed it is a 429 naming
// the quota, with Retry-After at the next 00:00 UTC, and nothing is kept
// (no row, no bytes in the store, nothing charged); an agency whose quota
// is used up is refused before its file streams; another agency's quota is
// its own.
func TestUploadQuota(t *testing.T) {
	t.Parallel()
	const quota = 3000
	p := newPortalWith(t, "local", 32<<20, func(c *config.Config) { c.Documents.AgencyDailyQuota = quota })
	police := p.agency(access.KindImmigrationPolice, "")
	other := p.agency(access.KindImmigrationPolice, "")
	officer := p.token(police, access.RoleOfficer)
	otherOfficer := p.token(other, access.RoleOfficer)
	caseID, otherCase := p.newCase(police), p.newCase(other)
	path := "/api/v1/cases/" + caseID.String() + "/documents"
	upload := func(token, path string, data []byte) response {
		t.Helper()
		return p.uploadHTTP(token, path,
			metadataPart(map[string]any{"title": "Statement", "kind": "evidence", "classification": "restricted"}),
			part{name: "file", filename: "s.pdf", body: bytes.NewReader(data)})
	}
	usage := func(a agency) int {
		t.Helper()
		return p.count(`SELECT COALESCE(sum(bytes), 0) FROM upload_usage WHERE agency_id = ?`, a.ID)
	}
	refused := func(name string, r response, state string) {
		t.Helper()
		if r.status != 429 {
			t.Fatalf("%s: %d, want 429\n%s", name, r.status, r.body)
		}
		var prob struct {
			Code   string `json:"code"`
			Detail string `json:"detail"`
		}
		r.json(t, &prob)
		if prob.Code != "documents.quota_exceeded" || !strings.Contains(prob.Detail, "documents.agency_daily_quota") ||
			!strings.Contains(prob.Detail, strconv.Itoa(quota)+" bytes per day "+state) {
			t.Errorf("%s: problem %+v does not name the quota (%s)", name, prob, state)
		}
		now := time.Now().UTC()
		untilMidnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC).Sub(now)
		ra, err := strconv.Atoi(r.header.Get("Retry-After"))
		if err != nil || ra < 1 || time.Duration(ra)*time.Second > untilMidnight+5*time.Second {
			t.Errorf("%s: Retry-After %q, want the seconds until 00:00 UTC (%s)", name, r.header.Get("Retry-After"), untilMidnight)
		}
	}

	first := pdfOfSize(1, 2000)
	r := upload(officer, path, first)
	if r.status != 201 {
		t.Fatalf("upload within the quota: %d\n%s", r.status, r.body)
	}
	var doc docJSON
	r.json(t, &doc)
	if u := usage(police); u != 2000 {
		t.Errorf("usage after 2000 bytes: %d", u)
	}
	objects := len(p.objects())

	// 1,500 bytes with 1,000 left: refused while streaming (the store's
	// limit is what is left), nothing kept.
	r = upload(officer, path, pdfOfSize(2, 1500))
	refused("1500 bytes with 1000 left", r, "would be exceeded")
	if n := p.count(`SELECT count(*) FROM documents WHERE case_id = ?`, caseID); n != 1 {
		t.Errorf("%d documents after the refusal, want 1", n)
	}
	if n := len(p.objects()); n != objects {
		t.Errorf("the store holds %d objects after the refusal, before %d", n, objects)
	}
	if left := p.leftovers(); len(left) != 0 {
		t.Errorf("temporary upload data left: %v", left)
	}
	if u := usage(police); u != 2000 {
		t.Errorf("usage after a refusal: %d, want 2000 (nothing charged)", u)
	}

	// Exactly what is left: accepted. Its answer is "lost" and the client
	// retries with the same Idempotency-Key: it gets the first result,
	// not a 429, although the quota is now used up.
	keyed := func() response {
		t.Helper()
		body, ct := multipartBody(
			metadataPart(map[string]any{"title": "Statement", "kind": "evidence", "classification": "restricted"}),
			part{name: "file", filename: "s.pdf", body: bytes.NewReader(pdfOfSize(3, 1000))})
		return p.do("POST", path, officer, body, map[string]string{"Content-Type": ct, "Idempotency-Key": "quota-last"})
	}
	if r = keyed(); r.status != 201 {
		t.Fatalf("upload of exactly the bytes left: %d\n%s", r.status, r.body)
	}
	if r = keyed(); r.status != 201 || r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry of the upload that used the last bytes: %d %q, want the first result\n%s",
			r.status, r.header.Get("Idempotent-Replayed"), r.body)
	}
	if u := usage(police); u != quota {
		t.Errorf("usage after the replay: %d, want %d (a replay charges nothing)", u, quota)
	}
	// A new upload under another key is checked at commit: refused.
	body, ct := multipartBody(
		metadataPart(map[string]any{"title": "Keyed", "kind": "evidence", "classification": "restricted"}),
		part{name: "file", filename: "k.pdf", body: bytes.NewReader(pdfOfSize(9, 200))})
	refused("a keyed upload over the quota", p.do("POST", path, officer, body,
		map[string]string{"Content-Type": ct, "Idempotency-Key": "quota-other"}), "would be exceeded")
	// Used up: refused before the file streams, for a new version too.
	refused("one more file", upload(officer, path, pdfOfSize(4, 200)), "is used up")
	refused("a new version", upload(officer, "/api/v1/documents/"+doc.ID+"/versions", pdfOfSize(5, 200)), "is used up")
	if n := p.count(`SELECT count(*) FROM document_versions v JOIN documents d ON d.id = v.document_id WHERE d.case_id = ?`, caseID); n != 2 {
		t.Errorf("%d versions, want 2", n)
	}

	// Another agency's quota is its own, and its answers say nothing of
	// the first agency's usage.
	r = upload(otherOfficer, "/api/v1/cases/"+otherCase.String()+"/documents", pdfOfSize(6, 2500))
	if r.status != 201 {
		t.Fatalf("another agency's upload: %d\n%s", r.status, r.body)
	}
	r = upload(otherOfficer, "/api/v1/cases/"+otherCase.String()+"/documents", pdfOfSize(7, 600))
	refused("the other agency over its own quota", r, "would be exceeded")
	if !strings.Contains(string(r.body), "2500 bytes uploaded today") {
		t.Errorf("the other agency's refusal should count its own 2500 bytes:\n%s", r.body)
	}
	if u := usage(other); u != 2500 {
		t.Errorf("other agency's usage %d, want 2500", u)
	}
	// The other agency cannot reach the first one's case at all.
	if r = upload(otherOfficer, path, pdfOfSize(8, 200)); r.status != 404 {
		t.Errorf("upload into another agency's case: %d, want 404", r.status)
	}
	// The application role cannot read or write the usage table itself.
	if err := p.db.Exec(`SELECT * FROM upload_usage`).Error; err == nil {
		t.Error("the application role reads upload_usage directly")
	}
}

// The check inside the commit transaction is the one that counts: an
// upload that passed the check before streaming, while another upload of
// the same agency committed meanwhile, is refused when it commits, and
// nothing is charged for it.
func TestUploadQuotaCheckedAtCommit(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "local", 1<<20)
	w.svc.SetAgencyDailyQuota(3000)
	police := w.agency(access.KindImmigrationPolice, "")
	ctx := w.as(police, access.RoleOfficer)
	caseID := w.newCase(police)

	streaming, release := make(chan struct{}), make(chan struct{})
	var (
		wg   sync.WaitGroup
		slow error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, slow = w.svc.Create(ctx, caseID, meta("slow", access.Restricted), func() (documents.File, error) {
			close(streaming) // the check before streaming has passed
			<-release
			return documents.File{Name: "slow.pdf", Body: bytes.NewReader(pdfOfSize(1, 2000))}, nil
		})
	}()
	<-streaming
	w.upload(ctx, caseID, meta("fast", access.Restricted), "fast.pdf", pdfOfSize(2, 2000))
	close(release)
	wg.Wait()
	if !errors.Is(slow, apperr.ErrQuotaExceeded) {
		t.Fatalf("the upload that would exceed the quota at commit: %v, want ErrQuotaExceeded", slow)
	}
	var re *apperr.RetryError
	if !errors.As(slow, &re) || re.After <= 0 || re.After > 24*time.Hour {
		t.Errorf("no Retry-After until midnight on %v", slow)
	}
	if n := w.count(`SELECT count(*) FROM documents WHERE case_id = ?`, caseID); n != 1 {
		t.Errorf("%d documents, want 1", n)
	}
	if n := w.count(`SELECT bytes FROM upload_usage WHERE agency_id = ?`, police.ID); n != 2000 {
		t.Errorf("usage %d, want 2000 (the refused upload charged nothing)", n)
	}
	// Its bytes, durable before the commit was refused, belong to no row:
	// the sweeper removes them (here with no grace).
	res, err := documents.Sweep(w.system(), w.blobs, time.Nanosecond)
	if err != nil || res.Orphans != 1 {
		t.Errorf("sweep after the refusal: %+v %v, want 1 orphan removed", res, err)
	}
}
