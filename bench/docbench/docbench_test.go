package docbench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fileSize is the size of the file uploaded and downloaded.
const fileSize = 1 << 30

// rssLimit is the most the server's peak RSS may grow during a transfer.
const rssLimit = 64 << 20

// BenchmarkDocuments uploads and downloads 1 GiB through the real server
// (`casebridge serve`, built from ./cmd/casebridge and run as its own
// process), once per backend, and prints a Markdown table for
// docs/benchmarks.md. It fails when the server's peak RSS grows by 64 MiB or
// more during a transfer. Run it with
//
//	go test -run '^$' -bench Documents -benchtime 1x -timeout 30m ./bench/docbench/
func BenchmarkDocuments(b *testing.B) {
	dir := b.TempDir()
	bin := buildServer(b, dir)
	file := filepath.Join(dir, "evidence.pdf")
	want := writeFile(b, file)
	warm(b, file)
	nginxURL := startNginx(b, dir, filepath.Base(file))

	var rows []string
	for _, backend := range benchBackends() {
		b.Run(backend, func(b *testing.B) {
			// Each anchor runs right before the transfer it is compared
			// with, so both see the same load on the machine.
			anchors := anchors{
				sha256sum: func() time.Duration { return timeSHA256Sum(b, file, want) },
				nginx: func() time.Duration {
					start := time.Now()
					if n := get(b, nginxURL, ""); n != fileSize {
						b.Fatalf("nginx sent %d bytes", n)
					}
					return time.Since(start)
				},
			}
			r := runServer(b, bin, backend, dir, file, want, anchors)
			b.ReportMetric(mibps(r.upload), "upload-MiB/s")
			b.ReportMetric(mibps(r.download), "download-MiB/s")
			b.ReportMetric(r.sha.Seconds()/r.upload.Seconds(), "upload/sha256sum")
			b.ReportMetric(r.nginx.Seconds()/r.download.Seconds(), "download/nginx")
			b.ReportMetric(float64(r.uploadGrowth)/(1<<20), "upload-rss-growth-MiB")
			b.ReportMetric(float64(r.downloadGrowth)/(1<<20), "download-rss-growth-MiB")
			rows = append(rows, fmt.Sprintf("| %s | %.1f s (%.0f MiB/s) | %.1f s (%.0f MiB/s) | **%.2f** | %.2f s (%.0f MiB/s) | %.2f s (%.0f MiB/s) | **%.2f** | %.0f MiB | %.1f MiB | %.1f MiB |",
				backend, r.upload.Seconds(), mibps(r.upload), r.sha.Seconds(), mibps(r.sha), r.sha.Seconds()/r.upload.Seconds(),
				r.download.Seconds(), mibps(r.download), r.nginx.Seconds(), mibps(r.nginx), r.nginx.Seconds()/r.download.Seconds(),
				float64(r.baseRSS)/(1<<20), float64(r.uploadGrowth)/(1<<20), float64(r.downloadGrowth)/(1<<20)))
			if r.uploadGrowth >= rssLimit || r.downloadGrowth >= rssLimit {
				b.Errorf("peak RSS grew by %d MiB (upload) / %d MiB (download); the limit is 64 MiB",
					r.uploadGrowth>>20, r.downloadGrowth>>20)
			}
		})
	}
	var out strings.Builder
	fmt.Fprintf(&out, "\nOne run, %s, 1 GiB file (random bytes behind a PDF header), loopback HTTP, %d CPUs, load average before the run %s.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtimeCPUs(), loadAverage())
	out.WriteString("| backend | upload | sha256sum of the file | upload ÷ sha256sum (throughput) | download | nginx, same file | download ÷ nginx (throughput) | server RSS before | peak RSS growth, upload | peak RSS growth, download |\n")
	out.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		out.WriteString(r + "\n")
	}
	b.Log(out.String())
	fmt.Println(out.String())
}

// anchors time the reference programs.
type anchors struct {
	sha256sum func() time.Duration
	nginx     func() time.Duration
}

func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(data))[:3], " ")
}

func runtimeCPUs() int {
	n := 0
	data, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "processor") {
			n++
		}
	}
	return n
}

func mibps(d time.Duration) float64 { return float64(fileSize) / (1 << 20) / d.Seconds() }

// buildServer builds the real binary.
func buildServer(b *testing.B, dir string) string {
	b.Helper()
	bin := filepath.Join(dir, "casebridge")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/casebridge")
	cmd.Dir = repoRoot(b)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func repoRoot(b *testing.B) string {
	b.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		b.Fatalf("go list -m: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// writeFile writes fileSize pseudo-random bytes behind a PDF header (so
// the type check accepts it) and returns their SHA-256.
func writeFile(b *testing.B, path string) string {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	w := io.MultiWriter(f, h)
	header := []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	if _, err := w.Write(header); err != nil {
		b.Fatal(err)
	}
	rng := rand.NewChaCha8([32]byte{1, 2, 3})
	buf := make([]byte, 1<<20)
	for left := int64(fileSize - len(header)); left > 0; {
		n := min(int64(len(buf)), left)
		_, _ = rng.Read(buf[:n])
		if _, err := w.Write(buf[:n]); err != nil {
			b.Fatal(err)
		}
		left -= n
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// warm reads the file once so every measurement starts from the page cache.
func warm(b *testing.B, path string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(io.Discard, f); err != nil {
		b.Fatal(err)
	}
}

func timeSHA256Sum(b *testing.B, path, want string) time.Duration {
	b.Helper()
	start := time.Now()
	out, err := exec.Command("sha256sum", path).Output()
	d := time.Since(start)
	if err != nil || !strings.HasPrefix(string(out), want) {
		b.Fatalf("sha256sum: %v %s", err, out)
	}
	return d
}

// startNginx serves dir with nginx on loopback (a temporary configuration,
// one worker, sendfile on, as packaged) for the rest of the benchmark and
// returns the URL of name.
func startNginx(b *testing.B, dir, name string) string {
	b.Helper()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
			if _, err := os.Stat(p); err == nil {
				nginx = p
			}
		}
	}
	if nginx == "" {
		b.Fatal("nginx not found (Debian: apt-get install -y nginx)")
	}
	prefix := filepath.Join(dir, "nginx")
	if err := os.MkdirAll(filepath.Join(prefix, "tmp"), 0o755); err != nil {
		b.Fatal(err)
	}
	port := freePort(b)
	// As root, nginx's workers would run as nobody, who may not read the
	// test's private temporary directory.
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	conf := fmt.Sprintf(`daemon off;
%[4]s
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path %[1]s/tmp;
    proxy_temp_path %[1]s/tmp;
    fastcgi_temp_path %[1]s/tmp;
    uwsgi_temp_path %[1]s/tmp;
    scgi_temp_path %[1]s/tmp;
    types { application/pdf pdf; }
    server {
        listen 127.0.0.1:%[2]d;
        root %[3]s;
    }
}
`, prefix, port, dir, user)
	confPath := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(nginx, "-p", prefix, "-c", confPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		_ = cmd.Wait()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d/%s", port, name)
	waitHTTP(b, url, &stderr)
	return url
}

func freePort(b *testing.B) int {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitHTTP(b *testing.B, url string, log fmt.Stringer) {
	b.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Head(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s did not answer: %v\n%s", url, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// get downloads url (with a bearer token when given) and returns the bytes
// received.
func get(b *testing.B, url, token string) int64 {
	b.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(resp.Body)
		b.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

type result struct {
	upload, download             time.Duration
	sha, nginx                   time.Duration // the anchors, timed just before
	baseRSS                      int64
	uploadGrowth, downloadGrowth int64
}

// runServer starts `casebridge serve` on a fresh database and the backend,
// then uploads and downloads the file, measuring time and the server's
// peak RSS.
func runServer(b *testing.B, bin, backend, dir, file, want string, anchors anchors) result {
	b.Helper()
	db := testenv.NewDatabase(b)
	owner := testenv.Open(b, db.OwnerURL)
	idp := testenv.StartIdP(b)
	agencyID, caseID := uuid.New(), uuid.New()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO agencies (id, code, name, kind) VALUES (?, 'bench-police', 'Bench Police', 'immigration_police')`, []any{agencyID}},
		{`INSERT INTO cases (id, reference, owner_agency_id, title, kind) VALUES (?, 'BENCH-1', ?, 'Benchmark', 'illegal_work')`, []any{caseID, agencyID}},
	} {
		if err := owner.Exec(q.sql, q.args...).Error; err != nil {
			b.Fatal(err)
		}
	}
	token := idp.Token("bench-police", "officer")
	skey, _, err := audit.GenerateKey("casebridge.bench/documents")
	if err != nil {
		b.Fatal(err)
	}
	port := freePort(b)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	clientID, secret := idp.RegisterPortal(base)
	set := map[string]string{
		"server.listen":      fmt.Sprintf("127.0.0.1:%d", port),
		"server.public_url":  base,
		"database.url":       db.AppURL,
		"auth.issuer":        idp.Issuer(),
		"auth.client_id":     clientID,
		"auth.client_secret": secret,
		"audit.signing_key":  skey,
		"documents.max_size": strconv.Itoa(2 << 30),
		"log.level":          "warn",
	}
	switch backend {
	case "local":
		set["blob.backend"], set["blob.dir"] = "local", filepath.Join(dir, "blobs-"+uuid.NewString())
	case "s3":
		cfg := testenv.S3(b)
		set["blob.backend"], set["blob.s3_endpoint"], set["blob.s3_bucket"] = "s3", cfg.Endpoint, cfg.Bucket
		set["blob.s3_access_key"], set["blob.s3_secret_key"], set["blob.s3_path_style"] = cfg.AccessKey, cfg.SecretKey, "true"
		defer checkS3(b, cfg, want)
	}
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, config.EnvPrefix) {
			env = append(env, kv)
		}
	}
	for k, v := range set {
		env = append(env, config.EnvName(k)+"="+v)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = env
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	waitHTTP(b, base+"/readyz", &logs)
	pid := cmd.Process.Pid

	// Warm up: one small upload and download, so the baseline includes the
	// server's steady state (pools, TLS-free HTTP, audit sequencer).
	small := upload(b, base, token, caseID, bytes.NewReader([]byte("%PDF-1.7\nwarm up\n")))
	get(b, base+"/api/v1/documents/"+small+"/content", token)

	var r result
	r.sha = anchors.sha256sum()
	resetPeak(b, pid)
	r.baseRSS = status(b, pid, "VmRSS")
	f, err := os.Open(file)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	id := upload(b, base, token, caseID, bufio.NewReaderSize(f, 1<<20))
	r.upload = time.Since(start)
	f.Close()
	r.uploadGrowth = status(b, pid, "VmHWM") - r.baseRSS

	r.nginx = anchors.nginx()
	resetPeak(b, pid)
	base2 := status(b, pid, "VmRSS")
	start = time.Now()
	n := get(b, base+"/api/v1/documents/"+id+"/content", token)
	r.download = time.Since(start)
	r.downloadGrowth = status(b, pid, "VmHWM") - base2
	if n != fileSize {
		b.Fatalf("downloaded %d bytes", n)
	}
	var doc struct {
		SHA256 string `json:"sha256"`
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/documents/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if doc.SHA256 != want {
		b.Fatalf("server recorded sha256 %s, file has %s", doc.SHA256, want)
	}
	return r
}

// checkS3 makes sure the bytes really went to the S3 store.
func checkS3(b *testing.B, cfg blob.S3Config, want string) {
	st, err := blob.NewS3(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	inf, err := st.Stat(context.Background(), want)
	if err != nil || inf.Size != fileSize {
		b.Fatalf("object in S3: %+v, %v", inf, err)
	}
}

// upload posts body as a document of caseID (streamed: metadata part, then
// the file) and returns the new document's id.
func upload(b *testing.B, base, token string, caseID uuid.UUID, body io.Reader) string {
	b.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="metadata"`)
		h.Set("Content-Type", "application/json")
		w, err := mw.CreatePart(h)
		if err == nil {
			_, err = io.WriteString(w, `{"title":"Benchmark evidence","kind":"evidence","classification":"confidential"}`)
		}
		if err == nil {
			w, err = mw.CreateFormFile("file", "evidence.pdf")
		}
		if err == nil {
			_, err = io.Copy(w, body)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest("POST", base+"/api/v1/cases/"+caseID.String()+"/documents", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		ID string `json:"id"`
	}
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 || json.Unmarshal(data, &doc) != nil {
		b.Fatalf("upload: %d %s", resp.StatusCode, data)
	}
	return doc.ID
}

// resetPeak resets the process's peak RSS (VmHWM) to its current RSS.
func resetPeak(b *testing.B, pid int) {
	b.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		b.Fatalf("reset peak RSS: %v", err)
	}
}

// status reads a memory figure (VmRSS, VmHWM) of /proc/PID/status, in bytes.
func status(b *testing.B, pid int, field string) int64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// benchBackends are the blob backends to measure: DOCBENCH_BACKENDS
// (comma-separated) or both.
func benchBackends() []string {
	if v := os.Getenv("DOCBENCH_BACKENDS"); v != "" {
		return strings.Split(v, ",")
	}
	return []string{"local", "s3"}
}
