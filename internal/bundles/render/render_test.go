package render

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

const caseRef = "GDI-2026-0142"

var builtAt = time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)

// part is a source with the number of pages it must fill, known
// independently of the renderer.
type part struct {
	s     Source
	pages int
}

func textDoc() []byte {
	var sb strings.Builder
	sb.WriteString("Statement of the officer in charge.\n")
	sb.WriteString(strings.Repeat("A very long line that must wrap onto the next lines of the page. ", 4) + "\n")
	sb.WriteString("ភ្នំពេញ Khmer place name, and 中文 too.\n")
	for i := 0; i < 96; i++ {
		fmt.Fprintf(&sb, "Line %d\tof the statement.\n", i+1)
	}
	return []byte(sb.String())
}

// objectStreamPDF rewrites a PDF with object streams and an xref stream (qpdf).
func objectStreamPDF(t testing.TB, in []byte) []byte {
	t.Helper()
	p := writeTemp(t, "in.pdf", in)
	out := filepath.Join(filepath.Dir(p), "objstm.pdf")
	if b, err := exec.Command("qpdf", "--object-streams=generate", p, out).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v %s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func testSections(t testing.TB) ([]Section, [][]part) {
	a := []part{
		{src("a1", "Charge sheet", "application/pdf", makePDF(pdfOpts{pages: 3, tag: "charge"})), 3},
		{src("a2", "Officer's statement (typed)", "text/plain; charset=utf-8", textDoc()), 2},
	}
	b := []part{
		{src("b1", "Photograph of the premises", "image/png", makePNG(400, 300, true)), 1},
		{src("b2", "Scan of the receipt", "image/jpeg", makeJPEG(300, 500)), 1},
		{src("b3", "Ledger (nested page tree)", "application/pdf", makePDF(pdfOpts{pages: 7, tag: "ledger", nested: true})), 7},
		{src("b4", "Rotated map", "application/pdf", makePDF(pdfOpts{pages: 2, tag: "map", rotate: 90})), 2},
	}
	c := []part{
		{src("c1", "Passport copy (object streams)", "application/pdf", objectStreamPDF(t, makePDF(pdfOpts{pages: 2, tag: "passport"}))), 2},
	}
	parts := [][]part{a, b, c, nil}
	secs := []Section{{Label: "A", Title: "Charges"}, {Label: "B", Title: "Evidence"}, {Label: "C", Title: "Identity documents"}, {Label: "D", Title: "Correspondence"}}
	for i := range secs {
		for _, p := range parts[i] {
			secs[i].Sources = append(secs[i].Sources, p.s)
		}
	}
	return secs, parts
}

func testBundle(n Numbering, secs []Section) Bundle {
	return Bundle{
		CaseReference: caseRef, CourtName: "Phnom Penh Municipal Court", Title: "Hearing bundle",
		HearingDate: time.Date(2027, 1, 12, 0, 0, 0, 0, time.UTC), Parties: []string{"The Prosecutor", "Mr Sok Dara (respondent)"},
		BuiltAt: builtAt, Numbering: n, Sections: secs,
	}
}

func build(t testing.TB, b Bundle, lim Limits) ([]byte, Result) {
	t.Helper()
	var out bytes.Buffer
	res, err := Build(context.Background(), b, lim, &out, nil)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return out.Bytes(), res
}

// expectedLabels computes every page's label from the independent page
// counts: front pages, then each section's documents.
func expectedLabels(n Numbering, front int, secs []Section, parts [][]part) []string {
	var labels []string
	for i := 1; i <= front; i++ {
		if n == PerSection {
			labels = append(labels, roman(i))
		} else {
			labels = append(labels, fmt.Sprint(i))
		}
	}
	for si, ps := range parts {
		k := 0
		for _, p := range ps {
			for j := 0; j < p.pages; j++ {
				k++
				if n == PerSection {
					labels = append(labels, fmt.Sprintf("%s%d", secs[si].Label, k))
				} else {
					labels = append(labels, fmt.Sprint(len(labels)+1))
				}
			}
		}
	}
	return labels
}

func readBack(t testing.TB, data []byte) *model.Context {
	t.Helper()
	ctx, err := pdfcpu.Read(bytes.NewReader(data), readConfig())
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if err := ctx.EnsurePageCount(); err != nil {
		t.Fatal(err)
	}
	cat, err := ctx.DereferenceDict(*ctx.Root)
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Outlines, err = ctx.DereferenceDict(cat["Outlines"]); err != nil {
		t.Fatal(err)
	}
	return ctx
}

var rangeRE = regexp.MustCompile(`([A-Za-z]*\d+|[ivxlcdm]+)(?:\x{2013}([A-Za-z]*\d+))?\s*$`)

func TestBuildBundle(t *testing.T) {
	needTools(t)
	for _, n := range []Numbering{Consecutive, PerSection} {
		t.Run(string(n), func(t *testing.T) {
			secs, parts := testSections(t)
			var progress []int
			var out bytes.Buffer
			res, err := Build(context.Background(), testBundle(n, secs), Limits{}, &out, func(done, total int) {
				progress = append(progress, done)
				if done > total {
					t.Errorf("progress %d of %d", done, total)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			data := out.Bytes()
			path := writeTemp(t, "bundle.pdf", data)
			qpdfCheck(t, path)

			sum := 0
			for _, ps := range parts {
				for _, p := range ps {
					sum += p.pages
				}
			}
			const front = 2 // cover + one index page
			if res.Pages != sum+front {
				t.Fatalf("pages = %d, want %d documents + %d front", res.Pages, sum, front)
			}
			ctx := readBack(t, data)
			if ctx.PageCount != res.Pages {
				t.Fatalf("PDF has %d pages, Result says %d", ctx.PageCount, res.Pages)
			}
			if len(progress) == 0 || progress[len(progress)-1] != 8 {
				t.Errorf("progress calls %v, want to end at 8 (7 sources + finish)", progress)
			}

			// the stamp on every page
			want := expectedLabels(n, front, secs, parts)
			for i := 1; i <= res.Pages; i++ {
				txt := pageText(t, path, i, nil, 0)
				stamp := caseRef + " \u2014 " + want[i-1]
				if !strings.Contains(txt, stamp+"\n") && !strings.HasSuffix(strings.TrimSpace(txt), stamp) {
					t.Errorf("page %d: stamp %q not found in:\n%s", i, stamp, txt)
				}
			}
			// the source pages are there, in order
			if txt := pageText(t, path, 3, nil, 0); !strings.Contains(txt, "charge page 1") {
				t.Errorf("page 3 is not the first charge page:\n%s", txt)
			}
			cover := pageText(t, path, 1, nil, 0)
			for _, s := range []string{caseRef, "Phnom Penh Municipal Court", "Hearing bundle", "Tuesday 12 January 2027", "Mr Sok Dara", "1 December 2026, 09:30 UTC"} {
				if !strings.Contains(cover, s) {
					t.Errorf("cover lacks %q:\n%s", s, cover)
				}
			}
			if !strings.Contains(pageText(t, path, 6, nil, 0), "cannot be shown") {
				// page 6 = first page of the text document (cover, index, 3 charge pages, …)
				t.Errorf("the text page does not say that Khmer/Chinese characters could not be shown")
			}

			// Entries agree with the labels
			if len(res.Entries) != 7 {
				t.Fatalf("entries %d", len(res.Entries))
			}
			for _, e := range res.Entries {
				if e.FirstLabel != want[e.FirstPage-1] || e.LastLabel != want[e.LastPage-1] {
					t.Errorf("entry %s: %s–%s, want %s–%s", e.DocumentID, e.FirstLabel, e.LastLabel, want[e.FirstPage-1], want[e.LastPage-1])
				}
			}

			// index links: each points at the page its printed range names
			pd, _, _, err := ctx.PageDict(2, false)
			if err != nil {
				t.Fatal(err)
			}
			annots, _ := ctx.DereferenceArray(pd["Annots"])
			if len(annots) != len(res.Entries) {
				t.Fatalf("index has %d links, want %d", len(annots), len(res.Entries))
			}
			seen := map[int]bool{}
			for _, a := range annots {
				ad, err := ctx.DereferenceDict(a)
				if err != nil {
					t.Fatal(err)
				}
				if st, _ := ad["Subtype"].(types.Name); st != "Link" {
					t.Fatalf("annotation %v is not a link", ad)
				}
				dest, err := pdfcpu.PageNrFromDestination(ctx, ad["Dest"])
				if err != nil {
					t.Fatal(err)
				}
				rect, err := ctx.RectForArray(ad.ArrayEntry("Rect"))
				if err != nil {
					t.Fatal(err)
				}
				row := strings.TrimSpace(pageText(t, path, 2, &box{rect.LL.X, rect.LL.Y, rect.UR.X, rect.UR.Y}, a4H))
				m := rangeRE.FindStringSubmatch(row)
				if m == nil {
					t.Fatalf("no page range in link row %q", row)
				}
				if m[1] != want[dest-1] {
					t.Errorf("link row %q points at page %d (%s), the row says %s", row, dest, want[dest-1], m[1])
				}
				seen[dest] = true
			}
			for _, e := range res.Entries {
				if !seen[e.FirstPage] {
					t.Errorf("no index link to %s (page %d)", e.Title, e.FirstPage)
				}
			}

			// bookmarks: a section each, a child per document, right pages
			bms, err := pdfcpu.Bookmarks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(bms) != len(secs) {
				t.Fatalf("%d top bookmarks, want %d", len(bms), len(secs))
			}
			ei := 0
			for si, bm := range bms {
				if bm.Title != headingFor(secs[si]) {
					t.Errorf("bookmark %q, want %q", bm.Title, headingFor(secs[si]))
				}
				if len(bm.Kids) != len(secs[si].Sources) {
					t.Fatalf("section %s: %d document bookmarks, want %d", secs[si].Label, len(bm.Kids), len(secs[si].Sources))
				}
				if len(bm.Kids) > 0 && bm.PageFrom != res.Entries[ei].FirstPage {
					t.Errorf("section %s bookmark → page %d, want %d", secs[si].Label, bm.PageFrom, res.Entries[ei].FirstPage)
				}
				if len(bm.Kids) == 0 && bm.PageFrom != 2 {
					t.Errorf("empty section %s bookmark → page %d, want the index (2)", secs[si].Label, bm.PageFrom)
				}
				for _, k := range bm.Kids {
					e := res.Entries[ei]
					if k.Title != e.Title || k.PageFrom != e.FirstPage {
						t.Errorf("bookmark %q → %d, want %q → %d", k.Title, k.PageFrom, e.Title, e.FirstPage)
					}
					ei++
				}
			}
		})
	}
}

func TestManyEntriesIndexSpansPages(t *testing.T) {
	needTools(t)
	one := makePDF(pdfOpts{pages: 1, tag: "exhibit"})
	var secs []Section
	for s := 0; s < 4; s++ {
		sec := Section{Label: string(rune('A' + s)), Title: "Exhibits"}
		for i := 0; i < 30; i++ {
			title := fmt.Sprintf("Exhibit %c-%d", 'A'+s, i+1)
			if i%7 == 0 {
				title += strings.Repeat(" with a title long enough to wrap over more than one line", 2)
			}
			sec.Sources = append(sec.Sources, src(fmt.Sprintf("%c%d", 'a'+s, i), title, "application/pdf", one))
		}
		secs = append(secs, sec)
	}
	data, res := build(t, testBundle(Consecutive, secs), Limits{})
	path := writeTemp(t, "big.pdf", data)
	qpdfCheck(t, path)
	front := res.Entries[0].FirstPage - 1
	if front < 3 {
		t.Fatalf("120 entries fit on %d front pages; expected the index to span pages", front)
	}
	if res.Pages != front+120 {
		t.Fatalf("pages %d, want %d", res.Pages, front+120)
	}
	for i := 2; i <= front; i++ {
		if txt := pageText(t, path, i, nil, 0); !strings.Contains(txt, "Index") {
			t.Errorf("page %d is not an index page", i)
		}
	}
	for i := 1; i <= res.Pages; i++ {
		if txt := pageText(t, path, i, nil, 0); !strings.Contains(txt, fmt.Sprintf("%s \u2014 %d", caseRef, i)) {
			t.Errorf("page %d lacks its stamp", i)
		}
	}
	// every entry has exactly one link somewhere in the index
	ctx := readBack(t, data)
	links := map[int]int{}
	for p := 2; p <= front; p++ {
		pd, _, _, err := ctx.PageDict(p, false)
		if err != nil {
			t.Fatal(err)
		}
		annots, _ := ctx.DereferenceArray(pd["Annots"])
		for _, a := range annots {
			ad, _ := ctx.DereferenceDict(a)
			dest, err := pdfcpu.PageNrFromDestination(ctx, ad["Dest"])
			if err != nil {
				t.Fatal(err)
			}
			links[dest]++
		}
	}
	for _, e := range res.Entries {
		if links[e.FirstPage] != 1 {
			t.Errorf("%s: %d links to page %d", e.Title, links[e.FirstPage], e.FirstPage)
		}
	}
}

func TestLateAdditionsKeepEarlierPages(t *testing.T) {
	needTools(t)
	for _, n := range []Numbering{Consecutive, PerSection} {
		t.Run(string(n), func(t *testing.T) {
			secs, _ := testSections(t)
			b := testBundle(n, secs)
			before, r1 := build(t, b, Limits{})
			b.LateAdditions = []Section{
				{Label: "B", Title: "Evidence (late)", Sources: []Source{src("late1", "Late witness statement", "application/pdf", makePDF(pdfOpts{pages: 2, tag: "late"}))}},
				{Label: "E", Title: "Late documents", Sources: []Source{src("late2", "Medical report (ក្រសួង)", "text/plain", []byte("Report.\n"))}},
			}
			after, r2 := build(t, b, Limits{})
			p1, p2 := writeTemp(t, "before.pdf", before), writeTemp(t, "after.pdf", after)
			qpdfCheck(t, p2)
			if r2.Pages != r1.Pages+1+2+1 {
				t.Fatalf("pages %d → %d, want +4 (supplementary index, 2, 1)", r1.Pages, r2.Pages)
			}
			for i := 1; i <= r1.Pages; i++ {
				a, b := pageText(t, p1, i, nil, 0), pageText(t, p2, i, nil, 0)
				if a != b {
					t.Errorf("page %d changed with late additions:\n%s\n---\n%s", i, a, b)
				}
			}
			for i, e := range r1.Entries {
				if r2.Entries[i] != e {
					t.Errorf("entry %d changed: %+v → %+v", i, e, r2.Entries[i])
				}
			}
			supp := pageText(t, p2, r1.Pages+1, nil, 0)
			if !strings.Contains(supp, "Supplementary index") || !strings.Contains(supp, "Late witness statement") {
				t.Errorf("no supplementary index after the main part:\n%s", supp)
			}
			late := r2.Entries[len(r2.Entries)-2:]
			wantFirst := map[Numbering][2]string{Consecutive: {fmt.Sprint(r1.Pages + 2), fmt.Sprint(r1.Pages + 4)}, PerSection: {"B12", "E1"}}[n]
			if late[0].FirstLabel != wantFirst[0] || late[1].FirstLabel != wantFirst[1] {
				t.Errorf("late labels %s, %s; want %v", late[0].FirstLabel, late[1].FirstLabel, wantFirst)
			}
			for i := r1.Pages + 1; i <= r2.Pages; i++ {
				lbl := fmt.Sprint(i)
				if n == PerSection {
					lbl = map[int]string{r1.Pages + 2: "B12", r1.Pages + 3: "B13", r1.Pages + 4: "E1"}[i]
					if i == r1.Pages+1 {
						lbl = roman(3) // cover i, index ii, supplementary index iii
					}
				}
				if txt := pageText(t, p2, i, nil, 0); !strings.Contains(txt, caseRef+" \u2014 "+lbl) {
					t.Errorf("late page %d lacks stamp %q:\n%s", i, lbl, txt)
				}
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	secs, _ := testSections(t)
	b := testBundle(PerSection, secs)
	b.LateAdditions = []Section{{Label: "E", Title: "Late", Sources: []Source{src("e1", "Late", "image/png", makePNG(50, 80, false))}}}
	one, _ := build(t, b, Limits{})
	two, _ := build(t, b, Limits{})
	if !bytes.Equal(one, two) {
		t.Fatal("two builds of the same bundle differ")
	}
	if bytes.Contains(one, []byte(time.Now().UTC().Format("20060102"))) && time.Now().UTC().Format("20060102") != builtAt.Format("20060102") {
		t.Error("today's date is written into the PDF")
	}
	// one byte of one source changes → output changes (and so does /ID)
	secs2, _ := testSections(t)
	secs2[0].Sources[0] = src("a1", "Charge sheet", "application/pdf", makePDF(pdfOpts{pages: 3, tag: "chargE"}))
	b.Sections = secs2
	three, _ := build(t, b, Limits{})
	if bytes.Equal(one, three) {
		t.Fatal("a changed source gives the same bytes")
	}
	id := regexp.MustCompile(`/ID \[<([0-9a-f]+)>`)
	if id.FindSubmatch(one) == nil || bytes.Equal(id.FindSubmatch(one)[1], id.FindSubmatch(three)[1]) {
		t.Error("/ID missing or unchanged by a content change")
	}
}

// pngHeader is a PNG whose header claims w×h pixels (the data is tiny):
// decoding it would need gigabytes.
func pngHeader(w, h uint32) []byte {
	p := makePNG(1, 1, false)
	// IHDR starts at byte 8: length(4) "IHDR"(4) width(4) height(4) … crc
	binary.BigEndian.PutUint32(p[16:], w)
	binary.BigEndian.PutUint32(p[20:], h)
	crc := crc32.ChecksumIEEE(p[12:29])
	binary.BigEndian.PutUint32(p[29:], crc)
	return p
}

func jpegHeader(w, h uint16) []byte {
	j := makeJPEG(8, 8)
	i := bytes.Index(j, []byte{0xff, 0xc0})
	binary.BigEndian.PutUint16(j[i+5:], h)
	binary.BigEndian.PutUint16(j[i+7:], w)
	return j
}

func encrypt(t testing.TB, in []byte, userPW string) []byte {
	t.Helper()
	p := writeTemp(t, "plain.pdf", in)
	out := filepath.Join(filepath.Dir(p), "enc.pdf")
	if b, err := exec.Command("qpdf", "--encrypt", userPW, "owner-secret", "256", "--", p, out).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --encrypt: %v %s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestBadSources(t *testing.T) {
	needTools(t)
	good := makePDF(pdfOpts{pages: 2, tag: "good"})
	deepSyntax := bytes.Replace(makePDF(pdfOpts{pages: 1, tag: "deep"}), []byte("/Type /Catalog"),
		[]byte("/Type /Catalog /X "+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)), 1)
	oversize := src("big", "Huge scan", "application/pdf", bytes.Repeat(good, 2))
	oversize.Size = 0 // the recorded size is unknown: the read itself must stop
	lim := Limits{MaxSourceBytes: int64(len(good)) + 10, MaxSourcePages: 10, MaxImagePixels: 4_000_000}
	cases := []struct {
		name   string
		s      Source
		reason string
		lim    Limits
	}{
		{"corrupt", src("bad1", "Broken file", "application/pdf", []byte("%PDF-1.7\nthis is not a PDF at all\n%%EOF\n")), "corrupt", Limits{}},
		{"truncated", src("bad2", "Cut off", "application/pdf", good[:len(good)/3]), "", Limits{}},
		{"encrypted", src("enc1", "Locked file", "application/pdf", encrypt(t, good, "user-secret")), "encrypted", Limits{}},
		{"encrypted owner only", src("enc2", "Restricted file", "application/pdf", encrypt(t, good, "")), "encrypted", Limits{}},
		{"page bomb", src("bomb1", "Many pages", "application/pdf", makePDF(pdfOpts{pages: 50, tag: "x"})), "too many pages", Limits{MaxSourcePages: 10}},
		{"deep page tree", src("bomb2", "Deep tree", "application/pdf", makePDF(pdfOpts{pages: 1, tag: "x", deepTree: 200})), "nesting too deep", Limits{}},
		{"cyclic page tree", src("bomb3", "Cycle", "application/pdf", makePDF(pdfOpts{pages: 2, tag: "x", cyclic: true})), "cyclic", Limits{}},
		{"deep syntax", src("bomb4", "Nested arrays", "application/pdf", deepSyntax), "nesting too deep", Limits{}},
		{"png pixel bomb", src("px1", "Huge PNG", "image/png", pngHeader(60000, 60000)), "image too large", lim},
		{"jpeg pixel bomb", src("px2", "Huge JPEG", "image/jpeg", jpegHeader(65000, 65000)), "image too large", lim},
		{"oversize declared", src("big0", "Huge declared", "application/pdf", bytes.Repeat(good, 2)), "too big", lim},
		{"oversize actual", oversize, "too big", lim},
		{"unsupported", src("doc1", "Word file", "application/msword", []byte("PK")), "unsupported", Limits{}},
		{"no media type", src("doc2", "Unknown", "", []byte("x")), "unsupported", Limits{}},
		{"bad utf8", src("txt1", "Binary text", "text/plain", []byte{0xff, 0xfe, 0x00, 0xc3}), "UTF-8", Limits{}},
		{"text page bomb", src("txt3", "Endless text", "text/plain", bytes.Repeat([]byte("line\n"), 200)), "too many pages", Limits{MaxSourcePages: 3}},
		{"text page bomb by size", src("txt4", "Huge text", "text/plain", bytes.Repeat([]byte("x"), 3*4800+1)), "too many pages", Limits{MaxSourcePages: 3}},
		{"latin1 charset", src("txt2", "Latin-1", "text/plain; charset=iso-8859-1", []byte("caf\xe9")), "unsupported text encoding", Limits{}},
		{"corrupt png", src("px3", "Broken PNG", "image/png", []byte("\x89PNG\r\n\x1a\nnope")), "corrupt PNG", Limits{}},
		{"corrupt jpeg", src("px4", "Broken JPEG", "image/jpeg", []byte{0xff, 0xd8, 0xff, 0x00}), "corrupt JPEG", Limits{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			secs := []Section{{Label: "A", Title: "Good", Sources: []Source{src("ok1", "Fine", "application/pdf", good)}},
				{Label: "B", Title: "Bad", Sources: []Source{tc.s}}}
			var out bytes.Buffer
			_, err := Build(context.Background(), testBundle(Consecutive, secs), tc.lim, &out, nil)
			var se *SourceError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SourceError", err)
			}
			if se.DocumentID != tc.s.DocumentID || se.Title != tc.s.Title {
				t.Errorf("error names %s %q, want %s %q", se.DocumentID, se.Title, tc.s.DocumentID, tc.s.Title)
			}
			if !strings.Contains(se.Reason, tc.reason) {
				t.Errorf("reason %q, want it to contain %q", se.Reason, tc.reason)
			}
			if !strings.Contains(se.Error(), tc.s.Title) {
				t.Errorf("Error() %q does not name the document", se.Error())
			}
		})
	}
}

func TestTotalPagesLimit(t *testing.T) {
	secs := []Section{{Label: "A", Sources: []Source{
		src("p1", "First", "application/pdf", makePDF(pdfOpts{pages: 4, tag: "a"})),
		src("p2", "Second", "application/pdf", makePDF(pdfOpts{pages: 4, tag: "b"})),
	}}}
	_, err := Build(context.Background(), testBundle(Consecutive, secs), Limits{MaxTotalPages: 8}, &bytes.Buffer{}, nil)
	var se *SourceError
	if !errors.As(err, &se) || se.DocumentID != "p2" || !strings.Contains(se.Reason, "limit of 8 pages") {
		t.Fatalf("err = %v, want the second document named for exceeding 8 pages", err)
	}
}

func TestCancelled(t *testing.T) {
	secs, _ := testSections(t)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := Build(ctx, testBundle(Consecutive, secs), Limits{}, &bytes.Buffer{}, func(done, total int) {
		calls++
		if done == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if calls > 2 {
		t.Errorf("went on for %d sources after cancel", calls-2)
	}
}

func TestOpenErrorIsNotBlamedOnDocument(t *testing.T) {
	s := src("x1", "Missing blob", "application/pdf", nil)
	s.Size = 0
	s.Open = func(context.Context) (io.ReadCloser, error) { return nil, os.ErrNotExist }
	_, err := Build(context.Background(), testBundle(Consecutive, []Section{{Label: "A", Sources: []Source{s}}}), Limits{}, &bytes.Buffer{}, nil)
	var se *SourceError
	if err == nil || errors.As(err, &se) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want the storage error itself", err)
	}
}

// objStmBomb is a PDF with an object stream that inflates to 80 MiB.
func objStmBomb() []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for i := 0; i < 80; i++ {
		_, _ = zw.Write(chunk)
	}
	_ = zw.Close()
	base := makePDF(pdfOpts{pages: 1, tag: "bomb"})
	i := bytes.Index(base, []byte("xref\n"))
	var buf bytes.Buffer
	buf.Write(base[:i])
	fmt.Fprintf(&buf, "99 0 obj\n<< /Type /ObjStm /N 1 /First 5 /Filter /FlateDecode /Length %d >>\nstream\n", z.Len())
	buf.Write(z.Bytes())
	buf.WriteString("\nendstream\nendobj\n")
	buf.Write(base[i:]) // the xref does not list it: the scan must find it anyway
	return buf.Bytes()
}

func TestObjectStreamBomb(t *testing.T) {
	secs := []Section{{Label: "A", Sources: []Source{src("zb", "Zip bomb", "application/pdf", objStmBomb())}}}
	_, err := Build(context.Background(), testBundle(Consecutive, secs), Limits{}, &bytes.Buffer{}, nil)
	var se *SourceError
	if !errors.As(err, &se) || se.DocumentID != "zb" || !strings.Contains(se.Reason, "decompressed") {
		t.Fatalf("err = %v, want a SourceError about the decompressed size", err)
	}
}

// A /Length far beyond the end of the file (direct or indirect) must not
// make the parser allocate it: the build goes through, the page intact.
func TestStreamLengthBeyondFile(t *testing.T) {
	needTools(t)
	direct := makePDF(pdfOpts{pages: 2, tag: "lenbomb", length: "999999999999"})
	indirect := makePDF(pdfOpts{pages: 1, tag: "lenref", length: "98 0 R", extra: map[int]string{98: "999999999999"}})
	for name, data := range map[string][]byte{"direct": direct, "indirect": indirect} {
		t.Run(name, func(t *testing.T) {
			s := src("lb", "Length bomb", "application/pdf", data)
			out, res := build(t, testBundle(Consecutive, []Section{{Label: "A", Sources: []Source{s}}}), Limits{})
			path := writeTemp(t, "lb.pdf", out)
			qpdfCheck(t, path)
			if txt := pageText(t, path, 3, nil, 0); !strings.Contains(txt, "page 1") {
				t.Errorf("page 3 lost its content (%d pages):\n%s", res.Pages, txt)
			}
		})
	}
}

// A source's own links keep pointing at its own pages, now in the bundle;
// a reference to something outside its pages (here: its catalog) becomes
// null instead of dragging that in.
func TestSourceLinksFollowTheirPages(t *testing.T) {
	needTools(t)
	s := src("l1", "With links", "application/pdf", makePDF(pdfOpts{pages: 4, tag: "linked", link: true}))
	data, res := build(t, testBundle(Consecutive, []Section{{Label: "A", Sources: []Source{
		src("l0", "Before", "application/pdf", makePDF(pdfOpts{pages: 2, tag: "before"})), s,
	}}}), Limits{})
	qpdfCheck(t, writeTemp(t, "links.pdf", data))
	ctx := readBack(t, data)
	first := res.Entries[1].FirstPage
	pd, _, _, err := ctx.PageDict(first, false)
	if err != nil {
		t.Fatal(err)
	}
	annots, err := ctx.DereferenceArray(pd["Annots"])
	if err != nil || len(annots) != 2 {
		t.Fatalf("annots %v, %v", annots, err)
	}
	a0, _ := ctx.DereferenceDict(annots[0])
	dest, err := pdfcpu.PageNrFromDestination(ctx, a0["Dest"])
	if err != nil {
		t.Fatal(err)
	}
	if dest != res.Entries[1].LastPage {
		t.Errorf("the source's link points at bundle page %d, want %d", dest, res.Entries[1].LastPage)
	}
	a1, _ := ctx.DereferenceDict(annots[1])
	if arr, _ := a1["Dest"].(types.Array); len(arr) == 0 || arr[0] != nil {
		t.Errorf("a reference to the source's catalog was copied: %v", a1["Dest"])
	}
	if bytes.Count(data, []byte("/Type /Catalog")) != 1 {
		t.Error("more than one catalog in the output")
	}
}

func TestEmptyBundle(t *testing.T) {
	needTools(t)
	data, res := build(t, Bundle{CaseReference: caseRef, BuiltAt: builtAt}, Limits{})
	qpdfCheck(t, writeTemp(t, "empty.pdf", data))
	if res.Pages != 2 || len(res.Entries) != 0 {
		t.Fatalf("pages %d entries %d, want cover + index", res.Pages, len(res.Entries))
	}
}

// Builds share nothing: run at once (and under -race) they give the same bytes.
func TestConcurrentBuildsAgree(t *testing.T) {
	secs, _ := testSections(t)
	b := testBundle(PerSection, secs)
	outs := make([][]byte, 4)
	errs := make([]error, 4)
	done := make(chan int)
	for i := range outs {
		go func() {
			var buf bytes.Buffer
			_, errs[i] = Build(context.Background(), b, Limits{}, &buf, nil)
			outs[i] = buf.Bytes()
			done <- i
		}()
	}
	for range outs {
		<-done
	}
	for i := range outs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !bytes.Equal(outs[i], outs[0]) {
			t.Fatalf("build %d differs", i)
		}
	}
}
