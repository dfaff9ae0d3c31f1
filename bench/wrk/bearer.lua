-- wrk script for make bench: every request carries the bearer token given
-- in the environment (BENCH_TOKEN), as a partner system's would.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Accept"] = "application/json"
