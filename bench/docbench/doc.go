// Package docbench measures document transfer through the real server: a
// 1 GiB upload and download per blob backend, the server's peak RSS growth
// (it must stay under 64 MiB) and throughput next to sha256sum and nginx.
// The benchmark is in docbench_test.go; its figures are in
// docs/benchmarks.md.
package docbench
