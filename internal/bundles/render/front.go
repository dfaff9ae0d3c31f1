package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Index geometry (points). Rows never depend on page counts, so the number
// of index pages is known before any source is read.
const (
	idxLeft     = 56.0
	idxRight    = a4W - 56
	idxDateX    = 400.0
	idxTitleMax = idxDateX - 12 - idxLeft - 14 // title column width (indented by 14)
	idxTop      = a4H - 64
	idxBottom   = 72.0
	idxSize     = 10.0
	idxLeading  = 13.0
	idxGap      = 4.0
)

type rowKind int

const (
	rowSection rowKind = iota
	rowDoc
	rowEmpty
)

type indexRow struct {
	kind    rowKind
	section int      // index within the layout's sections
	entry   int      // rowDoc: index within the layout's entries
	lines   [][]byte // WinAnsi
	date    []byte
}

func (r indexRow) height() float64 {
	h := float64(len(r.lines))*idxLeading + idxGap
	if r.kind == rowSection {
		h += 6
	}
	return h
}

type indexLayout struct {
	supplementary bool
	sections      []Section
	pages         [][]indexRow // rows on each index page
	subst         int
	sectionPage   []int // index page (within layout) where each section heading is
}

func headingFor(s Section) string {
	if s.Label == "" {
		return s.Title
	}
	if s.Title == "" {
		return s.Label
	}
	return s.Label + ". " + s.Title
}

func layoutIndex(secs []Section, supplementary bool) *indexLayout {
	l := &indexLayout{supplementary: supplementary, sections: secs}
	var rows []indexRow
	entry := 0
	for si, s := range secs {
		h, n := winAnsi(headingFor(s))
		l.subst += n
		rows = append(rows, indexRow{kind: rowSection, section: si, lines: wrapText(h, fontBold, 11, idxRight-idxLeft, 2)})
		if len(s.Sources) == 0 {
			msg, _ := winAnsi("(no documents)")
			rows = append(rows, indexRow{kind: rowEmpty, section: si, lines: [][]byte{msg}})
		}
		for _, src := range s.Sources {
			t, n := winAnsi(src.Title)
			l.subst += n
			date := []byte{0x97} // em dash: no date
			if !src.Date.IsZero() {
				date = []byte(src.Date.Format("2006-01-02"))
			}
			rows = append(rows, indexRow{kind: rowDoc, section: si, entry: entry, lines: wrapText(t, fontRegular, idxSize, idxTitleMax, 3), date: date})
			entry++
		}
	}
	l.sectionPage = make([]int, len(secs))
	var cur []indexRow
	y := idxTop - 40 // title and column heads on every index page
	for _, r := range rows {
		if y-r.height() < idxBottom && len(cur) > 0 {
			l.pages = append(l.pages, cur)
			cur = nil
			y = idxTop - 40
		}
		if r.kind == rowSection {
			l.sectionPage[r.section] = len(l.pages)
		}
		cur = append(cur, r)
		y -= r.height()
	}
	l.pages = append(l.pages, cur)
	return l
}

// writeIndex writes the index pages; each document row is a link to the
// document's first page.
func (bl *builder) writeIndex(l *indexLayout, pageIdx []int, entries []Entry) {
	title := "Index"
	if l.supplementary {
		title = "Supplementary index: late additions"
	}
	for pi, rows := range l.pages {
		var c content
		t := title
		if pi > 0 {
			t += " (continued)"
		}
		tb, _ := winAnsi(t)
		c.text(idxLeft, idxTop, fontBold, 16, tb)
		y := idxTop - 28
		c.text(idxLeft, y, fontBold, 9, []byte("Document"))
		c.text(idxDateX, y, fontBold, 9, []byte("Date"))
		c.textRight(idxRight, y, fontBold, 9, []byte("Pages"))
		_, _ = c.WriteString("0.5 w\n")
		c.line(idxLeft, y-4, idxRight, y-4)
		y = idxTop - 40
		if pi == 0 && l.supplementary && l.subst > 0 {
			// (the main part's count is on the cover, which must not change)
			note, _ := winAnsi(fmt.Sprintf("%d character(s) of these titles cannot be shown with the bundle's built-in Latin font and appear as \"?\"; the bookmarks show them in full.", l.subst))
			c.text(idxLeft, idxTop-18, fontItalic, 7, note)
		}
		var annots types.Array
		for _, r := range rows {
			top := y
			switch r.kind {
			case rowSection:
				y -= 6
				for _, ln := range r.lines {
					y -= idxLeading
					c.text(idxLeft, y+3, fontBold, 11, ln)
				}
			case rowEmpty:
				y -= idxLeading
				c.text(idxLeft+14, y+3, fontItalic, idxSize, r.lines[0])
			case rowDoc:
				e := entries[r.entry]
				rng := e.FirstLabel
				if e.LastLabel != e.FirstLabel {
					rng += "\u2013" + e.LastLabel
				}
				rb, _ := winAnsi(rng)
				for i, ln := range r.lines {
					y -= idxLeading
					c.text(idxLeft+14, y+3, fontRegular, idxSize, ln)
					if i == 0 {
						c.text(idxDateX, y+3, fontRegular, idxSize, r.date)
						c.textRight(idxRight, y+3, fontRegular, idxSize, rb)
					}
				}
				annots = append(annots, types.Dict{
					"Type": name("Annot"), "Subtype": name("Link"),
					"Rect":   nums(idxLeft, y-1, idxRight, top-idxGap/2+1),
					"Border": types.Array{types.Integer(0), types.Integer(0), types.Integer(0)},
					"F":      types.Integer(4),
					"Dest":   types.Array{ref(bl.pages[e.FirstPage-1].obj), name("Fit")},
				})
			}
			y -= idxGap
		}
		_ = bl.writeOwnPage(pageIdx[pi], a4Portrait, c.Bytes(), nil, annots)
	}
}

func (bl *builder) writeCover(idx int, subst int) {
	b := bl.b
	var c content
	y := a4H - 86
	left, width := 72.0, a4W-144
	put := func(fontName string, size float64, s string, gapAfter float64) {
		enc, _ := winAnsi(s)
		for _, ln := range wrapText(enc, fontName, size, width, 4) {
			y -= size
			c.text(left, y, fontName, size, ln)
			y -= size * 0.35
		}
		y -= gapAfter
	}
	label := func(s string) { put(fontItalic, 9, s, 2) }
	label("Court")
	put(fontBold, 14, orDash(b.CourtName), 14)
	label("Case reference")
	put(fontBold, 14, orDash(b.CaseReference), 14)
	label("Bundle")
	put(fontBold, 20, orDash(b.Title), 14)
	label("Hearing date")
	hd := "not fixed"
	if !b.HearingDate.IsZero() {
		hd = longDate(b.HearingDate)
	}
	put(fontRegular, 12, hd, 14)
	label("Parties")
	if len(b.Parties) == 0 {
		put(fontRegular, 12, "\u2014", 0)
	}
	for _, p := range b.Parties {
		put(fontRegular, 12, p, 2)
	}
	y -= 12
	label("Built")
	put(fontRegular, 12, b.BuiltAt.UTC().Format("2 January 2006, 15:04 UTC"), 14)
	_, _ = c.WriteString("0.5 w\n")
	c.line(left, y, left+width, y)
	y -= 18
	note := "Every page of this bundle is stamped at the bottom right with the case reference and its page number, which equals its page number in this PDF file."
	if b.Numbering == PerSection {
		note = "Every page of this bundle is stamped at the bottom right with the case reference and its page label: section letter and page within the section (A1, A2 … B1 …); the cover and indexes are numbered i, ii, iii …"
	}
	put(fontRegular, 10, note, 6)
	// Nothing here depends on late additions: the main part stays the same.
	put(fontRegular, 10, "The index follows this page; each entry links to its document. Documents added after the bundle was first built follow the main part, after a supplementary index, so that no earlier page number changes.", 6)
	if subst > 0 {
		put(fontItalic, 9, fmt.Sprintf("%d character(s) of titles in this bundle cannot be shown with its built-in Latin font and appear as \"?\"; the bookmarks show them in full.", subst), 0)
	}
	_ = bl.writeOwnPage(idx, a4Portrait, c.Bytes(), nil, nil)
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "\u2014"
	}
	return s
}

func longDate(t time.Time) string { return t.Format("Monday 2 January 2006") }

// writeOutline writes the bookmarks: one item per section with a child per
// document; returns the outline root object (0 if there is nothing).
func (bl *builder) writeOutline(mainIdx *indexLayout, mainPages []int, supp *indexLayout, suppPages []int) int {
	type item struct {
		obj      int
		title    string
		dest     int // page index
		children []item
	}
	var tops []item
	pw := bl.pw
	entry := 0
	addSecs := func(secs []Section, l *indexLayout, idxPages []int) {
		for si, s := range secs {
			it := item{obj: pw.alloc(), title: headingFor(s), dest: idxPages[l.sectionPage[si]]}
			if len(s.Sources) > 0 {
				it.dest = bl.entries[entry].FirstPage - 1
			}
			for range s.Sources {
				e := bl.entries[entry]
				it.children = append(it.children, item{obj: pw.alloc(), title: e.Title, dest: e.FirstPage - 1})
				entry++
			}
			tops = append(tops, it)
		}
	}
	addSecs(bl.b.Sections, mainIdx, mainPages)
	if supp != nil {
		addSecs(bl.b.LateAdditions, supp, suppPages)
	}
	if len(tops) == 0 {
		return 0
	}
	root := pw.alloc()
	var write func(items []item, parent int) int
	write = func(items []item, parent int) int {
		count := 0
		for i, it := range items {
			d := types.Dict{
				"Title":  textString(it.title),
				"Parent": ref(parent),
				"Dest":   types.Array{ref(bl.pages[it.dest].obj), name("Fit")},
			}
			if i > 0 {
				d["Prev"] = ref(items[i-1].obj)
			}
			if i < len(items)-1 {
				d["Next"] = ref(items[i+1].obj)
			}
			if len(it.children) > 0 {
				d["First"] = ref(it.children[0].obj)
				d["Last"] = ref(it.children[len(it.children)-1].obj)
				d["Count"] = types.Integer(len(it.children))
				count += len(it.children)
			}
			pw.writeObject(it.obj, mustSerialize(d))
			count++
			write(it.children, it.obj)
		}
		return count
	}
	count := write(tops, root)
	pw.writeObject(root, mustSerialize(types.Dict{
		"Type": name("Outlines"), "First": ref(tops[0].obj), "Last": ref(tops[len(tops)-1].obj), "Count": types.Integer(count),
	}))
	return root
}
