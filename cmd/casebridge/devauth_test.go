package main

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/devidp"
)

// `casebridge dev` prints the demo accounts; every one of them can get a
// token with `casebridge dev token` and /api/v1/me says who it is; and a
// person signs in through the development provider's page in a browser.
func TestDevSignInAndDevToken(t *testing.T) {
	t.Parallel()
	free := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	addr, idpAddr, dir := free(), free(), t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stdout, stderr lockedBuffer
	go func() {
		done <- run(ctx, []string{"dev", "--listen", addr, "--idp-listen", idpAddr, "--data-dir", dir}, nil, &stdout, &stderr)
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("dev did not stop within 30s")
		}
	}()
	waitReady(t, "http://"+addr+"/readyz")
	base := "http://" + addr

	demo, err := devidp.Demo()
	if err != nil {
		t.Fatal(err)
	}
	out := stdout.String()
	for _, a := range demo.Accounts {
		if !strings.Contains(out, a.Username) {
			t.Errorf("dev does not print account %s:\n%s", a.Username, out)
		}
	}

	type me struct {
		Agency struct{ Code string } `json:"agency"`
		Roles  []string              `json:"roles"`
		User   struct{ Name string } `json:"user"`
	}
	for _, a := range demo.Accounts {
		var tokOut, tokErr bytes.Buffer
		if code := run(context.Background(), []string{"dev", "token", "--data-dir", dir, a.Username}, nil, &tokOut, &tokErr); code != 0 {
			t.Fatalf("dev token %s: exit %d: %s", a.Username, code, tokErr.String())
		}
		req, _ := http.NewRequest("GET", base+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(tokOut.String()))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var m me
		err = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil || m.Agency.Code != a.Agency || !slices.Equal(m.Roles, a.Roles) || m.User.Name != a.Name {
			t.Errorf("%s with a dev token: %d %+v", a.Username, resp.StatusCode, m)
		}
	}
	var tokErr bytes.Buffer
	if code := run(context.Background(), []string{"dev", "token", "--data-dir", dir, "nobody"}, nil, io.Discard, &tokErr); code == 0 {
		t.Error("dev token for an unknown account succeeded")
	}

	// A browser: the portal sends it to the provider's page, the button of
	// an account signs it in, and /api/v1/me answers.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := browser.Get(base + "/auth/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindSubmatch(page)
	if m == nil || !strings.Contains(string(page), "Sign in as court-clerk") {
		t.Fatalf("no sign-in page at %s: %s", resp.Request.URL, page)
	}
	action, _ := resp.Request.URL.Parse(html.UnescapeString(string(m[1])))
	resp, err = browser.PostForm(action.String(), url.Values{"account": {"court-clerk"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = browser.Get(base + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	var who me
	err = json.NewDecoder(resp.Body).Decode(&who)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || who.Agency.Code != "pp-court" || !slices.Equal(who.Roles, []string{"clerk"}) {
		t.Errorf("browser sign-in as court-clerk: %d %+v", resp.StatusCode, who)
	}
}

// lockedBuffer is an output buffer safe to read while the command writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
