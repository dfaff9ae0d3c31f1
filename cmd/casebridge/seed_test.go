package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/casebridge/casebridge/internal/testenv"
)

func TestSeedCommand(t *testing.T) {
	t.Parallel()
	db := testenv.NewDatabase(t)
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"seed", "--scale", "500", "--database-url", db.OwnerURL}, nil, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "seeded 500 persons, 100 cases") || !strings.Contains(out.String(), "copy persons") {
		t.Fatalf("output:\n%s", out.String())
	}
	conn, err := pgx.Connect(t.Context(), db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var persons, cases int
	if err := conn.QueryRow(t.Context(), "SELECT (SELECT count(*) FROM persons), (SELECT count(*) FROM cases)").Scan(&persons, &cases); err != nil {
		t.Fatal(err)
	}
	if persons != 500 || cases != 100 {
		t.Fatalf("database holds %d persons, %d cases", persons, cases)
	}
}

func TestSeedCommandUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"seed"},
		{"seed", "--scale", "-3"},
		{"seed", "--scale", "10", "--database-url", "postgres://x", "--data-dir", "d"},
	} {
		var out, errOut bytes.Buffer
		if code := run(t.Context(), args, nil, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut.String())
		}
		if lines := strings.Count(strings.TrimSpace(errOut.String()), "\n"); lines != 0 {
			t.Errorf("%v: want one line, got:\n%s", args, errOut.String())
		}
	}
}
