// Package render turns an ordered court-bundle description into the bundle
// PDF: a cover page, an index whose entries link to their pages, PDF
// bookmarks, then every source document (PDF pages imported as they are,
// JPEG/PNG images as pages, plain text typeset), each page stamped bottom
// right with the case reference and its bundle page label.
//
// It is a pure library: no database, no HTTP. Output is streamed to the
// writer as documents are processed (one source in memory at a time) and is
// deterministic: the same Bundle with the same source bytes gives the same
// output bytes. On error the bytes already written to w are incomplete and
// must be discarded by the caller.
//
// Limits of the text rendering: the bundle's own text uses the PDF standard
// fonts (not embedded) and can show only the Latin characters of
// Windows-1252; other characters appear as '?', and the page carrying them
// says how many could not be shown. Bookmarks keep full Unicode.
package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Numbering is how bundle pages are labelled.
type Numbering string

const (
	// Consecutive numbers 1..N over the whole PDF, cover and index
	// included: the stamp equals the PDF page number.
	Consecutive Numbering = "consecutive"
	// PerSection labels document pages A1, A2 … B1 …; the front matter
	// (cover, index, and a supplementary index before late additions) is
	// numbered with lower-case roman numerals i, ii, iii … running on
	// through the supplementary index. A late-addition section whose label
	// already appears in the main part continues that label's count.
	PerSection Numbering = "per_section"
)

// Source is one document version placed in the bundle.
type Source struct {
	DocumentID string // uuid
	Version    int
	Title      string
	Date       time.Time // shown in the index (date only)
	MediaType  string    // application/pdf, image/jpeg, image/png, text/plain (others: SourceError)
	Size       int64
	Open       func(ctx context.Context) (io.ReadCloser, error) // the bytes; may be called more than once
}

// Section is one lettered part of the bundle.
type Section struct {
	Label   string // "A", "B", …
	Title   string // "Charges"
	Sources []Source
}

// Bundle is the ordered description of the bundle to build.
type Bundle struct {
	CaseReference string
	CourtName     string
	Title         string
	HearingDate   time.Time // zero = none
	Parties       []string
	BuiltAt       time.Time // from the bundle's metadata: the only time written into the PDF
	Numbering     Numbering // empty: Consecutive
	Sections      []Section
	// LateAdditions are appended after the whole main part, preceded by a
	// supplementary index page, so that every page of the main part (cover,
	// index, documents) keeps its page number and stamp, byte-for-byte the
	// same numbering as a build without them. Numbering continues after the
	// main part.
	LateAdditions []Section
}

// Limits bound the work one bundle may cause. A zero field takes the
// default given in DefaultLimits.
type Limits struct {
	MaxSourceBytes int64 // per source
	MaxSourcePages int   // per source
	MaxTotalPages  int   // whole bundle
	MaxImagePixels int64 // width*height per image (decompression bombs)
}

// DefaultLimits are used for the zero fields of Limits.
var DefaultLimits = Limits{
	MaxSourceBytes: 100 << 20,
	MaxSourcePages: 5000,
	MaxTotalPages:  20000,
	MaxImagePixels: 25_000_000, // a decoded PNG takes 4 (16-bit: 8) bytes a pixel
}

func (l Limits) withDefaults() Limits {
	if l.MaxSourceBytes <= 0 {
		l.MaxSourceBytes = DefaultLimits.MaxSourceBytes
	}
	if l.MaxSourcePages <= 0 {
		l.MaxSourcePages = DefaultLimits.MaxSourcePages
	}
	if l.MaxTotalPages <= 0 {
		l.MaxTotalPages = DefaultLimits.MaxTotalPages
	}
	if l.MaxImagePixels <= 0 {
		l.MaxImagePixels = DefaultLimits.MaxImagePixels
	}
	return l
}

// Entry is where one source landed.
type Entry struct {
	Section    string // label
	DocumentID string
	Version    int
	Title      string
	FirstPage  int // PDF page numbers (1-based)
	LastPage   int
	FirstLabel string // stamped labels, e.g. "12" or "A1"
	LastLabel  string
}

// Result describes the PDF written.
type Result struct {
	Pages   int
	Entries []Entry
}

// SourceError names the document that made the build fail and why
// (encrypted, corrupt, too many pages, image too large, nesting too deep,
// unsupported type, too big). Callers show it to users.
type SourceError struct {
	DocumentID string
	Title      string
	Reason     string
	// Err is the underlying technical cause, if any (for logs, not users).
	Err error
}

func (e *SourceError) Error() string {
	return fmt.Sprintf("document %q (%s): %s", e.Title, e.DocumentID, e.Reason)
}

func (e *SourceError) Unwrap() error { return e.Err }

// badInput is what the source readers return for a bad source; Build turns
// it into a SourceError naming the source.
type badInput struct {
	reason string
	err    error
}

func (e *badInput) Error() string {
	if e.err != nil {
		return e.reason + ": " + e.err.Error()
	}
	return e.reason
}

func bad(reason string, err error) error { return &badInput{reason: reason, err: err} }

var (
	errNestingTooDeep = errors.New("objects nested too deeply")
	errNotUTF8        = errors.New("text is not valid UTF-8")
)

// A4 in points.
const (
	a4W = 595.28
	a4H = 841.89
)

// outRef is a reference to an object of the output file (as opposed to
// types.IndirectRef, which inside copied objects names a source object).
type outRef int

func (r outRef) String() string      { return strconv.Itoa(int(r)) + " 0 R" }
func (r outRef) Clone() types.Object { return r }
func (r outRef) PDFString() string   { return r.String() }
func ref(n int) outRef               { return outRef(n) }
func name(s string) types.Name       { return types.Name(s) }
func nums(f ...float64) types.Array {
	a := make(types.Array, len(f))
	for i, v := range f {
		a[i] = types.Float(v)
	}
	return a
}

// pageInfo is one page of the output, in order.
type pageInfo struct {
	obj    int
	label  string
	prefix string // per-section page labels: "A"; "" for front matter
	num    int    // number within prefix (roman for front matter)
}

type builder struct {
	ctx      context.Context
	b        Bundle
	lim      Limits
	pw       *pdfWriter
	progress func(done, total int)
	done     int
	total    int

	catalog, pagesRoot, info int
	fonts                    map[string]int // base font → font object
	fontDict                 int            // << /F1 … /CBStampF … >> for our own pages
	qStream                  int            // shared "q" content stream

	pages       []pageInfo
	frontCount  int            // roman numbering of front matter
	sectionNext map[string]int // per-section counters
	entries     []Entry
}

// Build writes the bundle PDF to w. progress (may be nil) is called with
// (done, total) work units. It honours ctx cancellation. The same Bundle
// (same bytes from Open) gives identical output bytes.
func Build(ctx context.Context, b Bundle, lim Limits, w io.Writer, progress func(done, total int)) (Result, error) {
	if b.Numbering == "" {
		b.Numbering = Consecutive
	}
	if b.Numbering != Consecutive && b.Numbering != PerSection {
		return Result{}, fmt.Errorf("render: unknown numbering %q", b.Numbering)
	}
	bl := &builder{
		ctx: ctx, b: b, lim: lim.withDefaults(), pw: newPDFWriter(w), progress: progress,
		fonts: map[string]int{}, sectionNext: map[string]int{},
	}
	for _, s := range b.Sections {
		bl.total += len(s.Sources)
	}
	for _, s := range b.LateAdditions {
		bl.total += len(s.Sources)
	}
	bl.total++ // front matter and finishing
	if err := bl.run(); err != nil {
		return Result{}, err
	}
	res := Result{Pages: len(bl.pages), Entries: bl.entries}
	return res, nil
}

func (bl *builder) tick() {
	bl.done++
	if bl.progress != nil {
		bl.progress(bl.done, bl.total)
	}
}

func (bl *builder) run() error {
	pw := bl.pw
	bl.catalog = pw.alloc()
	bl.pagesRoot = pw.alloc()
	bl.info = pw.alloc()
	for _, f := range []string{fontRegular, fontBold, fontMono, fontItalic} {
		n := pw.alloc()
		bl.fonts[f] = n
		pw.writeObject(n, mustSerialize(types.Dict{
			"Type": name("Font"), "Subtype": name("Type1"), "BaseFont": name(f), "Encoding": name("WinAnsiEncoding"),
		}))
	}
	bl.fontDict = pw.alloc()
	fd := types.Dict{stampFontName: ref(bl.fonts[fontBold])}
	for f, r := range fontRes {
		fd[r] = ref(bl.fonts[f])
	}
	pw.writeObject(bl.fontDict, mustSerialize(fd))
	bl.qStream = pw.alloc()
	if err := pw.writeStream(bl.qStream, types.Dict{}, []byte("q\n"), nil); err != nil {
		return err
	}

	// Front matter: its size depends only on the bundle description, so
	// every later page's number is known before any source is read.
	mainIdx := layoutIndex(bl.b.Sections, false)
	cover := bl.addFrontPage()
	idxPages := make([]int, len(mainIdx.pages))
	for i := range idxPages {
		idxPages[i] = bl.addFrontPage()
	}
	if err := bl.addSections(bl.b.Sections); err != nil {
		return err
	}
	var supp *indexLayout
	var suppPages []int
	if len(bl.b.LateAdditions) > 0 {
		supp = layoutIndex(bl.b.LateAdditions, true)
		suppPages = make([]int, len(supp.pages))
		for i := range suppPages {
			suppPages[i] = bl.addFrontPage()
		}
		if err := bl.addSections(bl.b.LateAdditions); err != nil {
			return err
		}
	}
	if err := bl.ctx.Err(); err != nil {
		return err
	}

	// Now that every page is known: cover, index pages, outline, page tree.
	mainEntries := 0
	for _, s := range bl.b.Sections {
		mainEntries += len(s.Sources)
	}
	bl.writeCover(cover, mainIdx.subst)
	bl.writeIndex(mainIdx, idxPages, bl.entries[:mainEntries])
	if supp != nil {
		bl.writeIndex(supp, suppPages, bl.entries[mainEntries:])
	}
	outline := bl.writeOutline(mainIdx, idxPages, supp, suppPages)

	kids := make(types.Array, len(bl.pages))
	for i, p := range bl.pages {
		kids[i] = ref(p.obj)
	}
	pw.writeObject(bl.pagesRoot, mustSerialize(types.Dict{"Type": name("Pages"), "Kids": kids, "Count": types.Integer(len(bl.pages))}))

	date := types.StringLiteral(pdfDate(bl.b.BuiltAt))
	title := bl.b.Title
	if bl.b.CaseReference != "" {
		title = bl.b.CaseReference + " — " + title
	}
	pw.writeObject(bl.info, mustSerialize(types.Dict{
		"Title": textString(title), "Subject": textString("Court bundle"), "Creator": textString("CaseBridge"),
		"Producer": textString("CaseBridge bundle renderer"), "CreationDate": date, "ModDate": date,
	}))
	cat := types.Dict{"Type": name("Catalog"), "Pages": ref(bl.pagesRoot)}
	if outline > 0 {
		cat["Outlines"] = ref(outline)
		cat["PageMode"] = name("UseOutlines")
	}
	if bl.b.Numbering == PerSection {
		cat["PageLabels"] = bl.pageLabels()
	}
	pw.writeObject(bl.catalog, mustSerialize(cat))
	if err := pw.finish(bl.catalog, bl.info); err != nil {
		return err
	}
	bl.tick()
	return nil
}

func pdfDate(t time.Time) string {
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return "D:" + t.UTC().Format("20060102150405") + "Z00'00'"
}

// addFrontPage reserves the next page for front matter written later.
func (bl *builder) addFrontPage() int {
	n := bl.pw.alloc()
	bl.frontCount++
	label := strconv.Itoa(len(bl.pages) + 1)
	if bl.b.Numbering == PerSection {
		label = roman(bl.frontCount)
	}
	bl.pages = append(bl.pages, pageInfo{obj: n, label: label, num: bl.frontCount})
	return len(bl.pages) - 1
}

// nextDocPage reserves the next page of a document in section sec.
func (bl *builder) nextDocPage(obj int, sec string) (int, error) {
	if len(bl.pages) >= bl.lim.MaxTotalPages {
		return 0, bad(fmt.Sprintf("the bundle would exceed the limit of %d pages", bl.lim.MaxTotalPages), nil)
	}
	label := strconv.Itoa(len(bl.pages) + 1)
	bl.sectionNext[sec]++
	num := bl.sectionNext[sec]
	if bl.b.Numbering == PerSection {
		label = sec + strconv.Itoa(num)
	}
	bl.pages = append(bl.pages, pageInfo{obj: obj, label: label, prefix: sec, num: num})
	return len(bl.pages) - 1, nil
}

func (bl *builder) addSections(secs []Section) error {
	for _, sec := range secs {
		for _, src := range sec.Sources {
			if err := bl.ctx.Err(); err != nil {
				return err
			}
			first := len(bl.pages)
			if err := bl.addSource(sec.Label, src); err != nil {
				return err
			}
			last := len(bl.pages) - 1
			bl.entries = append(bl.entries, Entry{
				Section: sec.Label, DocumentID: src.DocumentID, Version: src.Version, Title: src.Title,
				FirstPage: first + 1, LastPage: last + 1, FirstLabel: bl.pages[first].label, LastLabel: bl.pages[last].label,
			})
			bl.tick()
		}
	}
	return nil
}

// addSource reads one source and writes its pages. Any failure caused by
// the source's content, including a panic in a parser, becomes a
// *SourceError naming it.
func (bl *builder) addSource(sec string, s Source) (err error) {
	srcErr := func(reason string, cause error) error {
		return &SourceError{DocumentID: s.DocumentID, Title: s.Title, Reason: reason, Err: cause}
	}
	defer func() {
		if r := recover(); r != nil {
			err = srcErr("the document could not be processed (it is probably damaged)", fmt.Errorf("panic: %v", r))
		}
		var bi *badInput
		if errors.As(err, &bi) {
			err = srcErr(bi.reason, bi.err)
		}
	}()
	mt, params, perr := mime.ParseMediaType(s.MediaType)
	if perr != nil {
		return srcErr(fmt.Sprintf("unsupported type %q", s.MediaType), perr)
	}
	switch mt {
	case "application/pdf", "image/jpeg", "image/png":
	case "text/plain":
		if cs := strings.ToLower(params["charset"]); cs != "" && cs != "utf-8" && cs != "us-ascii" {
			return srcErr(fmt.Sprintf("unsupported text encoding %q (only UTF-8 text can be typeset)", cs), nil)
		}
	default:
		return srcErr(fmt.Sprintf("unsupported type %q (a bundle takes PDF, JPEG, PNG and plain text)", mt), nil)
	}
	if s.Size > bl.lim.MaxSourceBytes {
		return srcErr(fmt.Sprintf("too big: %d bytes, the limit is %d", s.Size, bl.lim.MaxSourceBytes), nil)
	}
	if s.Open == nil {
		return fmt.Errorf("render: source %s has no Open", s.DocumentID)
	}
	data, err := bl.read(s)
	if err != nil {
		return err
	}
	switch mt {
	case "application/pdf":
		return bl.importPDF(data, sec)
	case "image/jpeg":
		return bl.addJPEG(data, sec)
	case "image/png":
		return bl.addPNG(data, sec)
	default:
		return bl.addText(data, sec)
	}
}

func (bl *builder) read(s Source) ([]byte, error) {
	rc, err := s.Open(bl.ctx)
	if err != nil {
		return nil, fmt.Errorf("render: open document %s: %w", s.DocumentID, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, bl.lim.MaxSourceBytes+1))
	if err != nil {
		return nil, fmt.Errorf("render: read document %s: %w", s.DocumentID, err)
	}
	if int64(len(data)) > bl.lim.MaxSourceBytes {
		return nil, bad(fmt.Sprintf("too big: more than %d bytes", bl.lim.MaxSourceBytes), nil)
	}
	if s.Size > 0 && int64(len(data)) != s.Size {
		return nil, bad(fmt.Sprintf("its content (%d bytes) does not match its recorded size (%d bytes)", len(data), s.Size), nil)
	}
	return data, nil
}

func roman(n int) string {
	if n <= 0 || n >= 4000 {
		return strconv.Itoa(n)
	}
	vals := []int{1000, 900, 500, 400, 100, 90, 50, 40, 10, 9, 5, 4, 1}
	syms := []string{"m", "cm", "d", "cd", "c", "xc", "l", "xl", "x", "ix", "v", "iv", "i"}
	var sb strings.Builder
	for i, v := range vals {
		for n >= v {
			sb.WriteString(syms[i])
			n -= v
		}
	}
	return sb.String()
}

// pageLabels is the catalog's /PageLabels number tree, so that viewers
// show the stamped labels (per-section numbering).
func (bl *builder) pageLabels() types.Dict {
	var arr types.Array
	for i, p := range bl.pages {
		if i > 0 {
			prev := bl.pages[i-1]
			if prev.prefix == p.prefix && prev.num+1 == p.num {
				continue
			}
		}
		d := types.Dict{"St": types.Integer(p.num)}
		if p.prefix == "" {
			d["S"] = name("r")
		} else {
			d["S"] = name("D")
			d["P"] = textString(p.prefix)
		}
		arr = append(arr, types.Integer(i), d)
	}
	return types.Dict{"Nums": arr}
}
