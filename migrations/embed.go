// Package migrations holds the numbered SQL migrations, embedded in the
// binary. They run as the database owner; each file grants the application
// role (casebridge_app) exactly what it may do with the objects it creates.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
