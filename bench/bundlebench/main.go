// Command bundlebench measures the court-bundle PDF engine against qpdf, in
// one run:
//
//	go run ./bench/bundlebench [-docs 200 -pages 2000 -dir DIR]
//
// It generates -docs PDFs totalling -pages pages (mixed sizes; a quarter of
// them scans, one JPEG per page), then measures, each as a child process
// whose peak RSS is read from its rusage:
//
//	(a) render.Build of a bundle of all of them (cover, index, bookmarks,
//	    links, a stamp on every page);
//	(b) qpdf --empty --pages f1 f2 … -- merged.pdf, then
//	    qpdf merged.pdf --overlay stamp.pdf -- out.pdf, where stamp.pdf
//	    holds one stamp page per page (the same work of stamping).
//
// and prints the figures with the ratio (ours ÷ qpdf). Needs qpdf on PATH.
package main

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/casebridge/casebridge/internal/bundles/render"
)

func main() {
	docs := flag.Int("docs", 200, "documents in the bundle")
	pages := flag.Int("pages", 2000, "pages over all documents")
	dir := flag.String("dir", "", "working directory (default: a new temporary one, removed at the end)")
	child := flag.Bool("child", false, "internal: run render.Build on -dir and report")
	flag.Parse()
	log.SetFlags(0)
	if *child {
		runChild(*dir)
		return
	}
	if _, err := exec.LookPath("qpdf"); err != nil {
		log.Fatal("bundlebench needs qpdf (apt-get install qpdf)")
	}
	d := *dir
	if d == "" {
		var err error
		if d, err = os.MkdirTemp("", "bundlebench-"); err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
	}
	t0 := time.Now()
	files, total, size := generate(d, *docs, *pages)
	log.Printf("generated %d PDFs, %d pages, %.1f MiB in %s", len(files), total, float64(size)/(1<<20), time.Since(t0).Round(time.Millisecond))

	// (a) ours
	self, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	var rep childReport
	oursWall, oursRSS := runMeasured(exec.Command(self, "-child", "-dir", d), func(out []byte) {
		if err := json.Unmarshal(out, &rep); err != nil {
			log.Fatalf("child said %q: %v", out, err)
		}
	})
	// the anchor's stamp file: one page per bundle page, the same size as
	// the page under it, with its stamp bottom right
	stamp := filepath.Join(d, "stamp.pdf")
	writeStampPDF(stamp, rep.Pages-total, total)

	// (b) qpdf
	merged, out := filepath.Join(d, "merged.pdf"), filepath.Join(d, "out.pdf")
	args := append([]string{"--empty", "--pages"}, files...)
	args = append(args, "--", merged)
	mergeWall, mergeRSS := runMeasured(exec.Command("qpdf", args...), nil)
	overWall, overRSS := runMeasured(exec.Command("qpdf", merged, "--overlay", stamp, "--", out), nil)
	qpdfWall := mergeWall + overWall

	fmt.Printf("| measure | figure |\n|---|---|\n")
	fmt.Printf("| input | %d PDFs, %d pages, %.1f MiB |\n", len(files), total, float64(size)/(1<<20))
	fmt.Printf("| render.Build (child process): wall | %s (Build itself %s) |\n", oursWall.Round(time.Millisecond), time.Duration(rep.BuildNanos).Round(time.Millisecond))
	fmt.Printf("| render.Build: peak RSS | %.1f MiB |\n", float64(oursRSS)/(1<<20))
	fmt.Printf("| render.Build: output | %d pages, %.1f MiB |\n", rep.Pages, float64(rep.Bytes)/(1<<20))
	fmt.Printf("| qpdf --empty --pages … (merge): wall, peak RSS | %s, %.1f MiB |\n", mergeWall.Round(time.Millisecond), float64(mergeRSS)/(1<<20))
	fmt.Printf("| qpdf --overlay stamp.pdf: wall, peak RSS | %s, %.1f MiB |\n", overWall.Round(time.Millisecond), float64(overRSS)/(1<<20))
	fmt.Printf("| qpdf total wall | %s |\n", qpdfWall.Round(time.Millisecond))
	fmt.Printf("| **ratio ours ÷ qpdf (wall)** | **%.2f×** (target ≤ 3×) |\n", oursWall.Seconds()/qpdfWall.Seconds())
	fmt.Printf("| **peak RSS ours** | **%.1f MiB** (target < 256 MiB) |\n", float64(oursRSS)/(1<<20))
}

type childReport struct {
	Pages      int
	Bytes      int64
	BuildNanos int64
}

// runMeasured runs cmd and returns its wall time and peak RSS in bytes.
func runMeasured(cmd *exec.Cmd, onOutput func([]byte)) (time.Duration, int64) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		log.Fatalf("%s: %v\n%s", cmd.Path, err, stderr.String())
	}
	wall := time.Since(t0)
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		log.Fatal("no rusage on this platform")
	}
	if onOutput != nil {
		onOutput(stdout.Bytes())
	}
	return wall, ru.Maxrss * 1024 // Linux reports KiB
}

func runChild(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	var secs []render.Section
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "doc-") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		fi, err := e.Info()
		if err != nil {
			log.Fatal(err)
		}
		n := len(secs)
		if n == 0 || len(secs[n-1].Sources) == 25 {
			secs = append(secs, render.Section{Label: string(rune('A' + n)), Title: fmt.Sprintf("Section %c", 'A'+n)})
			n++
		}
		secs[n-1].Sources = append(secs[n-1].Sources, render.Source{
			DocumentID: e.Name(), Version: 1, Title: "Exhibit " + strings.TrimSuffix(e.Name(), ".pdf"),
			Date: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), MediaType: "application/pdf", Size: fi.Size(),
			Open: func(context.Context) (io.ReadCloser, error) { return os.Open(path) },
		})
	}
	f, err := os.Create(filepath.Join(dir, "bundle.pdf"))
	if err != nil {
		log.Fatal(err)
	}
	t0 := time.Now()
	res, err := render.Build(context.Background(), render.Bundle{
		CaseReference: "GDI-2026-0142", CourtName: "Phnom Penh Municipal Court", Title: "Benchmark bundle",
		BuiltAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Numbering: render.Consecutive, Sections: secs,
	}, render.Limits{}, f, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	el := time.Since(t0)
	fi, err := os.Stat(filepath.Join(dir, "bundle.pdf"))
	if err != nil {
		log.Fatal(err)
	}
	_ = json.NewEncoder(os.Stdout).Encode(childReport{Pages: res.Pages, Bytes: fi.Size(), BuildNanos: el.Nanoseconds()})
}

// generate writes docs PDFs with pages pages in all: sizes from 1 to about
// 30 pages, every fourth document a scan (a grey JPEG per page).
func generate(dir string, docs, pages int) ([]string, int, int64) {
	r := rand.New(rand.NewSource(42))
	sizes := make([]int, docs)
	left := pages
	for i := range sizes {
		sizes[i] = 1
		left--
	}
	for left > 0 { // skewed: a few long documents, many short ones
		i := r.Intn(docs)
		if r.Intn(3) == 0 {
			i = r.Intn(docs/10 + 1)
		}
		sizes[i]++
		left--
	}
	var files []string
	var total int
	var size int64
	for i, n := range sizes {
		p := filepath.Join(dir, fmt.Sprintf("doc-%03d.pdf", i+1))
		data := makeDoc(r, i+1, n, i%4 == 3)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			log.Fatal(err)
		}
		files = append(files, p)
		total += n
		size += int64(len(data))
	}
	return files, total, size
}

type pdfBuf struct {
	bytes.Buffer
	offs []int
}

func (b *pdfBuf) obj(n int, body string) {
	for len(b.offs) <= n {
		b.offs = append(b.offs, 0)
	}
	b.offs[n] = b.Len()
	fmt.Fprintf(b, "%d 0 obj\n%s\nendobj\n", n, body)
}

func (b *pdfBuf) stream(n int, dict string, data []byte) {
	for len(b.offs) <= n {
		b.offs = append(b.offs, 0)
	}
	b.offs[n] = b.Len()
	fmt.Fprintf(b, "%d 0 obj\n<< %s /Length %d >>\nstream\n", n, dict, len(data))
	b.Write(data)
	b.WriteString("\nendstream\nendobj\n")
}

func (b *pdfBuf) finish() []byte {
	xref := b.Len()
	fmt.Fprintf(b, "xref\n0 %d\n0000000000 65535 f \n", len(b.offs))
	for n := 1; n < len(b.offs); n++ {
		if b.offs[n] == 0 {
			b.WriteString("0000000000 65535 f \n")
			continue
		}
		fmt.Fprintf(b, "%010d 00000 n \n", b.offs[n])
	}
	fmt.Fprintf(b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(b.offs), xref)
	return b.Bytes()
}

func deflate(p []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	_, _ = w.Write(p)
	_ = w.Close()
	return buf.Bytes()
}

func makeDoc(r *rand.Rand, doc, n int, scan bool) []byte {
	var b pdfBuf
	b.WriteString("%PDF-1.6\n%\xe2\xe3\xcf\xd3\n")
	b.obj(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>")
	var kids []string
	next := 10
	words := strings.Fields("the court heard that the respondent was detained on arrival and that the officer recorded a statement in the presence of an interpreter from the embassy")
	for p := 1; p <= n; p++ {
		page, cont := next, next+1
		next += 2
		kids = append(kids, fmt.Sprintf("%d 0 R", page))
		var c bytes.Buffer
		res := "/Font << /F1 3 0 R >>"
		if scan {
			img := next
			next++
			b.stream(img, "/Type /XObject /Subtype /Image /Width 850 /Height 1100 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode", scanJPEG(r))
			res += fmt.Sprintf(" /XObject << /Im1 %d 0 R >>", img)
			c.WriteString("q 595 0 0 770 0 36 cm /Im1 Do Q\n")
		} else {
			c.WriteString("BT /F1 11 Tf 14 TL 72 770 Td\n")
			for l := 0; l < 48; l++ {
				var line []string
				for k := 0; k < 12; k++ {
					line = append(line, words[r.Intn(len(words))])
				}
				fmt.Fprintf(&c, "(%s) '\n", strings.Join(line, " "))
			}
			c.WriteString("ET\n")
		}
		fmt.Fprintf(&c, "BT /F1 10 Tf 290 30 Td (Page %d of %d) Tj ET\n", p, n)
		b.stream(cont, "/Filter /FlateDecode", deflate(c.Bytes()))
		b.obj(page, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << %s >> /Contents %d 0 R >>", res, cont))
	}
	b.obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n))
	b.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	_ = doc
	return b.finish()
}

func scanJPEG(r *rand.Rand) []byte {
	img := image.NewGray(image.Rect(0, 0, 850, 1100))
	for i := range img.Pix {
		img.Pix[i] = 235
	}
	// "text lines" with noise, as a scanned page has
	for y := 80; y < 1020; y += 22 {
		for x := 80; x < 770; x++ {
			if r.Intn(3) == 0 {
				for k := 0; k < 9; k++ {
					img.SetGray(x, y+k, color.Gray{Y: uint8(20 + r.Intn(60))})
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 60}); err != nil {
		log.Fatal(err)
	}
	return buf.Bytes()
}

// writeStampPDF writes the anchor's stamp file: front blank-stamped pages
// for our cover and index, then one page per document page, each with its
// stamp bottom right (the same text our engine stamps).
func writeStampPDF(path string, front, pages int) {
	var b pdfBuf
	b.WriteString("%PDF-1.6\n")
	b.obj(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
	var kids []string
	next := 10
	for p := front + 1; p <= front+pages; p++ {
		page, cont := next, next+1
		next += 2
		kids = append(kids, fmt.Sprintf("%d 0 R", page))
		c := fmt.Sprintf("q 1 g 470 7 112 12 re f 0 g BT /F1 9 Tf 473 10 Td (GDI-2026-0142 \\227 %d) Tj ET Q\n", p)
		b.stream(cont, "", []byte(c))
		b.obj(page, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", cont))
	}
	b.obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), pages))
	b.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	if err := os.WriteFile(path, b.finish(), 0o600); err != nil {
		log.Fatal(err)
	}
}
