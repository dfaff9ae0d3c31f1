package app_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/testenv"
)

// Two `serve` instances on one database, each receiving at the same moment
// a screening that makes a possible victim visible to their embassy (one
// clears the flag, the other records consent; the loser of a write race is
// refused with 412 and retried): exactly one notification, round after
// round.
func TestConsularNotificationOnceAcrossTwoInstances(t *testing.T) {
	t.Parallel()
	a := newCaseAPI(t, nil)
	progB, err := app.New(a.cfg, testenv.Open(t, a.appURL), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srvB := httptest.NewServer(progB.HTTP.Handler())
	t.Cleanup(srvB.Close)
	b := *a
	b.base, b.http = srvB.URL, srvB.Client()

	x := a.w.Person("cn-victim")
	path := "/api/v1/persons/" + x.ID.String() + "/screening"
	const rounds = 8
	for i := range rounds {
		var wg sync.WaitGroup
		var ra, rb response
		wg.Add(2)
		// A change that lost the race to the other is refused (412: the
		// person changed while it was saved) and sent again, as a client
		// would.
		send := func(api *caseAPI, body string) response {
			for range 5 {
				r := api.request("ncct-officer", "POST", path, body)
				if r.status != http.StatusPreconditionFailed {
					return r
				}
			}
			return response{status: http.StatusPreconditionFailed}
		}
		go func() {
			defer wg.Done()
			ra = send(a, `{"trafficking_flag": "cleared", "reason": "Interviewed: no indicators."}`)
		}()
		go func() {
			defer wg.Done()
			rb = send(&b, `{"victim_consents_to_embassy": true}`)
		}()
		wg.Wait()
		if ra.status != http.StatusOK || rb.status != http.StatusOK {
			t.Fatalf("round %d: %d on A, %d on B\n%s\n%s", i, ra.status, rb.status, ra.body, rb.body)
		}
		var open, all int64
		a.scan(&open, `SELECT count(*) FROM consular_notifications WHERE person_id = ? AND withdrawn_at IS NULL`, x.ID)
		a.scan(&all, `SELECT count(*) FROM consular_notifications WHERE person_id = ?`, x.ID)
		if open != 1 || all != 1 {
			t.Fatalf("round %d: %d open notifications, %d in all; want exactly one", i, open, all)
		}
		// Back to a possible victim without consent: withdrawn, not deleted.
		a.exec(`UPDATE persons SET trafficking_flag = 'suspected', victim_consents_to_embassy = false WHERE id = ?`, x.ID)
		a.scan(&open, `SELECT count(*) FROM consular_notifications WHERE person_id = ? AND withdrawn_at IS NULL`, x.ID)
		if open != 0 {
			t.Fatalf("round %d: still open after the flag was set again", i)
		}
	}
	r := a.request("emb-cn-liaison", "GET", "/api/v1/consular/nationals/"+x.ID.String(), "")
	if r.status != http.StatusNotFound {
		t.Errorf("the embassy sees the possible victim after the flag was set again: %d", r.status)
	}
}
