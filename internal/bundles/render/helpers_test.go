package render

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pdfOpts shapes a test PDF written by hand (so that the tests also cover
// inheritance, rotation and broken page trees the library would not make).
type pdfOpts struct {
	pages    int
	tag      string // printed on each page
	nested   bool   // pages in groups of 3 under intermediate nodes carrying Resources and MediaBox
	rotate   int    // /Rotate on every page
	deepTree int    // >0: a chain of this many intermediate nodes
	cyclic   bool   // the page tree's Kids point back at the root
	length   string // written as every content stream's /Length instead of the true one
	extra    map[int]string
	link     bool // page 1 links to the last page (an annotation with a page destination)
}

// makePDF writes a small valid PDF (unless asked for a broken tree): each
// page shows its tag and its own page number at the bottom centre, as
// documents do.
func makePDF(o pdfOpts) []byte {
	var buf bytes.Buffer
	var offs []int
	obj := func(n int, body string) {
		for len(offs) <= n {
			offs = append(offs, 0)
		}
		offs[n] = buf.Len()
		fmt.Fprintf(&buf, "%d 0 obj\n%s\nendobj\n", n, body)
	}
	buf.WriteString("%PDF-1.4\n")
	// 1 catalog, 2 root pages, 3 font, then pages/contents from 10
	font := "3 0 R"
	obj(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	next := 10
	var pageRefs []string
	type pg struct{ page, content int }
	var pgs []pg
	for i := 0; i < o.pages; i++ {
		pgs = append(pgs, pg{next, next + 1})
		pageRefs = append(pageRefs, fmt.Sprintf("%d 0 R", next))
		next += 2
	}
	parentOf := make([]int, o.pages)
	var rootKids []string
	switch {
	case o.cyclic:
		rootKids = append(rootKids, "2 0 R")
		rootKids = append(rootKids, pageRefs...)
		for i := range parentOf {
			parentOf[i] = 2
		}
	case o.deepTree > 0:
		prev := 2
		for d := 0; d < o.deepTree; d++ {
			n := next
			next++
			kids := fmt.Sprintf("%d 0 R", n+1)
			if d == o.deepTree-1 {
				kids = strings.Join(pageRefs, " ")
				for i := range parentOf {
					parentOf[i] = n
				}
			}
			obj(n, fmt.Sprintf("<< /Type /Pages /Parent %d 0 R /Kids [%s] /Count %d >>", prev, kids, o.pages))
			if d == 0 {
				rootKids = []string{fmt.Sprintf("%d 0 R", n)}
			}
			prev = n
		}
	case o.nested:
		for g := 0; g*3 < o.pages; g++ {
			n := next
			next++
			end := min((g+1)*3, o.pages)
			for i := g * 3; i < end; i++ {
				parentOf[i] = n
			}
			obj(n, fmt.Sprintf("<< /Type /Pages /Parent 2 0 R /Kids [%s] /Count %d /Resources << /Font << /F1 %s >> >> /MediaBox [0 0 612 792] >>",
				strings.Join(pageRefs[g*3:end], " "), end-g*3, font))
			rootKids = append(rootKids, fmt.Sprintf("%d 0 R", n))
		}
	default:
		rootKids = pageRefs
		for i := range parentOf {
			parentOf[i] = 2
		}
	}
	for i, p := range pgs {
		extra := fmt.Sprintf(" /MediaBox [0 0 595 842] /Resources << /Font << /F1 %s >> >>", font)
		if o.nested {
			extra = ""
		}
		if o.rotate != 0 {
			extra += fmt.Sprintf(" /Rotate %d", o.rotate)
		}
		if o.link && i == 0 {
			extra += fmt.Sprintf(" /Annots [<< /Type /Annot /Subtype /Link /Rect [72 490 300 520] /Border [0 0 0] /Dest [%d 0 R /Fit] /P %d 0 R >> << /Type /Annot /Subtype /Link /Rect [0 0 1 1] /Dest [1 0 R /Fit] >>]", pgs[len(pgs)-1].page, p.page)
		}
		obj(p.page, fmt.Sprintf("<< /Type /Page /Parent %d 0 R /Contents %d 0 R%s >>", parentOf[i], p.content, extra))
		c := fmt.Sprintf("BT /F1 20 Tf 72 500 Td (%s page %d) Tj ET BT /F1 10 Tf 290 40 Td (%d) Tj ET", o.tag, i+1, i+1)
		length := fmt.Sprint(len(c))
		if o.length != "" {
			length = o.length
		}
		obj(p.content, fmt.Sprintf("<< /Length %s >>\nstream\n%s\nendstream", length, c))
	}
	obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(rootKids, " "), o.pages))
	obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	for n := range 100 {
		if body, ok := o.extra[n]; ok {
			obj(n, body)
		}
	}
	xref := buf.Len()
	fmt.Fprintf(&buf, "xref\n0 %d\n0000000000 65535 f \n", len(offs))
	for n := 1; n < len(offs); n++ {
		if offs[n] == 0 {
			buf.WriteString("0000000000 65535 f \n")
			continue
		}
		fmt.Fprintf(&buf, "%010d 00000 n \n", offs[n])
	}
	fmt.Fprintf(&buf, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs), xref)
	return buf.Bytes()
}

func makePNG(w, h int, alpha bool) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			a := uint8(255)
			if alpha && x < w/4 {
				a = 128
			}
			img.Set(x, y, color.NRGBA{uint8(x), uint8(y), 200, a})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func makeJPEG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), 100, uint8(y), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func src(id, title, mt string, data []byte) Source {
	return Source{
		DocumentID: id, Version: 1, Title: title, MediaType: mt, Size: int64(len(data)),
		Date: time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	}
}

func needTools(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"qpdf", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing (.ci/deps test installs it)", tool)
			}
			t.Skipf("%s not installed (apt-get install qpdf poppler-utils)", tool)
		}
	}
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func qpdfCheck(t testing.TB, path string) {
	t.Helper()
	out, err := exec.Command("qpdf", "--check", path).CombinedOutput()
	if err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "WARNING") {
		t.Fatalf("qpdf --check warns:\n%s", out)
	}
}

// pageText is pdftotext's text of page n (1-based), optionally cropped to
// a rectangle in PDF user space of a page of height pageH.
func pageText(t testing.TB, path string, n int, crop *box, pageH float64) string {
	t.Helper()
	args := []string{"-f", fmt.Sprint(n), "-l", fmt.Sprint(n), "-layout"}
	if crop != nil {
		args = append(args, "-x", fmt.Sprint(int(crop[0])), "-y", fmt.Sprint(int(pageH-crop[3])),
			"-W", fmt.Sprint(int(crop.w()+1)), "-H", fmt.Sprint(int(crop.h()+1)))
	}
	args = append(args, path, "-")
	out, err := exec.Command("pdftotext", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext %v: %v\n%s", args, err, out)
	}
	return string(out)
}
