// Package migrations holds the numbered SQL migrations and the access
// definitions, embedded in the binary. They run as the database owner; each
// numbered file grants the application role (casebridge_app) exactly what it
// may do with the tables it creates, and access/ holds the current text of
// every access function, policy and view (see access/README.md).
package migrations

import "embed"

// FS holds every numbered migration file.
//
//go:embed *.sql
var FS embed.FS

// Access holds the access definitions, applied after the numbered
// migrations on every migrate.
//
//go:embed access
var Access embed.FS
