package main

import (
	"errors"
	"flag"
	"io"
)

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("casebridge "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args, mapping -h to errHelp and bad flags to a usage error.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return &usageError{msg: err.Error()}
	}
	return nil
}

// lookupEnv finds key in environ.
func lookupEnv(environ []string, key string) string {
	for i := len(environ) - 1; i >= 0; i-- {
		if len(environ[i]) > len(key) && environ[i][:len(key)+1] == key+"=" {
			return environ[i][len(key)+1:]
		}
	}
	return ""
}
