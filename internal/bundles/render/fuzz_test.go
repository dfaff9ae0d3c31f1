package render

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// FuzzBuildPDFSource feeds arbitrary bytes as a PDF source: the build must
// either succeed or fail with a *SourceError naming it, never panic, hang or
// fail otherwise.
func FuzzBuildPDFSource(f *testing.F) {
	f.Add(makePDF(pdfOpts{pages: 2, tag: "seed"}))
	f.Add(makePDF(pdfOpts{pages: 4, tag: "seed", nested: true, rotate: 270}))
	f.Add(makePDF(pdfOpts{pages: 2, tag: "seed", cyclic: true}))
	f.Add(makePDF(pdfOpts{pages: 1, tag: "seed", deepTree: 40}))
	f.Add([]byte("%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		b := Bundle{CaseReference: "FUZZ-1", Title: "Fuzz", BuiltAt: builtAt, Sections: []Section{{
			Label: "A", Title: "Input", Sources: []Source{src("fuzz", "Fuzzed PDF", "application/pdf", data)},
		}}}
		var out bytes.Buffer
		lim := Limits{MaxSourceBytes: 1 << 20, MaxSourcePages: 50, MaxTotalPages: 100, MaxImagePixels: 1 << 20}
		_, err := Build(context.Background(), b, lim, &out, nil)
		if err == nil {
			return
		}
		var se *SourceError
		if !errors.As(err, &se) || se.DocumentID != "fuzz" {
			t.Fatalf("err = %v, want nil or a *SourceError naming the source", err)
		}
	})
}
