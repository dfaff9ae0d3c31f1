package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/casebridge/casebridge/internal/blob"
)

// VersityGW is the S3 server the tests run against, installed with
// `go install` when it is not on the machine yet.
const VersityGW = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"

var (
	s3Once    sync.Once
	s3Srv     *s3Server
	s3Err     error
	s3Buckets atomic.Int64
)

// s3Server is one versitygw process with its POSIX backend on a temp dir.
type s3Server struct {
	endpoint string
	access   string
	secret   string
	dir      string
	cmd      *exec.Cmd
	exited   chan struct{}
}

// S3 returns the settings of a fresh, empty bucket on a real S3 server
// (Versity's versitygw, POSIX backend) listening on loopback. The server is
// started once per test process and stopped by Main; every call gets its own
// bucket, so tests are isolated.
func S3(t testing.TB) blob.S3Config {
	t.Helper()
	if !mainCalled.Load() {
		t.Fatal("testenv: declare func TestMain(m *testing.M) { testenv.Main(m) } in this package")
	}
	s3Once.Do(func() { s3Srv, s3Err = startS3() })
	if s3Err != nil {
		t.Fatalf("testenv: s3 server: %v", s3Err)
	}
	cfg := blob.S3Config{
		Endpoint:  s3Srv.endpoint,
		Region:    "us-east-1",
		Bucket:    fmt.Sprintf("cb-test-%d-%d", os.Getpid(), s3Buckets.Add(1)),
		AccessKey: s3Srv.access,
		SecretKey: s3Srv.secret,
		PathStyle: true,
	}
	ctx := context.Background()
	st, err := blob.NewS3(ctx, cfg)
	if err != nil {
		t.Fatalf("testenv: s3 client: %v", err)
	}
	if _, err := st.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(cfg.Bucket)}); err != nil {
		t.Fatalf("testenv: create bucket %s: %v", cfg.Bucket, err)
	}
	return cfg
}

// S3Dir is the POSIX directory behind a bucket of S3 (for tests that tamper
// with stored objects behind the server's back).
func S3Dir(t testing.TB, cfg blob.S3Config) string {
	t.Helper()
	if s3Srv == nil {
		t.Fatal("testenv: S3Dir before S3")
	}
	return filepath.Join(s3Srv.dir, "data", cfg.Bucket)
}

// versitygwPath finds the versitygw binary: on PATH (make test puts the
// pinned tools there), in $GOBIN or $(go env GOPATH)/bin; failing all it
// runs `go install` of the pinned version.
func versitygwPath() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		out, err := exec.Command("go", "env", "GOPATH").Output()
		if err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	var candidates []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		candidates = append(candidates, filepath.Join(gobin, "versitygw"))
	}
	for _, p := range filepath.SplitList(gopath) {
		candidates = append(candidates, filepath.Join(p, "bin", "versitygw"))
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, nil
		}
	}
	cmd := exec.Command("go", "install", VersityGW)
	cmd.Dir = os.TempDir() // outside the module: install the pinned version as a tool
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %w\n%s", VersityGW, err, out)
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("versitygw not found after go install (looked in %s)", strings.Join(candidates, ", "))
}

func startS3() (*s3Server, error) {
	bin, err := versitygwPath()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "casebridge-test-s3-")
	if err != nil {
		return nil, err
	}
	s := &s3Server{dir: dir, access: "cbtest" + randomHex(6), secret: randomHex(20)}
	OnExit(s.stop)
	var lastErr error
	for range 5 { // the free port may be taken between probe and bind
		if lastErr = s.start(bin); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

func (s *s3Server) start(bin string) error {
	port, err := freeLoopbackPort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logFile, err := os.Create(filepath.Join(s.dir, "versitygw-"+strconv.Itoa(port)+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(bin,
		"--port", addr,
		"--access", s.access,
		"--secret", s.secret,
		"--region", "us-east-1",
		"--quiet",
		"posix", filepath.Join(s.dir, "data"))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID=", "ROOT_SECRET_ACCESS_KEY=")
	// Die with the test process even when it is killed: the parent-death
	// signal fires when the thread that started the child exits, so start
	// it from a goroutine whose locked thread lives as long as the process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := os.MkdirAll(filepath.Join(s.dir, "data"), 0o700); err != nil {
		return err
	}
	started := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the process
		if err := cmd.Start(); err != nil {
			started <- err
			close(exited)
			select {}
		}
		started <- nil
		_ = cmd.Wait()
		_ = logFile.Close()
		close(exited)
		select {}
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start versitygw: %w", err)
	}
	endpoint := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-exited:
			log, _ := os.ReadFile(logFile.Name())
			return fmt.Errorf("versitygw exited at start: %s", strings.TrimSpace(string(log)))
		default:
		}
		resp, err := http.Get(endpoint + "/")
		if err == nil {
			_ = resp.Body.Close()
			s.endpoint, s.cmd, s.exited = endpoint, cmd, exited
			return nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			return errors.New("versitygw did not answer within 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *s3Server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	_ = os.RemoveAll(s.dir)
}

func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
