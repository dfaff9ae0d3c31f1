package render

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/pdfcpu/pdfcpu/pkg/font"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// The bundle's own text (cover, index, stamps, typeset text documents) uses
// the PDF standard fonts with WinAnsiEncoding: nothing is embedded, so the
// output stays small and deterministic, but only the Latin characters of
// Windows-1252 can be shown. Any other character (Khmer, Chinese, …) is
// drawn as '?', counted, and the page says so (see substitutionNote):
// never silently. Bookmarks and document metadata are Unicode (UTF-16) and
// keep every character.

const (
	fontRegular = "Helvetica"
	fontBold    = "Helvetica-Bold"
	fontItalic  = "Helvetica-Oblique"
	fontMono    = "Courier"
)

// resource names of the fonts on our own pages
var fontRes = map[string]string{fontRegular: "F1", fontBold: "F2", fontMono: "F3", fontItalic: "F4"}

// winAnsi encodes s (NFC-normalised) to Windows-1252 bytes; characters it
// cannot encode, and control characters, become '?' and are counted.
func winAnsi(s string) ([]byte, int) {
	s = norm.NFC.String(s)
	out := make([]byte, 0, len(s))
	subst := 0
	enc := charmap.Windows1252
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			out = append(out, '?')
			subst++
			continue
		}
		if r < 0x80 {
			out = append(out, byte(r))
			continue
		}
		b, ok := enc.EncodeRune(r)
		if !ok || (b >= 0x80 && b < 0xa0 && !winAnsiDefined(b)) {
			out = append(out, '?')
			subst++
			continue
		}
		out = append(out, b)
	}
	return out, subst
}

// winAnsiDefined reports whether a byte of 0x80..0x9f has a glyph in WinAnsiEncoding.
func winAnsiDefined(b byte) bool {
	switch b {
	case 0x81, 0x8d, 0x8f, 0x90, 0x9d:
		return false
	}
	return true
}

// pdfLiteral writes b as a PDF literal string.
func pdfLiteral(buf *bytes.Buffer, b []byte) {
	buf.WriteByte('(')
	for _, c := range b {
		switch {
		case c == '(' || c == ')' || c == '\\':
			buf.WriteByte('\\')
			buf.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(buf, "\\%03o", c)
		default:
			buf.WriteByte(c)
		}
	}
	buf.WriteByte(')')
}

// textString is a PDF text string (metadata, bookmarks): printable ASCII as
// a literal, anything else as UTF-16BE with a byte order mark.
func textString(s string) types.Object {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			ascii = false
			break
		}
	}
	if ascii {
		var buf bytes.Buffer
		pdfLiteral(&buf, []byte(s))
		return types.StringLiteral(buf.String()[1 : buf.Len()-1])
	}
	s = strings.ToValidUTF8(norm.NFC.String(s), "\uFFFD")
	var sb strings.Builder
	sb.WriteString("FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&sb, "%04X", u)
	}
	return types.HexLiteral(sb.String())
}

// textWidth of WinAnsi bytes in points.
func textWidth(b []byte, fontName string, size float64) float64 {
	w := 0
	for _, c := range b {
		w += font.CharWidth(fontName, rune(c))
	}
	return float64(w) * size / 1000
}

// wrapText breaks WinAnsi text into lines no wider than maxW, at spaces
// where it can, inside words where it must. At most maxLines lines (0 = no
// limit); a cut text ends with an ellipsis.
func wrapText(b []byte, fontName string, size, maxW float64, maxLines int) [][]byte {
	var lines [][]byte
	words := bytes.Split(b, []byte(" "))
	var cur []byte
	flush := func() {
		lines = append(lines, cur)
		cur = nil
	}
	for _, wd := range words {
		cand := wd
		if len(cur) > 0 {
			cand = append(append(append([]byte{}, cur...), ' '), wd...)
		}
		if textWidth(cand, fontName, size) <= maxW {
			cur = cand
			continue
		}
		if len(cur) > 0 {
			flush()
		}
		// the word alone may still be too long: break it
		for {
			i, w := 0, 0.0
			for i < len(wd) {
				cw := float64(font.CharWidth(fontName, rune(wd[i]))) * size / 1000
				if w+cw > maxW && i > 0 {
					break
				}
				w += cw
				i++
			}
			if i == len(wd) {
				break
			}
			cur = append([]byte{}, wd[:i]...)
			flush()
			wd = wd[i:]
		}
		cur = append([]byte{}, wd...)
	}
	if len(cur) > 0 || len(lines) == 0 {
		flush()
	}
	if maxLines > 0 && len(lines) > maxLines {
		lines = lines[:maxLines]
		last := lines[maxLines-1]
		ell := []byte{0x85} // WinAnsi ellipsis
		for len(last) > 0 && textWidth(append(append([]byte{}, last...), ell...), fontName, size) > maxW {
			last = last[:len(last)-1]
		}
		lines[maxLines-1] = append(append([]byte{}, last...), ell...)
	}
	return lines
}

// content builds a page content stream.
type content struct{ bytes.Buffer }

func (c *content) text(x, y float64, fontName string, size float64, b []byte) {
	fmt.Fprintf(&c.Buffer, "BT /%s %s Tf %s %s Td ", fontRes[fontName], f2(size), f2(x), f2(y))
	pdfLiteral(&c.Buffer, b)
	_, _ = c.WriteString(" Tj ET\n")
}

func (c *content) textRight(xRight, y float64, fontName string, size float64, b []byte) {
	c.text(xRight-textWidth(b, fontName, size), y, fontName, size, b)
}

func (c *content) line(x1, y1, x2, y2 float64) {
	fmt.Fprintf(&c.Buffer, "%s %s m %s %s l S\n", f2(x1), f2(y1), f2(x2), f2(y2))
}

// typesetPlain lays UTF-8 text onto A4 pages in Courier and hands each
// page's content to emit, one page at a time (memory stays at one page
// beyond the source). Tabs expand to 8 columns, form feeds start a page.
// A first pass only counts, so that the first page can say how many
// characters could not be shown.
func typesetPlain(data []byte, emit func(body []byte) error) error {
	if !utf8.Valid(data) {
		return errNotUTF8
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	const (
		size    = 10.0
		leading = 12.0
		left    = 56.0
		top     = a4H - 56 - size
		cols    = 80
		perPage = 60
	)
	// forEachLine calls f with each wrapped output line; page is true for
	// the first line after a form feed.
	forEachLine := func(f func(b []byte, page bool, subst int) error) error {
		rest := data
		for len(rest) > 0 {
			var raw []byte
			if i := bytes.IndexAny(rest, "\r\n"); i >= 0 {
				raw = rest[:i]
				if rest[i] == '\r' && i+1 < len(rest) && rest[i+1] == '\n' {
					i++
				}
				rest = rest[i+1:]
			} else {
				raw, rest = rest, nil
			}
			for pi, part := range bytes.Split(raw, []byte("\f")) {
				enc, n := winAnsi(expandTabs(string(part)))
				for i, w := range wrapText(enc, fontMono, size, cols*6, 0) {
					if i > 0 {
						n = 0
					}
					if err := f(w, pi > 0 && i == 0, n); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	subst, total, trailingBlank := 0, 0, 0
	_ = forEachLine(func(b []byte, page bool, n int) error {
		subst += n
		total++
		if len(b) == 0 && !page {
			trailingBlank++
		} else {
			trailingBlank = 0
		}
		return nil
	})
	keep := total - trailingBlank // drop blank lines at the end

	var c content
	row, pages := 0, 0
	startPage := func() {
		c = content{}
		row = 0
		if pages == 0 && subst > 0 {
			note, _ := winAnsi(fmt.Sprintf("Note: %d character(s) of this text cannot be shown with the bundle's built-in Latin font and appear as \"?\". The original document is unchanged.", subst))
			for _, l := range wrapText(note, fontItalic, 8, a4W-2*left, 3) {
				c.text(left, top-float64(row)*leading, fontItalic, 8, l)
				row++
			}
			row++
		}
	}
	flush := func() error {
		pages++
		return emit(c.Bytes())
	}
	startPage()
	if keep == 0 {
		msg, _ := winAnsi("[This text document is empty.]")
		c.text(left, top-float64(row)*leading, fontItalic, size, msg)
	}
	seen := 0
	err := forEachLine(func(b []byte, page bool, _ int) error {
		if seen >= keep {
			return nil
		}
		seen++
		if row >= perPage || (page && (row > 0 || pages > 0)) {
			if err := flush(); err != nil {
				return err
			}
			startPage()
		}
		if len(b) > 0 {
			c.text(left, top-float64(row)*leading, fontMono, size, b)
		}
		row++
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	var sb strings.Builder
	col := 0
	for _, r := range s {
		if r == '\t' {
			n := 8 - col%8
			sb.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		}
		sb.WriteRune(r)
		col++
	}
	return sb.String()
}
