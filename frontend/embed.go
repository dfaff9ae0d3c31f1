// Package frontend embeds the web app's production build into the binary.
//
// Vite writes the build to dist/app (npm run build; `make build` runs it
// before `go build`). dist/README.md is committed so that the embed pattern
// always matches and `go build ./...` works on a fresh clone before any npm
// step; such a binary serves a page saying the web app was not built.
package frontend

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// App returns the built web app (index.html at its root, hashed files under
// assets/), or nil when the binary was built without it.
func App() fs.FS {
	sub, err := fs.Sub(dist, "dist/app")
	if err != nil {
		return nil
	}
	if _, err := fs.Stat(sub, "index.html"); err != nil {
		return nil
	}
	return sub
}
