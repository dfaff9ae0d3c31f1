// Command soak drives a running CaseBridge at a fixed number of concurrent
// connections for a set time and checks the two soak criteria of issue 16:
// no 5xx answers, and the server's resident memory at the end within 10%
// of its level after warm-up. Not part of make test.
//
//	casebridge dev &                       # or serve, on loopback
//	TOKEN=$(casebridge dev token gdi-officer)
//	go run ./bench/cmd/soak -url http://127.0.0.1:8080 -token "$TOKEN" \
//	    -pid $(pgrep -f 'casebridge dev') -conns 64 -duration 10m
//
// It only talks to loopback addresses, and stops by itself.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "portal base URL (loopback only)")
	token := flag.String("token", os.Getenv("TOKEN"), "bearer access token")
	pid := flag.Int("pid", 0, "server process id, to sample its RSS (0: skip the memory check)")
	conns := flag.Int("conns", 64, "concurrent connections")
	duration := flag.Duration("duration", 10*time.Minute, "how long to run")
	warmup := flag.Duration("warmup", time.Minute, "warm-up before the memory baseline")
	writes := flag.Int("write-every", 20, "one request in N creates a case")
	flag.Parse()
	u, err := url.Parse(*base)
	if err != nil || !loopback(u.Hostname()) {
		fmt.Fprintln(os.Stderr, "soak: -url must be an http URL on a loopback address")
		os.Exit(2)
	}
	if *token == "" {
		fmt.Fprintln(os.Stderr, "soak: -token (or $TOKEN) is required")
		os.Exit(2)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: *conns, MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns}}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()

	var total, fivexx, failed atomic.Int64
	var statusMu sync.Mutex
	statuses := map[int]int64{}
	paths := []string{"/api/v1/cases?limit=50", "/api/v1/persons?limit=50", "/api/v1/me", "/api/v1/agencies", "/readyz"}
	var wg sync.WaitGroup
	for w := range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				var req *http.Request
				if *writes > 0 && i%*writes == *writes-1 {
					body := fmt.Sprintf(`{"title": "soak %d-%d", "kind": "trafficking"}`, w, i)
					req, _ = http.NewRequestWithContext(ctx, "POST", *base+"/api/v1/cases", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Idempotency-Key", fmt.Sprintf("soak-%d-%d-%d", os.Getpid(), w, i))
				} else {
					req, _ = http.NewRequestWithContext(ctx, "GET", *base+paths[i%len(paths)], nil)
				}
				req.Header.Set("Authorization", "Bearer "+*token)
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				total.Add(1)
				if resp.StatusCode >= 500 {
					fivexx.Add(1)
				}
				statusMu.Lock()
				statuses[resp.StatusCode]++
				statusMu.Unlock()
			}
		}()
	}

	var baseline, peak, last int64
	start := time.Now()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			if *pid > 0 {
				rss := rssKiB(*pid)
				last = rss
				if rss > peak {
					peak = rss
				}
				if baseline == 0 && time.Since(start) >= *warmup {
					baseline = rss
				}
			}
			fmt.Printf("%4.0fs requests %d 5xx %d errors %d rss %d KiB\n",
				time.Since(start).Seconds(), total.Load(), fivexx.Load(), failed.Load(), last)
		}
	}
	wg.Wait()
	if *pid > 0 {
		last = rssKiB(*pid)
	}
	elapsed := time.Since(start)
	fmt.Printf("\n%d requests in %s at %d connections (%.0f/s); statuses %v; 5xx %d; transport errors %d\n",
		total.Load(), elapsed.Round(time.Second), *conns, float64(total.Load())/elapsed.Seconds(), statuses, fivexx.Load(), failed.Load())
	ok := fivexx.Load() == 0 && failed.Load() == 0
	if *pid > 0 && baseline > 0 {
		drift := float64(last-baseline) / float64(baseline) * 100
		fmt.Printf("RSS after warm-up %d KiB, at the end %d KiB (%+.1f%%), peak %d KiB\n", baseline, last, drift, peak)
		if drift > 10 || drift < -10 {
			ok = false
		}
	}
	if !ok {
		fmt.Println("soak: FAILED")
		os.Exit(1)
	}
	fmt.Println("soak: passed")
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// rssKiB reads VmRSS of a process from /proc.
func rssKiB(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
