package webhooks

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Receiver is the small endpoint `casebridge dev` runs on loopback so
// that a new user sees deliveries arrive: it checks each request's
// signature as docs/webhooks.md tells a receiver to, prints one line per
// delivery (and the body), and answers 204 — or 401 to a request whose
// signature does not verify.
type Receiver struct {
	Secret string
	Out    io.Writer
	mu     sync.Mutex
	seen   map[string]bool
}

func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	id := r.Header.Get(HeaderID)
	err = Verify(rc.Secret, id, r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), body, time.Now(), 5*time.Minute)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err != nil {
		fmt.Fprintf(rc.Out, "webhook receiver: REFUSED %s: %v\n", id, err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if rc.seen == nil {
		rc.seen = map[string]bool{}
	}
	repeat := ""
	if rc.seen[id] {
		repeat = " (a repeat: already received; a real receiver drops it)"
	}
	rc.seen[id] = true
	var msg struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(body, &msg)
	fmt.Fprintf(rc.Out, "webhook receiver: %s %s signature ok%s\n  %s\n", msg.Type, id, repeat, body)
	w.WriteHeader(http.StatusNoContent)
}
