// Package api holds the HTTP contract, api/openapi.yaml, embedded so the
// server can publish it and the tests can hold the router to it.
package api

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document.
//
//go:embed openapi.yaml
var OpenAPI []byte
