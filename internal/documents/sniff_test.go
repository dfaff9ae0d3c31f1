package documents

import (
	"archive/zip"
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/apperr"
)

// Sample files of each kind, built with the standard library so the tests
// need no binary fixtures.

func samplePNG(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sampleJPEG(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func samplePDF() []byte {
	return []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" +
		"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
}

// sampleTIFF is a minimal little-endian TIFF header with an empty IFD.
func sampleTIFF() []byte {
	return append([]byte{'I', 'I', 42, 0, 8, 0, 0, 0, 0, 0}, make([]byte, 64)...)
}

// zipOf builds a zip archive with the given entries in order; stored
// entries are not compressed (as ODF requires for "mimetype").
func zipOf(t testing.TB, entries ...[2]string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		method := zip.Deflate
		if e[0] == "mimetype" {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e[0], Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bigXML is incompressible-ish filler, so the telling entries are not all
// in the first few hundred bytes.
func bigXML(n int) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><Types>`)
	for i := 0; b.Len() < n; i++ {
		b.WriteString(`<Override PartName="/p` + strings.Repeat("x", i%97) + `"/>`)
	}
	b.WriteString(`</Types>`)
	return b.String()
}

func sampleDOCX(t testing.TB) []byte {
	return zipOf(t,
		[2]string{"[Content_Types].xml", bigXML(20000)},
		[2]string{"_rels/.rels", `<Relationships/>`},
		[2]string{"word/document.xml", `<w:document/>`})
}

func sampleXLSX(t testing.TB) []byte {
	return zipOf(t,
		[2]string{"[Content_Types].xml", `<Types/>`},
		[2]string{"_rels/.rels", `<Relationships/>`},
		[2]string{"xl/workbook.xml", `<workbook/>`})
}

func sampleODT(t testing.TB) []byte {
	return zipOf(t,
		[2]string{"mimetype", "application/vnd.oasis.opendocument.text"},
		[2]string{"content.xml", `<office:document-content/>`})
}

func TestSniffAllowList(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want string // "" means refused
	}{
		{"pdf", samplePDF(), "application/pdf"},
		{"png", samplePNG(t), "image/png"},
		{"jpeg", sampleJPEG(t), "image/jpeg"},
		{"tiff", sampleTIFF(), "image/tiff"},
		{"text", []byte("Statement of witness.\nSigned at Phnom Penh.\n"), "text/plain; charset=utf-8"},
		{"text that looks like csv", []byte("name,date\nA,1\nB,2\n"), "text/plain; charset=utf-8"},
		{"khmer text", []byte("សេចក្តីថ្លែងការណ៍\n"), "text/plain; charset=utf-8"},
		{"docx", sampleDOCX(t), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"xlsx", sampleXLSX(t), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{"odt", sampleODT(t), "application/vnd.oasis.opendocument.text"},

		{"html", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), ""},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), ""},
		{"plain zip", zipOf(t, [2]string{"evil.exe", "MZ"}), ""},
		{"elf", append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 64)...), ""},
		{"windows exe", append([]byte("MZ\x90\x00"), make([]byte, 64)...), ""},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ""},
		{"binary junk", []byte{0, 1, 2, 3, 0xff, 0xfe, 0, 0, 7}, ""},
		{"pdf extension on html", []byte("<html><body>not a pdf</body></html>"), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := sniff(c.data)
			switch {
			case c.want == "" && ok:
				t.Fatalf("accepted as %s, want refused", got)
			case c.want != "" && !ok:
				t.Fatalf("refused (%s), want %s", got, c.want)
			case c.want != "" && got != c.want:
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestSanitizeFilename(t *testing.T) {
	long := strings.Repeat("ក", 200) + ".pdf" // 600 bytes of Khmer
	cases := []struct{ in, want string }{
		{"passport.pdf", "passport.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\clerk\Desktop\judgment.docx`, "judgment.docx"},
		{"/absolute/path/scan.png", "scan.png"},
		{"..", "document"},
		{"", "document"},
		{"   ", "document"},
		{"dir/", "dir"},
		{"evil\u202Efdp.exe", "evilfdp.exe"},
		{"line\nbreak\r.txt", "linebreak.txt"},
		{"tab\there.txt", "tabhere.txt"},
		{"nul\x00byte.pdf", "nulbyte.pdf"},
		{"bad\xffutf8.pdf", "bad_utf8.pdf"},
		{`quote"semi;colon.pdf`, "quote_semi;colon.pdf"},
		{"CON.txt", "_CON.txt"},
		{"nul", "_nul"},
		{".hidden", "hidden"},
		{"trailing dots...", "trailing dots"},
		{"ឯកសារ.pdf", "ឯកសារ.pdf"},
	}
	for _, c := range cases {
		if got := SanitizeFilename(c.in); got != c.want {
			t.Errorf("SanitizeFilename(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	got := SanitizeFilename(long)
	if len(got) > maxFilenameBytes || !strings.HasSuffix(got, ".pdf") || !utf8.ValidString(got) {
		t.Errorf("long name: %d bytes, %q…", len(got), got[len(got)-10:])
	}
}

func FuzzSanitizeFilename(f *testing.F) {
	for _, s := range []string{"a.pdf", "../x", "\u202e", "CON", strings.Repeat("x", 300) + ".pdf", "a\\b/c", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := SanitizeFilename(in)
		if out == "" || len(out) > maxFilenameBytes || !utf8.ValidString(out) {
			t.Fatalf("%q -> %q", in, out)
		}
		if strings.ContainsAny(out, "/\\\"") || out == "." || out == ".." {
			t.Fatalf("%q -> %q holds a separator or quote", in, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("%q -> %q holds %U", in, out, r)
			}
		}
		if again := SanitizeFilename(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
		}
	})
}

func FuzzSniff(f *testing.F) {
	f.Add(samplePDF())
	f.Add(sampleTIFF())
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		mt, ok := sniff(data)
		if ok && mt == "" {
			t.Fatal("allowed with no type")
		}
	})
}

// A cursor from a client either decodes to what was encoded or is refused
// as invalid input, never a panic or another error.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(cursor{CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), ID: uuid.New()}))
	f.Add("")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil {
			if !errors.Is(err, apperr.ErrInvalid) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if again, err := decodeCursor(encodeCursor(c)); err != nil || !again.CreatedAt.Equal(c.CreatedAt) || again.ID != c.ID {
			t.Fatalf("%q: round trip %+v -> %+v (%v)", s, c, again, err)
		}
	})
}
