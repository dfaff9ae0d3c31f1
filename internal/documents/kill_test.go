package documents_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/store"
)

// childServerEnv makes the test binary run as a server (see TestMain). Its
// settings come from CASEBRIDGE_* variables, as for `casebridge serve`.
const childServerEnv = "CB_DOCUMENTS_TEST_SERVER"

// runChildServer is `casebridge serve` inside the test binary: it prints its
// address on the first line of stdout and serves until killed.
func runChildServer() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := config.Load("", os.Environ())
	if err == nil {
		err = cfg.Validate("serve")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	log := app.NewLogger(cfg.Log)
	ln, err := app.Listen("server.listen", cfg.Server.Listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer store.Close(db) //nolint:errcheck
	prog, err := app.New(cfg, db, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println(ln.Addr().String())
	if err := prog.Serve(ctx, ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// child is a server process.
type child struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
}

// startChild runs the test binary as a server with the portal's settings
// (as environment variables) plus extra ones.
func (p *portal) startChild(extra ...string) *child {
	p.t.Helper()
	env := []string{childServerEnv + "=1"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, config.EnvPrefix) || strings.HasPrefix(kv, "CASEBRIDGE_TEST_DATABASE_URL=") {
			env = append(env, kv)
		}
	}
	cfg := p.cfg
	set := map[string]string{
		"server.listen":            "127.0.0.1:0",
		"server.public_url":        p.base,
		"database.url":             cfg.Database.URL,
		"auth.issuer":              cfg.Auth.Issuer,
		"auth.client_id":           cfg.Auth.ClientID,
		"auth.client_secret":       cfg.Auth.ClientSecret,
		"documents.max_size":       fmt.Sprint(cfg.Documents.MaxSize),
		"blob.backend":             cfg.Blob.Backend,
		"blob.dir":                 cfg.Blob.Dir,
		"blob.s3_endpoint":         cfg.Blob.S3Endpoint,
		"blob.s3_region":           cfg.Blob.S3Region,
		"blob.s3_bucket":           cfg.Blob.S3Bucket,
		"blob.s3_access_key":       cfg.Blob.S3AccessKey,
		"blob.s3_secret_key":       cfg.Blob.S3SecretKey,
		"blob.s3_path_style":       fmt.Sprint(cfg.Blob.S3PathStyle),
		"blob.s3_part_size":        fmt.Sprint(max(cfg.Blob.S3PartSize, 5<<20)),
		"log.level":                "warn",
		"documents.sweep_interval": "1h",
		"audit.signing_key":        auditKey(p.t),
	}
	for k, v := range set {
		env = append(env, config.EnvName(k)+"="+v)
	}
	env = append(env, extra...)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = env
	cmd.Stderr = &prefixWriter{t: p.t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		p.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(c.done) }()
	p.t.Cleanup(func() { _ = cmd.Process.Kill(); <-c.done })
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case a := <-addr:
		if a == "" {
			p.t.Fatal("child server did not start")
		}
		c.base = "http://" + a
	case <-time.After(60 * time.Second):
		p.t.Fatal("child server did not start within 60s")
	}
	return c
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.done
}

// auditKey is a fresh signing key for the audit log's checkpoints.
func auditKey(t *testing.T) string {
	skey, _, err := audit.GenerateKey("casebridge.test/documents")
	if err != nil {
		t.Fatal(err)
	}
	return skey
}

type prefixWriter struct{ t *testing.T }

func (w *prefixWriter) Write(b []byte) (int, error) {
	w.t.Logf("server: %s", strings.TrimSpace(string(b)))
	return len(b), nil
}

// TestKillMidUpload kills the server process (SIGKILL) while a large file is
// streaming in. Afterwards no document row exists for it, no object sits at
// a content address, and once the server is back its sweeper removes the
// partial bytes.
func TestKillMidUpload(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			p := newPortal(t, backend, 2<<30)
			police := p.agency(access.KindImmigrationPolice, "")
			token := p.token(police, access.RoleOfficer)
			caseID := p.newCase(police)
			srv := p.startChild()

			// Stream 1 GiB at most; the server dies long before the end.
			sent := make(chan int64, 1)
			body, ct := multipartBody(
				metadataPart(map[string]any{"title": "Evidence video", "kind": "evidence", "classification": "confidential"}),
				part{name: "file", filename: "big.pdf", body: &meteredReader{r: io.MultiReader(strings.NewReader(string(pdf(1))),
					io.LimitReader(zeros{}, 1<<30)), sent: sent}})
			req, err := http.NewRequest("POST", srv.base+"/api/v1/cases/"+caseID.String()+"/documents", body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer "+token)
			reqDone := make(chan error, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					err = fmt.Errorf("upload answered %d %s", resp.StatusCode, b)
				}
				reqDone <- err
			}()
			// Wait until the server has stored a good part of the file.
			deadline := time.Now().Add(60 * time.Second)
			for {
				if left := p.leftovers(); len(left) > 0 && partialBytes(left) >= 24<<20 {
					t.Logf("partial upload before the kill: %v", left)
					break
				}
				select {
				case err := <-reqDone:
					t.Fatalf("upload ended before the kill: %v", err)
				default:
				}
				if time.Now().After(deadline) {
					t.Fatalf("no partial upload data after 60s: %v", p.leftovers())
				}
				time.Sleep(20 * time.Millisecond)
			}
			srv.kill(t)
			if err := <-reqDone; err == nil {
				t.Fatal("the upload succeeded although the server was killed")
			}

			// Nothing was committed, nothing is at a content address; the
			// partial bytes are there.
			for _, table := range []string{"documents", "document_versions", "blobs"} {
				if n := p.count(`SELECT count(*) FROM ` + table); n != 0 {
					t.Fatalf("%d rows in %s after the kill", n, table)
				}
			}
			if objs := p.objects(); len(objs) != 0 {
				t.Fatalf("objects at content addresses after the kill: %v", objs)
			}
			if len(p.leftovers()) == 0 {
				t.Fatal("the kill left no partial data: the test proves nothing")
			}

			// Restart; the server's own sweeper (short grace here) removes
			// the partial bytes.
			srv = p.startChild(config.EnvName("documents.sweep_interval")+"=500ms",
				config.EnvName("documents.sweep_grace")+"=1s")
			deadline = time.Now().Add(30 * time.Second)
			for len(p.leftovers()) > 0 {
				if time.Now().After(deadline) {
					t.Fatalf("partial upload data still there 30s after restart: %v", p.leftovers())
				}
				time.Sleep(100 * time.Millisecond)
			}
			if n := p.count(`SELECT count(*) FROM documents`); n != 0 {
				t.Fatalf("%d documents after restart", n)
			}
			// And the restarted server works.
			small, ct := multipartBody(
				metadataPart(map[string]any{"title": "After restart", "kind": "evidence", "classification": "public"}),
				part{name: "file", filename: "a.pdf", body: strings.NewReader(string(pdf(2)))})
			req, _ = http.NewRequest("POST", srv.base+"/api/v1/cases/"+caseID.String()+"/documents", small)
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 201 {
				t.Fatalf("upload after restart: %d", resp.StatusCode)
			}
		})
	}
}

// partialBytes adds up the sizes in leftovers descriptions.
func partialBytes(left []string) int64 {
	var total int64
	for _, l := range left {
		var n int64
		if i := strings.LastIndex(l, "("); i >= 0 {
			_, _ = fmt.Sscanf(l[i:], "(%d bytes)", &n)
		}
		total += n
	}
	return total
}

type meteredReader struct {
	r    io.Reader
	n    int64
	sent chan int64
}

func (m *meteredReader) Read(b []byte) (int, error) {
	n, err := m.r.Read(b)
	m.n += int64(n)
	select {
	case m.sent <- m.n:
	default:
	}
	return n, err
}
