package app_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/config"
)

// The profiles are off by default, served only on the separate loopback
// listener when asked for, and never by the portal itself.
func TestPprofListener(t *testing.T) {
	t.Parallel()
	if config.Default().Server.PprofListen != "" {
		t.Error("server.pprof_listen is on by default")
	}
	for _, bad := range []string{"0.0.0.0:6060", "10.1.2.3:6060", ":6060", "example.org:6060"} {
		cfg := config.Default()
		cfg.Server.PprofListen = bad
		if err := cfg.Validate("dev"); err == nil || !strings.Contains(err.Error(), "server.pprof_listen") {
			t.Errorf("pprof_listen %q accepted: %v", bad, err)
		}
	}
	addr, err := app.StartPprof(t.Context(), "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr.String() + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("pprof cmdline: %d", resp.StatusCode)
	}
	a := newCaseAPI(t, nil)
	r, err := http.Get(a.base + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode == http.StatusOK {
		t.Error("the portal serves /debug/pprof")
	}
}
