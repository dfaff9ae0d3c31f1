package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthcheck asks a running server's /readyz; for container health checks,
// where the image has no curl.
func healthcheck(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := newFlags("healthcheck", stderr)
	addr := fs.String("addr", "", "server address; default $CASEBRIDGE_SERVER_LISTEN or 127.0.0.1:8080")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *addr == "" {
		*addr = lookupEnv(environ, "CASEBRIDGE_SERVER_LISTEN")
	}
	if *addr == "" {
		*addr = "127.0.0.1:8080"
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return &usageError{msg: fmt.Sprintf("--addr: %q is not host:port", *addr)}
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: /readyz answered %s", resp.Status)
	}
	_, err = fmt.Fprintln(stdout, "ready")
	return err
}
