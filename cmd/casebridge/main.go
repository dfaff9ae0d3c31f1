// Command casebridge is the CaseBridge portal: one binary whose subcommands
// serve the API and web app, run the whole product for development, and
// operate on its data. It only parses flags and wires; the work is in
// internal/.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/casebridge/casebridge/internal/app"
	"github.com/casebridge/casebridge/internal/config"
)

const usage = `usage: casebridge <command> [flags]

commands:
  serve     serve the API and the web app (settings from --config and CASEBRIDGE_* variables)
  dev       the whole product on this machine: private PostgreSQL, dev sign-in, demo data
  dev token ACCOUNT  print an access token for a demo account of the running dev instance
  migrate   apply database migrations (as the owner role: database.owner_url)
  healthcheck  ask a running server whether it is ready (exit 0 when it is)
  seed      write synthetic data at scale for benchmarks (seed --scale N: N persons, N/5 cases)
  import    bulk import into a case through the API: import --case REF [--commit] FILE (CSV or XLSX;
            token from --token or CASEBRIDGE_TOKEN, e.g. from "dev token gdi-officer")
  verify    re-hash every stored document and check every version's bytes exist (exit 1 with the list of problems)
  audit     audit log: verify (recompute and check the Merkle tree), witness (keep and check
            signed checkpoints, as a partner agency), keygen (make a checkpoint signing key)

Run "casebridge <command> -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand.
type command func(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error

// commands maps names to subcommands; later areas add theirs here.
var commands = map[string]command{
	"serve":       serve,
	"dev":         dev,
	"migrate":     migrate,
	"healthcheck": healthcheck,
	"verify":      verify,
	"seed":        seedCmd,
	"audit":       auditCmd,
	"import":      importCmd,
}

// run executes one command line and returns the exit status: 0 ok, 1 a
// check failed or the command failed while running, 2 bad usage, bad
// configuration or a failure to start.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "casebridge: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := cmd(ctx, args[1:], environ, stdout, stderr)
	if err == nil {
		return 0
	}
	var cfgErr *config.Error
	var startErr *app.StartupError
	var usageErr *usageError
	switch {
	case errors.As(err, &cfgErr), errors.As(err, &startErr), errors.As(err, &usageErr):
		fmt.Fprintf(stderr, "casebridge %s: %v\n", args[0], err)
		return 2
	case errors.Is(err, errHelp):
		return 0
	default:
		fmt.Fprintf(stderr, "casebridge %s: %v\n", args[0], err)
		return 1
	}
}

// usageError is a bad command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

var errHelp = errors.New("help shown")
