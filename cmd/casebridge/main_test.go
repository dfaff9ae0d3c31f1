package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// Each startup failure ends with exit status 2 and exactly one line that
// names the setting or resource at fault — never a stack trace.
func TestStartupFailuresAreOneLineExit2(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	closed.Close()
	badYAML := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(badYAML, []byte("server:\n  listne: 1\n"), 0o600) //nolint:errcheck
	db := testenv.NewDatabase(t)

	cases := []struct {
		name  string
		args  []string
		env   []string
		wants []string // substrings of the one line
	}{
		{"wrong value", []string{"serve"},
			[]string{"CASEBRIDGE_DATABASE_URL=" + db.AppURL, auditKeyEnv, "CASEBRIDGE_SERVER_LISTEN=not-an-address"},
			[]string{"server.listen", "not-an-address"}},
		{"wrong duration", []string{"serve"},
			[]string{"CASEBRIDGE_DATABASE_URL=" + db.AppURL, auditKeyEnv, "CASEBRIDGE_SERVER_IDLE_TIMEOUT=soon"},
			[]string{"server.idle_timeout", "soon"}},
		{"missing required setting", []string{"serve"}, nil,
			[]string{"database.url", "must be set"}},
		{"missing config file", []string{"serve", "--config", "/nonexistent/casebridge.yaml"}, nil,
			[]string{"/nonexistent/casebridge.yaml", "does not exist"}},
		{"unknown key in config file", []string{"serve", "--config", badYAML}, nil,
			[]string{"listne"}},
		{"unknown environment variable", []string{"serve"},
			[]string{"CASEBRIDGE_DATABASE_URL=" + db.AppURL, auditKeyEnv, "CASEBRIDGE_SERVER_LISTN=x"},
			[]string{"CASEBRIDGE_SERVER_LISTN"}},
		{"unreachable database", []string{"serve"},
			[]string{"CASEBRIDGE_DATABASE_URL=postgres://u:secretpw@" + closedAddr + "/x?sslmode=disable", auditKeyEnv,
				"CASEBRIDGE_SERVER_LISTEN=127.0.0.1:0", "CASEBRIDGE_DATABASE_CONNECT_TIMEOUT=2s"},
			[]string{"database.url"}},
		{"busy port", []string{"serve"},
			[]string{"CASEBRIDGE_DATABASE_URL=" + db.AppURL, auditKeyEnv, "CASEBRIDGE_SERVER_LISTEN=" + busy.Addr().String()},
			[]string{"server.listen", busy.Addr().String(), "already in use"}},
		{"busy port in dev", []string{"dev", "--listen", busy.Addr().String(), "--data-dir", t.TempDir()}, nil,
			[]string{"--listen", busy.Addr().String(), "already in use"}},
		{"unknown command", []string{"frobnicate"}, nil, []string{"unknown command"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			code := run(ctx, tc.args, tc.env, &stdout, &stderr)
			if code != 2 {
				t.Fatalf("exit status %d, want 2; stderr: %s", code, stderr.String())
			}
			out := stderr.String()
			if tc.name != "unknown command" {
				if n := strings.Count(strings.TrimRight(out, "\n"), "\n"); n != 0 {
					t.Fatalf("want one line, got %d:\n%s", n+1, out)
				}
			}
			for _, w := range tc.wants {
				if !strings.Contains(out, w) {
					t.Errorf("stderr %q does not name %q", out, w)
				}
			}
			for _, leak := range []string{"secretpw", "goroutine", "panic"} {
				if strings.Contains(out, leak) {
					t.Errorf("stderr leaks %q: %s", leak, out)
				}
			}
		})
	}
}

// serve answers /readyz and stops cleanly when its context ends (SIGTERM
// in production), letting an in-flight request finish.
func TestServeReadyAndGracefulStop(t *testing.T) {
	t.Parallel()
	db := testenv.NewDatabase(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve"}, []string{"CASEBRIDGE_DATABASE_URL=" + db.AppURL, auditKeyEnv,
			"CASEBRIDGE_SERVER_LISTEN=" + addr}, &bytes.Buffer{}, &stderr)
	}()
	waitReady(t, "http://"+addr+"/readyz")
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d after stop: %s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20s")
	}
}
