package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/devidp"
	"github.com/casebridge/casebridge/internal/store"
	"github.com/casebridge/casebridge/internal/testenv"
)

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) lines() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(b.buf.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// 100 clients go away while their requests wait on the database (the
// cases table is locked, so every case-list statement blocks, and the
// requests that find no free connection wait for one). Each is recorded as
// cancelled, 499 at INFO in the access log and in the metrics, never as a
// 500 ERROR; the pool keeps every connection (it opens no more than its
// size in the whole test: a statement cut short is cancelled by a cancel
// request, and its transaction rolled back on a live connection); requests
// afterwards succeed, and the audit sequencer goes on integrating events.
func TestClientDisconnectsKeepThePool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := testenv.NewDatabase(t)
	const poolSize = 8
	db, err := store.Open(ctx, d.AppURL, store.Options{MaxOpenConns: poolSize, MaxIdleConns: poolSize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close(db) })
	owner := testenv.Open(t, d.OwnerURL)
	if err := owner.Exec(`INSERT INTO agencies (code, name, kind) VALUES ('gdi', 'Immigration', 'immigration_police')`).Error; err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	idp, err := devidp.Start(t.Context(), devidp.Config{Logger: quiet, Clients: []devidp.Client{
		{ID: portalClient, Secret: portalSecret, Name: "CaseBridge", RedirectURIs: []string{"http://127.0.0.1:1/auth/callback"}},
		{ID: "gdi-system", Secret: "gdi-secret", Agency: "gdi", Roles: []string{"officer"}, Name: "GDI system"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Close() })
	cfg := config.Default()
	cfg.Server.PublicURL = "http://127.0.0.1:1"
	cfg.Auth.Issuer, cfg.Auth.ClientID, cfg.Auth.ClientSecret = idp.Issuer(), portalClient, portalSecret
	cfg.Blob.Dir = t.TempDir()
	cfg.Audit.SigningKey = drillAuditKey
	cfg.Audit.SequencerInterval = 50 * time.Millisecond
	logs := &lockedBuffer{}
	prog, err := app.New(cfg, db, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	seqCtx, stopSeq := context.WithCancel(ctx)
	seqDone := make(chan struct{})
	go func() { defer close(seqDone); app.RunAuditSequencer(seqCtx, prog) }()
	t.Cleanup(func() { stopSeq(); <-seqDone })
	srv := httptest.NewServer(prog.HTTP.Handler())
	t.Cleanup(srv.Close)
	cc := clientcredentials.Config{ClientID: "gdi-system", ClientSecret: "gdi-secret", TokenURL: idp.Issuer() + "/oauth2/token"}
	tok, err := cc.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	list := func(ctx context.Context) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/cases", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	if code, err := list(ctx); err != nil || code != http.StatusOK {
		t.Fatalf("case list before: %d %v", code, err)
	}

	// Block every case read, then send 100 requests and wait until the
	// pool is busy with the blocked ones.
	lock := owner.Begin()
	if err := lock.Exec(`LOCK TABLE cases IN ACCESS EXCLUSIVE MODE`).Error; err != nil {
		t.Fatal(err)
	}
	released := false
	release := func() {
		if !released {
			released = true
			if err := lock.Rollback().Error; err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(release) // before the server closes, which waits for its requests
	const clients = 100
	var wg sync.WaitGroup
	cancels := make([]context.CancelFunc, clients)
	for i := range clients {
		cctx, cancel := context.WithCancel(ctx)
		cancels[i] = cancel
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, err := list(cctx); !errors.Is(err, context.Canceled) {
				t.Errorf("a request answered although its client left: %d %v", code, err)
			}
		}()
	}
	waitFor(t, "the pool's connections to block on the lock", 90*time.Second, func() bool {
		var n int
		_ = owner.Raw(`SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'cases'::regclass`).Scan(&n).Error
		return n == poolSize
	})
	for _, cancel := range cancels {
		cancel()
	}
	wg.Wait()
	count499 := func() int {
		n := 0
		for _, l := range logs.lines() {
			if l["msg"] == "request" && l["status"] == float64(499) {
				n++
			}
		}
		return n
	}
	waitFor(t, "the server to record the 100 cancelled requests", 90*time.Second, func() bool { return count499() >= clients })
	release()

	for i := range 20 {
		if code, err := list(ctx); err != nil || code != http.StatusOK {
			t.Fatalf("case list %d after the disconnects: %d %v", i, code, err)
		}
	}
	if n := store.ConnectionsOpened(db); n > poolSize {
		t.Errorf("the pool opened %d connections for a pool of %d: connections were lost", n, poolSize)
	}
	if st := store.PoolStats(db); st.OpenConnections > poolSize {
		t.Errorf("pool stats: %+v", st)
	}
	if n := count499(); n != clients {
		t.Errorf("%d requests logged 499, want %d", n, clients)
	}
	for _, l := range logs.lines() {
		if l["level"] == "ERROR" {
			t.Errorf("ERROR logged: %v", l)
		}
		if b, _ := json.Marshal(l); strings.Contains(string(b), "bad connection") {
			t.Errorf("bad connection: %s", b)
		}
	}
	// Metrics count them as 499.
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `casebridge_http_requests_total{method="GET",route="/api/v1/cases",status="499"} 100`) {
		var got []string
		for _, l := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(l, "casebridge_http_requests_total") {
				got = append(got, l)
			}
		}
		t.Errorf("metrics do not count 100 cancelled requests:\n%s", strings.Join(got, "\n"))
	}
	// The sequencer integrates every event, including the ones after.
	waitFor(t, "the audit sequencer to integrate every event", 90*time.Second, func() bool {
		var pending int
		_ = owner.Raw(`SELECT count(*) FROM audit_queue`).Scan(&pending).Error
		return pending == 0
	})
	var events, leaves int
	if err := owner.Raw(`SELECT (SELECT count(*) FROM audit_events), (SELECT count(*) FROM audit_leaves)`).Row().Scan(&events, &leaves); err != nil {
		t.Fatal(err)
	}
	if events != leaves || events < 21 {
		t.Errorf("audit: %d events, %d integrated", events, leaves)
	}
}
