// Command httpbench is `make bench`: the real server (app.New, the router,
// sign-in by bearer tokens from the development provider) on a private
// cluster seeded at the planning scale, measured with public tools so that
// every figure is a ratio taken in the same run:
//
//   - wrk (with bench/wrk/bearer.lua for the Authorization header) against
//     the API: the embassy's nationals list, the case list, a case page and a
//     person page, and the case list of an embassy that sees a few cases;
//   - pgbench running the server's own statements for the same request —
//     captured from the server's pool by a tracer while it answers one
//     request (the agency check, BEGIN, the principal setup, the queries,
//     the audit INSERT, COMMIT), not re-typed — at the same concurrency;
//
// each pair interleaved, in random order, for -rounds rounds. It also takes
// a CPU profile of the server during the case list (bench/out/...cpu.prof)
// and reports the server's RSS. The cluster is kept in -data-dir and reused
// (seeded only up to -persons).
//
//	go run ./bench/cmd/httpbench -persons 1000000
package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/casebridge/casebridge/bench"
	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/config"
	"github.com/casebridge/casebridge/internal/devidp"
	"github.com/casebridge/casebridge/internal/devpg"
	"github.com/casebridge/casebridge/internal/seed"
	"github.com/casebridge/casebridge/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "httpbench:", err)
		os.Exit(1)
	}
}

type workload struct {
	name, client, path string
	token              string
	script             string // pgbench script file
	stmts              int
}

type result struct {
	rps, p50, p99 float64 // p in ms
	bad           int     // non-2xx responses or failed transactions
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("httpbench", flag.ContinueOnError)
	persons := fs.Int("persons", 1_000_000, "persons to seed (cases: persons/5)")
	dataDir := fs.String("data-dir", "", "directory of the private cluster, kept between runs (default bench/out/scale-<persons>)")
	out := fs.String("out", "bench/out", "directory for scripts, logs, profiles and the report")
	duration := fs.Duration("duration", 15*time.Second, "length of each measurement")
	rounds := fs.Int("rounds", 3, "rounds of every pair")
	connList := fs.String("conns", "16,64", "concurrencies")
	pool := fs.Int("pool", 20, "the server's database.max_open_conns")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dataDir == "" {
		*dataDir = filepath.Join(*out, fmt.Sprintf("scale-%d", *persons))
	}
	var conns []int
	for _, c := range strings.Split(*connList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			return fmt.Errorf("-conns: %q", c)
		}
		conns = append(conns, n)
	}
	for _, tool := range []string{"wrk", "pgbench"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: run .ci/deps bench", tool)
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	logf := func(f string, a ...any) { fmt.Fprintf(os.Stderr, "httpbench: "+f+"\n", a...) }

	// The cluster, migrated and seeded.
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		return err
	}
	cluster, err := devpg.Start(ctx, dir, devpg.Options{Log: logf, Ephemeral: true})
	if err != nil {
		return fmt.Errorf("private PostgreSQL: %w", err)
	}
	defer cluster.Stop()
	ownerURL, appURL := cluster.OwnerURL("casebridge"), cluster.AppURL("casebridge")
	if _, err := store.Migrate(ctx, ownerURL, -1); err != nil {
		return err
	}
	owner, err := store.Open(ctx, ownerURL, store.Options{MaxOpenConns: 2})
	if err != nil {
		return err
	}
	defer store.Close(owner) //nolint:errcheck
	var have int64
	if err := owner.Raw("SELECT count(*) FROM persons").Scan(&have).Error; err != nil {
		return err
	}
	if int(have) < *persons {
		logf("seeding %d persons (the database has %d)", *persons-int(have), have)
		if _, err := seed.Run(ctx, ownerURL, seed.Options{Persons: *persons - int(have), Seed: 1, Vacuum: true, Log: logf}); err != nil {
			return err
		}
	}
	var sizes struct{ Persons, Cases int64 }
	if err := owner.Raw(`SELECT (SELECT count(*) FROM persons) AS persons, (SELECT count(*) FROM cases) AS cases`).Scan(&sizes).Error; err != nil {
		return err
	}
	cur, err := bench.FindCursors(ctx, owner, "CN")
	if err != nil {
		return err
	}

	// The provider and the server.
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	clients := []devidp.Client{{ID: "casebridge-portal", Secret: "bench-portal-secret", Name: "CaseBridge",
		RedirectURIs: []string{"http://127.0.0.1:1/auth/callback"}}}
	for _, c := range []struct{ id, agency, role string }{
		{"bench-emb-cn", "emb-cn", "liaison"}, {"bench-emb-au", "emb-au", "liaison"}, {"bench-gdi", "gdi", "officer"}} {
		clients = append(clients, devidp.Client{ID: c.id, Secret: c.id + "-secret", Agency: c.agency, Roles: []string{c.role}, Name: c.id})
	}
	idp, err := devidp.Start(ctx, devidp.Config{Clients: clients, Logger: quiet, AccessTokenLifespan: 12 * time.Hour})
	if err != nil {
		return err
	}
	defer idp.Close() //nolint:errcheck
	rec := &store.Recorder{}
	db, err := store.Open(ctx, appURL, store.Options{MaxOpenConns: *pool, MaxIdleConns: *pool, Tracer: rec})
	if err != nil {
		return err
	}
	defer store.Close(db) //nolint:errcheck
	cfg := config.Default()
	cfg.Server.PublicURL = "http://127.0.0.1:1"
	cfg.Database.URL, cfg.Database.MaxOpenConns = appURL, *pool
	cfg.Auth.Issuer, cfg.Auth.ClientID, cfg.Auth.ClientSecret = idp.Issuer(), "casebridge-portal", "bench-portal-secret"
	cfg.Blob.Dir = filepath.Join(*out, "blobs")
	logFile, err := os.Create(filepath.Join(*out, "server.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	prog, err := app.New(cfg, db, slog.New(slog.NewJSONHandler(logFile, nil)))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: prog.HTTP.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	rssStart := rss()

	tokens := map[string]string{}
	for _, c := range clients[1:] {
		cc := clientcredentials.Config{ClientID: c.ID, ClientSecret: c.Secret, TokenURL: idp.Issuer() + "/oauth2/token"}
		tok, err := cc.Token(ctx)
		if err != nil {
			return fmt.Errorf("token for %s: %w", c.ID, err)
		}
		tokens[c.ID] = tok.AccessToken
	}
	works := []*workload{
		{name: "embassy nationals list, first page", client: "bench-emb-cn", path: "/api/v1/consular/nationals"},
		{name: "case list, gdi-officer, first page", client: "bench-gdi", path: "/api/v1/cases"},
		{name: "case page (by id), gdi-officer", client: "bench-gdi", path: "/api/v1/cases/" + cur.CaseWithPersons.String()},
		{name: "person page (by id), gdi-officer", client: "bench-gdi", path: "/api/v1/persons/" + cur.Person.String()},
		{name: "case list, emb-au-liaison (few shares)", client: "bench-emb-au", path: "/api/v1/cases"},
	}
	for i, w := range works {
		w.token = tokens[w.client]
		for range 3 { // sign-in, statement caches
			if err := get(ctx, base+w.path, w.token); err != nil {
				return fmt.Errorf("%s: %w", w.name, err)
			}
		}
		rec.Start()
		err := get(ctx, base+w.path, w.token)
		stmts := rec.Stop()
		if err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
		w.script = filepath.Join(*out, fmt.Sprintf("pgbench-%d.sql", i))
		if err := writeScript(w.script, stmts); err != nil {
			return err
		}
		w.stmts = len(stmts)
		logf("%s: %d statements captured into %s", w.name, len(stmts), w.script)
	}

	type key struct {
		w    int
		c    int
		tool string
	}
	results := map[key][]result{}
	profiled := false
	for r := range *rounds {
		for wi, w := range works {
			for _, c := range conns {
				tools := []string{"wrk", "pgbench"}
				if rand.IntN(2) == 0 {
					tools[0], tools[1] = tools[1], tools[0]
				}
				for _, tool := range tools {
					var res result
					var err error
					if tool == "wrk" {
						var stopProfile func()
						if !profiled && wi == 1 {
							stopProfile = startProfile(filepath.Join(*out, "caselist.cpu.prof"))
							profiled = true
						}
						res, err = runWrk(ctx, base+w.path, w.token, c, *duration)
						if stopProfile != nil {
							stopProfile()
						}
					} else {
						res, err = runPgbench(ctx, appURL, w.script, c, *duration, filepath.Join(*out, "pgbench-log"))
					}
					if err != nil {
						return fmt.Errorf("%s, %d conns, %s: %w", w.name, c, tool, err)
					}
					logf("round %d: %s, %d conns, %s: %.0f/s p50 %.2f ms p99 %.2f ms bad %d", r+1, w.name, c, tool, res.rps, res.p50, res.p99, res.bad)
					results[key{wi, c, tool}] = append(results[key{wi, c, tool}], res)
				}
			}
		}
	}

	var rep strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&rep, "### HTTP API vs pgbench running the server's own statements\n\n")
	fmt.Fprintf(&rep, "Machine: %s, %d CPUs (%s/%s), shared with other work; PostgreSQL from %s; %d persons, %d cases.\n",
		host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, cluster.Dir, sizes.Persons, sizes.Cases)
	fmt.Fprintf(&rep, "Each cell: median over %d rounds of %s; wrk -t2 --latency (bench/wrk/bearer.lua) vs pgbench -n -M prepared -j2 -f <captured>; server pool %d connections.\n\n",
		*rounds, duration.String(), *pool)
	fmt.Fprintf(&rep, "| workload | stmts | conns | API req/s | pgbench tps | API ÷ pgbench | API p50 / p99 ms | pgbench p50 / p99 ms | p99 ratio | errors |\n|---|---|---|---|---|---|---|---|---|---|\n")
	med := func(rs []result, f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		sort.Float64s(v)
		if len(v)%2 == 0 {
			return (v[len(v)/2-1] + v[len(v)/2]) / 2
		}
		return v[len(v)/2]
	}
	for wi, w := range works {
		for _, c := range conns {
			a, p := results[key{wi, c, "wrk"}], results[key{wi, c, "pgbench"}]
			ar, pr := med(a, func(r result) float64 { return r.rps }), med(p, func(r result) float64 { return r.rps })
			a50, a99 := med(a, func(r result) float64 { return r.p50 }), med(a, func(r result) float64 { return r.p99 })
			p50, p99 := med(p, func(r result) float64 { return r.p50 }), med(p, func(r result) float64 { return r.p99 })
			bad := 0
			for _, r := range append(append([]result{}, a...), p...) {
				bad += r.bad
			}
			fmt.Fprintf(&rep, "| %s | %d | %d | %.0f | %.0f | %.2f | %.1f / %.1f | %.1f / %.1f | %.2f | %d |\n",
				w.name, w.stmts, c, ar, pr, ar/pr, a50, a99, p50, p99, a99/p99, bad)
		}
	}
	gdiP50 := med(results[key{1, conns[0], "wrk"}], func(r result) float64 { return r.p50 })
	auP50 := med(results[key{4, conns[0], "wrk"}], func(r result) float64 { return r.p50 })
	fmt.Fprintf(&rep, "\nemb-au case list p50 ÷ gdi-officer case list p50 at %d connections: %.2f.\n", conns[0], auP50/gdiP50)
	fmt.Fprintf(&rep, "Server RSS: %d MiB at start, %d MiB at the end. CPU profile of the server during the first case-list run: %s.\n",
		rssStart>>20, rss()>>20, filepath.Join(*out, "caselist.cpu.prof"))
	report := filepath.Join(*out, fmt.Sprintf("http-%d.md", sizes.Persons))
	if err := os.WriteFile(report, []byte(rep.String()), 0o644); err != nil {
		return err
	}
	fmt.Print(rep.String())
	logf("report: %s", report)
	return nil
}

func get(ctx context.Context, url, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return nil
}

var placeholder = regexp.MustCompile(`\$(\d+)`)

// writeScript writes the captured statements as a pgbench script, the
// arguments inlined as literals, one statement a line.
func writeScript(path string, stmts []store.Statement) error {
	var b strings.Builder
	for _, s := range stmts {
		q := placeholder.ReplaceAllStringFunc(s.SQL, func(m string) string {
			i, _ := strconv.Atoi(m[1:])
			if i < 1 || i > len(s.Args) {
				return m
			}
			return literal(s.Args[i-1])
		})
		b.WriteString(strings.Join(strings.Fields(q), " "))
		b.WriteString(";\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func literal(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	case []byte:
		return `'\x` + hex.EncodeToString(x) + "'"
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return "'" + x.UTC().Format("2006-01-02 15:04:05.999999Z07:00") + "'"
	case fmt.Stringer:
		return "'" + strings.ReplaceAll(x.String(), "'", "''") + "'"
	default:
		return fmt.Sprint(x)
	}
}

var (
	wrkRPS     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkPct     = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
	wrkNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSockErr = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	pgbTPS     = regexp.MustCompile(`tps = ([\d.]+) \(without initial connection time\)`)
	pgbFailed  = regexp.MustCompile(`number of failed transactions: (\d+)`)
)

func runWrk(ctx context.Context, url, token string, conns int, d time.Duration) (result, error) {
	var res result
	cmd := exec.CommandContext(ctx, "wrk", "-t2", "-c", strconv.Itoa(conns), "-d", fmt.Sprintf("%ds", int(d.Seconds())),
		"--latency", "-s", "bench/wrk/bearer.lua", url)
	cmd.Env = append(os.Environ(), "BENCH_TOKEN="+token)
	outb, err := cmd.CombinedOutput()
	if err != nil {
		return res, fmt.Errorf("wrk: %w: %s", err, outb)
	}
	out := string(outb)
	m := wrkRPS.FindStringSubmatch(out)
	if m == nil {
		return res, fmt.Errorf("wrk output: %s", out)
	}
	res.rps, _ = strconv.ParseFloat(m[1], 64)
	for _, p := range wrkPct.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(p[2], 64)
		switch p[3] {
		case "us":
			v /= 1000
		case "s":
			v *= 1000
		}
		if p[1] == "50" {
			res.p50 = v
		} else {
			res.p99 = v
		}
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		res.bad, _ = strconv.Atoi(m[1])
	}
	if m := wrkSockErr.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			res.bad += n
		}
	}
	return res, nil
}

func runPgbench(ctx context.Context, url, script string, conns int, d time.Duration, logDir string) (result, error) {
	var res result
	_ = os.RemoveAll(logDir)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return res, err
	}
	cmd := exec.CommandContext(ctx, "pgbench", "-n", "-M", "prepared", "-c", strconv.Itoa(conns), "-j", "2",
		"-T", strconv.Itoa(int(d.Seconds())), "-f", script, "-l", "--log-prefix", filepath.Join(logDir, "pgbench"), url)
	outb, err := cmd.CombinedOutput()
	if err != nil {
		return res, fmt.Errorf("pgbench: %w: %s", err, outb)
	}
	out := string(outb)
	m := pgbTPS.FindStringSubmatch(out)
	if m == nil {
		return res, fmt.Errorf("pgbench output: %s", out)
	}
	res.rps, _ = strconv.ParseFloat(m[1], 64)
	if m := pgbFailed.FindStringSubmatch(out); m != nil {
		res.bad, _ = strconv.Atoi(m[1])
	}
	// Per-transaction latencies (µs, third field) from the logs.
	var lat []float64
	files, _ := filepath.Glob(filepath.Join(logDir, "pgbench*"))
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return res, err
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) >= 3 {
				if v, err := strconv.ParseFloat(fs[2], 64); err == nil {
					lat = append(lat, v/1000)
				}
			}
		}
		fh.Close()
	}
	if len(lat) > 0 {
		sort.Float64s(lat)
		res.p50, res.p99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return res, nil
}

func startProfile(path string) func() {
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// rss is this process's resident set size (the server runs in it).
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
