package webhooks

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestCheckURL(t *testing.T) {
	strict := Policy{AllowedHosts: []string{"hooks.example.org", "*.embassy.example"}}
	dev := Policy{AllowedHosts: strict.AllowedHosts, AllowLoopback: true}
	for _, c := range []struct {
		p   Policy
		url string
		ok  bool
	}{
		{strict, "https://hooks.example.org/in", true},
		{strict, "https://HOOKS.example.org/in", true},
		{strict, "https://a.embassy.example/x", true},
		{strict, "https://embassy.example/x", false}, // *. is subdomains only
		{strict, "https://hooks.example.org.evil.test/in", false},
		{strict, "http://hooks.example.org/in", false},
		{strict, "https://other.example.org/in", false},
		{strict, "https://10.0.0.5/in", false},
		{strict, "https://169.254.169.254/latest/meta-data", false},
		{strict, "http://127.0.0.1:8080/hook", false},
		{strict, "http://localhost/hook", false},
		{strict, "http://[::1]/hook", false},
		{strict, "https://u:p@hooks.example.org/in", false},
		{strict, "https://hooks.example.org/in#frag", false},
		{strict, "hooks.example.org/in", false},
		{strict, "", false},
		{dev, "http://127.0.0.1:8080/hook", true},
		{dev, "http://localhost:9/hook", true},
		{dev, "ftp://127.0.0.1/hook", false},
		{dev, "http://hooks.example.org/in", false},
	} {
		err := c.p.CheckURL(c.url)
		if (err == nil) != c.ok {
			t.Errorf("CheckURL(%q, loopback %v) = %v, want ok %v", c.url, c.p.AllowLoopback, err, c.ok)
		}
	}
}

func TestAddressGuard(t *testing.T) {
	p := Policy{}
	for _, a := range []string{"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
		"0.0.0.0", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "224.0.0.1", "255.255.255.255"} {
		if err := p.addrAllowed(netip.MustParseAddr(a)); err == nil {
			t.Errorf("%s allowed", a)
		}
	}
	for _, a := range []string{"93.184.216.34", "2606:2800:220:1::1"} {
		if err := p.addrAllowed(netip.MustParseAddr(a)); err != nil {
			t.Errorf("%s refused: %v", a, err)
		}
	}
	if err := (Policy{AllowLoopback: true}).addrAllowed(netip.MustParseAddr("127.0.0.1")); err != nil {
		t.Errorf("loopback refused with AllowLoopback: %v", err)
	}
}

// The delivery client itself refuses an internal address after
// resolution, and follows no redirect.
func TestClientRefusesInternalAndRedirects(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "http://169.254.169.254/latest", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	_, err := Policy{}.Client(time.Second).Get(srv.URL + "/x")
	if !errors.Is(err, ErrRefusedAddress) {
		t.Fatalf("loopback without AllowLoopback: %v, want ErrRefusedAddress", err)
	}
	if hits != 0 {
		t.Fatalf("the refused request reached the server")
	}
	resp, err := Policy{AllowLoopback: true}.Client(time.Second).Get(srv.URL + "/redirect")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || hits != 1 {
		t.Fatalf("redirect: status %d after %d requests; want 302 not followed", resp.StatusCode, hits)
	}
}

func TestSignVerify(t *testing.T) {
	secret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	body := []byte(`{"type":"notification.created"}`)
	sig, err := Sign(secret, "msg_1", ts, body)
	if err != nil || !strings.HasPrefix(sig, "v1,") {
		t.Fatalf("Sign = %q, %v", sig, err)
	}
	if err := Verify(secret, "msg_1", "1700000000", "v1,bogus "+sig, body, ts.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("valid message: %v", err)
	}
	other, _ := NewSecret()
	for name, check := range map[string]error{
		"other secret": Verify(other, "msg_1", "1700000000", sig, body, ts, 5*time.Minute),
		"other id":     Verify(secret, "msg_2", "1700000000", sig, body, ts, 5*time.Minute),
		"other time":   Verify(secret, "msg_1", "1700000001", sig, body, ts, 5*time.Minute),
		"other body":   Verify(secret, "msg_1", "1700000000", sig, []byte(`{}`), ts, 5*time.Minute),
		"too old":      Verify(secret, "msg_1", "1700000000", sig, body, ts.Add(time.Hour), 5*time.Minute),
	} {
		if check == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

func TestSealer(t *testing.T) {
	key := make([]byte, 32)
	key[0] = 7
	s, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	a, b := uuid.New(), uuid.New()
	sealed, err := s.Seal(a, "whsec_abc")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), "whsec_abc") {
		t.Fatal("sealed text holds the secret")
	}
	if got, err := s.Open(a, sealed); err != nil || got != "whsec_abc" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := s.Open(b, sealed); err == nil {
		t.Error("a secret sealed for one agency opens for another")
	}
	key[0] = 8
	s2, _ := NewSealer(key)
	if _, err := s2.Open(a, sealed); err == nil {
		t.Error("opens under another key")
	}
}

func TestBackoff(t *testing.T) {
	base := 30 * time.Second
	for failed, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute,
		5: 8 * time.Minute, 30: 6 * time.Hour} {
		if got := Backoff(base, failed); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", failed, got, want)
		}
	}
}

func TestReceiver(t *testing.T) {
	secret, _ := NewSecret()
	var out strings.Builder
	srv := httptest.NewServer(&Receiver{Secret: secret, Out: &out})
	defer srv.Close()
	body := `{"type":"notification.created","data":{}}`
	send := func(sig string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set(HeaderID, "d1")
		req.Header.Set(HeaderTimestamp, fmt.Sprint(time.Now().Unix()))
		req.Header.Set(HeaderSignature, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good, _ := Sign(secret, "d1", time.Now(), []byte(body))
	if code := send(good); code != http.StatusNoContent {
		t.Errorf("signed: %d", code)
	}
	if code := send("v1,AAAA"); code != http.StatusUnauthorized {
		t.Errorf("unsigned: %d", code)
	}
	if !strings.Contains(out.String(), "notification.created d1 signature ok") || !strings.Contains(out.String(), "REFUSED") {
		t.Errorf("output: %s", out.String())
	}
}
