// Package minipdf writes small, valid PDF files of plain text pages: the
// demo's documents and the bundle tests' sources. It is not a PDF library:
// A4 pages, one standard font, ASCII text, nothing else.
package minipdf

import (
	"bytes"
	"fmt"
	"strings"
)

// Options change what is written.
type Options struct {
	// Encrypt adds an /Encrypt entry to the trailer, as an encrypted file
	// has (the pages stay readable text: for tests of refusal only).
	Encrypt bool
}

// Pages returns a PDF with one A4 page per text (lines split on "\n").
func Pages(texts []string, opt Options) []byte {
	var b bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	n := len(texts)
	// 1 catalog, 2 pages, 3 font, then per page: page, contents.
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	kids := make([]string, n)
	for i := range texts {
		kids[i] = fmt.Sprintf("%d 0 R", 4+2*i)
	}
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	for i, t := range texts {
		var c strings.Builder
		c.WriteString("BT /F1 12 Tf 72 770 Td 16 TL\n")
		for _, line := range strings.Split(t, "\n") {
			fmt.Fprintf(&c, "(%s) Tj T*\n", escape(line))
		}
		c.WriteString("ET")
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i))
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", c.Len(), c.String()))
	}
	if opt.Encrypt {
		obj("<< /Filter /Standard /V 1 /R 2 /O (0123456789abcdef0123456789abcdef) /U (0123456789abcdef0123456789abcdef) /P -4 >>")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	trailer := fmt.Sprintf("/Size %d /Root 1 0 R", len(offsets)+1)
	if opt.Encrypt {
		trailer += fmt.Sprintf(" /Encrypt %d 0 R /ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>]", len(offsets))
	}
	fmt.Fprintf(&b, "trailer\n<< %s >>\nstartxref\n%d\n%%%%EOF\n", trailer, xref)
	return b.Bytes()
}

// escape makes s a PDF literal string's contents (ASCII; others as '?').
func escape(s string) string {
	var out strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			out.WriteByte('\\')
			out.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			out.WriteByte('?')
		default:
			out.WriteRune(r)
		}
	}
	return out.String()
}
