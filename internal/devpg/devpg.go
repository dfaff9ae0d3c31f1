// Package devpg runs a private PostgreSQL cluster for `casebridge dev` and the
// tests: initdb into a directory of ours, postgres on a free loopback port
// with password authentication, and the bootstrap of CaseBridge's two roles
// and database. It never touches the machine's system cluster.
package devpg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Role names, fixed because the migrations grant to them by name.
const (
	OwnerRole = "casebridge_owner"
	AppRole   = "casebridge_app"
)

// ErrNoPostgres means the PostgreSQL server programs are not installed.
var ErrNoPostgres = errors.New("initdb not found: install the PostgreSQL server (Debian: apt-get install postgresql)")

// Cluster is a running private PostgreSQL server.
type Cluster struct {
	Dir   string // the cluster's parent directory (holds pg/, credentials.json, postgres.log)
	Port  int
	creds credentials
	cmd   *exec.Cmd
	done  chan error
}

type credentials struct {
	Superuser string `json:"superuser_password"`
	Owner     string `json:"owner_password"`
	App       string `json:"app_password"`
}

// Options for Start.
type Options struct {
	// Database is created at bootstrap, owned by OwnerRole. Empty: "casebridge".
	Database string
	// Log receives progress lines; nil discards them.
	Log func(format string, args ...any)
	// Ephemeral clusters (tests) die with the calling process.
	Ephemeral bool
}

// Start starts (initialising on first use) the cluster kept under dir.
func Start(ctx context.Context, dir string, opt Options) (*Cluster, error) {
	if opt.Database == "" {
		opt.Database = "casebridge"
	}
	logf := opt.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", dir, err)
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir}
	pgdata := filepath.Join(dir, "pg")
	fresh := false
	if _, err := os.Stat(filepath.Join(pgdata, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		logf("initialising a private PostgreSQL cluster in %s", pgdata)
		if err := c.initdb(ctx, bin, pgdata, cred); err != nil {
			return nil, err
		}
		fresh = true
	} else if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := c.loadCreds(); err != nil {
		return nil, err
	}
	if cred != nil {
		if err := makeReachable(pgdata, cred); err != nil {
			return nil, err
		}
	}
	var lastErr error
	for range 3 {
		if lastErr = c.start(ctx, bin, pgdata, cred, opt.Ephemeral); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		return nil, lastErr
	}
	if fresh {
		if err := c.bootstrap(ctx, opt.Database); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// findBinDir finds the directory holding initdb and postgres: PATH first,
// then Debian's /usr/lib/postgresql/<version>/bin, newest version first.
func findBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("postgres"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
	for _, m := range matches {
		return filepath.Dir(m), nil
	}
	return "", ErrNoPostgres
}

func versionOf(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

// runAs returns the credential of the postgres OS user when we are root
// (PostgreSQL refuses to run as root), else nil.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("running as root needs the postgres OS user to run PostgreSQL (Debian: apt-get install postgresql)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil // #nosec G115 -- uid and gid of the postgres OS user from the user database fit in 32 bits
}

// makeReachable lets the postgres OS user reach pgdata: it owns pgdata, and
// every ancestor directory grants it search (x) permission. Only search is
// added, never read: directory listings stay private.
func makeReachable(pgdata string, cred *syscall.Credential) error {
	if err := os.Chown(pgdata, int(cred.Uid), int(cred.Gid)); err != nil {
		return fmt.Errorf("hand %s to the postgres user: %w", pgdata, err)
	}
	for d := filepath.Dir(pgdata); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, fi.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("let the postgres user reach %s: %w", d, err)
			}
		}
		if d == "/" {
			return nil
		}
	}
}

func (c *Cluster) credsPath() string { return filepath.Join(c.Dir, "credentials.json") }

func (c *Cluster) loadCreds() error {
	data, err := os.ReadFile(c.credsPath())
	if err != nil {
		return fmt.Errorf("read cluster credentials: %w", err)
	}
	if err := json.Unmarshal(data, &c.creds); err != nil {
		return fmt.Errorf("read cluster credentials %s: %w", c.credsPath(), err)
	}
	return nil
}

func (c *Cluster) initdb(ctx context.Context, bin, pgdata string, cred *syscall.Credential) error {
	creds := credentials{Superuser: secret(), Owner: secret(), App: secret()}
	if err := os.MkdirAll(pgdata, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", pgdata, err)
	}
	pwfile := filepath.Join(c.Dir, ".pwfile")
	if err := os.WriteFile(pwfile, []byte(creds.Superuser+"\n"), 0o600); err != nil {
		return fmt.Errorf("write password file: %w", err)
	}
	if cred != nil {
		if err := makeReachable(pgdata, cred); err != nil {
			return err
		}
		if err := os.Chown(pwfile, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("hand password file to postgres: %w", err)
		}
	}
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), // #nosec G204 -- initdb from the PostgreSQL bin directory found on the machine, with arguments built here
		"-D", pgdata, "-U", "postgres", "--pwfile", pwfile,
		"--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C.UTF-8", "--no-instructions")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	_ = os.Remove(pwfile)
	if err != nil {
		_ = os.RemoveAll(pgdata)
		return fmt.Errorf("initdb: %w: %s", err, strings.TrimSpace(string(out)))
	}
	data, _ := json.MarshalIndent(creds, "", "  ")
	if err := os.WriteFile(c.credsPath(), data, 0o600); err != nil {
		return fmt.Errorf("write cluster credentials: %w", err)
	}
	return nil
}

func (c *Cluster) start(ctx context.Context, bin, pgdata string, cred *syscall.Credential, ephemeral bool) error {
	stopStale(pgdata)
	port, err := freePort()
	if err != nil {
		return err
	}
	logFile, err := os.OpenFile(filepath.Join(c.Dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open postgres log: %w", err)
	}
	defer logFile.Close()
	args := []string{"-D", pgdata, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
		"-c", "max_connections=200", "-c", "shared_buffers=128MB"}
	if ephemeral {
		// Test clusters are thrown away: durability buys nothing there.
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...) // #nosec G204 -- postgres from the PostgreSQL bin directory found on the machine, with arguments built here
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own process group: a Ctrl-C at the terminal reaches us, and we stop
	// the cluster cleanly, instead of reaching postgres directly.
	attr := &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	if ephemeral {
		attr.Pdeathsig = syscall.SIGQUIT
	} else {
		attr.Pdeathsig = syscall.SIGINT
	}
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.cmd, c.Port, c.done = cmd, port, make(chan error, 1)
	go func() { c.done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-c.done:
			return fmt.Errorf("postgres exited at start (%v); see %s", err, filepath.Join(c.Dir, "postgres.log"))
		case <-ctx.Done():
			c.Stop()
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		conn, err := pgx.Connect(ctx, c.SuperuserURL("postgres"))
		if err == nil {
			_ = conn.Close(ctx)
			return nil
		}
	}
	c.Stop()
	return fmt.Errorf("postgres did not accept connections within 60s; see %s", filepath.Join(c.Dir, "postgres.log"))
}

// stopStale stops a server left running on pgdata by a process that died
// without stopping it.
func stopStale(pgdata string) {
	data, err := os.ReadFile(filepath.Join(pgdata, "postmaster.pid")) // #nosec G304 -- the cluster directory the operator chose (dev data dir), not request input
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0]))
	if err != nil || pid <= 0 {
		return
	}
	if syscall.Kill(pid, syscall.SIGINT) != nil {
		return
	}
	for range 100 {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *Cluster) bootstrap(ctx context.Context, database string) error {
	conn, err := pgx.Connect(ctx, c.SuperuserURL("postgres"))
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	defer conn.Close(ctx)
	for _, stmt := range BootstrapSQL(c.creds.Owner, c.creds.App) {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{database}.Sanitize()+" OWNER "+OwnerRole); err != nil {
		return fmt.Errorf("bootstrap: create database: %w", err)
	}
	return nil
}

// BootstrapSQL creates CaseBridge's two roles when they do not exist yet. The
// application role may log in but owns nothing, creates nothing and cannot
// bypass Row-Level Security.
func BootstrapSQL(ownerPassword, appPassword string) []string {
	return []string{
		fmt.Sprintf(`DO $$ BEGIN
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%[1]s') THEN
				CREATE ROLE %[1]s LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS PASSWORD %[2]s;
			END IF;
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%[3]s') THEN
				CREATE ROLE %[3]s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION PASSWORD %[4]s;
			END IF;
		END $$`, OwnerRole, quote(ownerPassword), AppRole, quote(appPassword)),
	}
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Stop shuts the cluster down (fast shutdown: open sessions are ended,
// committed work is kept).
func (c *Cluster) Stop() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	c.cmd = nil
}

func (c *Cluster) url(userName, password, database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(userName, password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// SuperuserURL connects as the cluster's superuser.
func (c *Cluster) SuperuserURL(database string) string {
	return c.url("postgres", c.creds.Superuser, database)
}

// OwnerURL connects as the owner role (migrations).
func (c *Cluster) OwnerURL(database string) string {
	return c.url(OwnerRole, c.creds.Owner, database)
}

// AppURL connects as the application role (the server).
func (c *Cluster) AppURL(database string) string {
	return c.url(AppRole, c.creds.App, database)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func secret() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// BinDir is the directory of the PostgreSQL programs (initdb, pg_dump,
// pg_restore, …) that Start uses.
func BinDir() (string, error) { return findBinDir() }

// Crash stops the cluster the way `pg_ctl stop -m immediate` does
// (SIGQUIT to the postmaster: no checkpoint, crash recovery at the next
// start), for fault drills. Start on the same directory brings it back.
func (c *Cluster) Crash() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	c.cmd = nil
}
