package render

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

const (
	maxPageTreeDepth = 32       // real documents stay far below
	maxSyntaxDepth   = 100      // nesting of [ and << in the file's syntax
	maxInflated      = 64 << 20 // decompressed object and xref streams per source
)

var configOnce sync.Once

// readConfig is pdfcpu's built-in configuration: never its configuration
// directory (which it would otherwise create in the user's home).
func readConfig() *model.Configuration {
	configOnce.Do(api.DisableConfigDir)
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	conf.DecodeAllStreams = false
	return conf
}

// prescan walks the file's syntax before the parser sees it and refuses
// what would make a recursive parser run away: arrays and dictionaries
// nested deeper than maxSyntaxDepth, including inside compressed object
// streams, whose decompressed size it also bounds (a zip bomb in an object
// stream is refused here rather than inflated by the parser).
//
// It also defuses stream lengths beyond the end of the file (the parser
// would allocate whatever a /Length claims): such a length is overwritten
// in place, with the same number of bytes so that no offset moves, by 0,
// which makes the parser find the stream's end by its endstream keyword.
// data is the build's own copy of the source and may be changed.
func prescan(data []byte) error {
	var inflated int64
	sc := &syntaxScan{indirectLengths: map[int]bool{}}
	if err := sc.scan(data, true, &inflated); err != nil {
		return err
	}
	if len(sc.indirectLengths) > 0 {
		for _, m := range lengthObjRE.FindAllSubmatchIndex(data, -1) {
			nr, _ := strconv.Atoi(string(data[m[2]:m[3]]))
			if !sc.indirectLengths[nr] {
				continue
			}
			defuseLength(data, m[4], m[5], len(data))
		}
	}
	return nil
}

var lengthObjRE = regexp.MustCompile(`(\d+)\s+\d+\s+obj\s*(\d+)\s*endobj`)

// defuseLength replaces the digits data[a:b] by "0" and spaces if they say
// more than max.
func defuseLength(data []byte, a, b, max int) {
	if b-a > 12 {
		goto defuse
	}
	if v, err := strconv.Atoi(string(data[a:b])); err == nil && v <= max {
		return
	}
defuse:
	data[a] = '0'
	for k := a + 1; k < b; k++ {
		data[k] = ' '
	}
}

type syntaxScan struct {
	indirectLengths map[int]bool
}

// checkLength looks at the /Length entry of a stream's dictionary.
func (sc *syntaxScan) checkLength(data []byte, dictStart, streamKw, dataStart int) {
	dict := data[dictStart:streamKw]
	k := bytes.LastIndex(dict, []byte("/Length"))
	if k < 0 {
		return
	}
	p := dictStart + k + len("/Length")
	if p < len(data) && !isDelim(data[p]) {
		return // /Length1 of a font program etc.
	}
	for p < streamKw && isWS(data[p]) {
		p++
	}
	a := p
	for p < streamKw && data[p] >= '0' && data[p] <= '9' {
		p++
	}
	if p == a {
		return
	}
	// an indirect length: "12 0 R"
	q := p
	for q < streamKw && isWS(data[q]) {
		q++
	}
	g := q
	for q < streamKw && data[q] >= '0' && data[q] <= '9' {
		q++
	}
	if q > g {
		for q < streamKw && isWS(data[q]) {
			q++
		}
		if q < streamKw && data[q] == 'R' {
			if nr, err := strconv.Atoi(string(data[a:p])); err == nil {
				sc.indirectLengths[nr] = true
			}
			return
		}
	}
	defuseLength(data, a, p, len(data)-dataStart)
}

func isWS(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	return isWS(c) || strings.IndexByte("()<>[]{}/%", c) >= 0
}

func (sc *syntaxScan) scan(data []byte, top bool, inflated *int64) error {
	depth := 0
	lastObj := 0
	n := len(data)
	for i := 0; i < n; {
		c := data[i]
		switch {
		case c == '%':
			for i < n && data[i] != '\n' && data[i] != '\r' {
				i++
			}
			continue
		case c == '(':
			lvl := 0
			for i < n {
				switch data[i] {
				case '\\':
					i++
				case '(':
					lvl++
				case ')':
					lvl--
				}
				i++
				if lvl == 0 {
					break
				}
			}
			continue
		case c == '<':
			if i+1 < n && data[i+1] == '<' {
				depth++
				i += 2
			} else {
				for i < n && data[i] != '>' {
					i++
				}
				i++
			}
		case c == '>':
			if i+1 < n && data[i+1] == '>' {
				depth--
				i += 2
			} else {
				i++
			}
		case c == '[':
			depth++
			i++
		case c == ']':
			depth--
			i++
		case top && c == 'o' && bytes.HasPrefix(data[i:], []byte("obj")) && (i+3 >= n || isDelim(data[i+3])) && i > 0 && isWS(data[i-1]):
			lastObj = i
			depth = 0
			i += 3
		case top && c == 'e' && bytes.HasPrefix(data[i:], []byte("endobj")):
			depth = 0
			i += 6
		case top && c == 's' && bytes.HasPrefix(data[i:], []byte("stream")) && i > 0 && isDelim(data[i-1]):
			j := i + 6
			if j < n && data[j] == '\r' {
				j++
			}
			if j < n && data[j] == '\n' {
				j++
			}
			sc.checkLength(data, lastObj, i, j)
			end := bytes.Index(data[j:], []byte("endstream"))
			if end < 0 {
				end = n - j
			}
			dict := data[lastObj:i]
			if (bytes.Contains(dict, []byte("/ObjStm")) || bytes.Contains(dict, []byte("/XRef"))) && bytes.Contains(dict, []byte("/FlateDecode")) {
				if err := sc.scanCompressed(data[j:j+end], inflated); err != nil {
					return err
				}
			}
			i = j + end + len("endstream")
			depth = 0
			continue
		default:
			i++
		}
		if depth > maxSyntaxDepth {
			return bad("nesting too deep: the PDF's objects are nested more than 100 levels", nil)
		}
		if depth < 0 {
			depth = 0
		}
	}
	return nil
}

func (sc *syntaxScan) scanCompressed(raw []byte, inflated *int64) error {
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil // the parser will judge it
	}
	defer zr.Close()
	left := maxInflated - *inflated
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(zr, left+1))
	*inflated += n
	if n > left {
		return bad(fmt.Sprintf("compressed objects too large: more than %d MiB when decompressed", maxInflated>>20), nil)
	}
	_ = err // truncated or damaged data: the parser will judge it
	return sc.scan(buf.Bytes(), false, inflated)
}

// srcPage is one page of a source PDF with what it inherits from its
// ancestors in the page tree.
type srcPage struct {
	objNr int
	dict  types.Dict
	inh   inherited
}

type inherited struct {
	resources, mediaBox, cropBox, rotate types.Object
}

// importPDF copies the source's pages, and exactly the objects they use,
// into the output, adding the stamp to each.
func (bl *builder) importPDF(data []byte, sec string) error {
	if err := prescan(data); err != nil {
		return err
	}
	pctx, err := pdfcpu.ReadWithContext(bl.ctx, bytes.NewReader(data), readConfig())
	if err != nil {
		if cerr := bl.ctx.Err(); cerr != nil {
			return cerr
		}
		if isEncryptionErr(err) || bytes.Contains(data, []byte("/Encrypt")) {
			return bad("encrypted PDF: password-protected or encrypted documents cannot go into a bundle", err)
		}
		return bad("corrupt PDF: the file cannot be read", err)
	}
	xt := pctx.XRefTable
	if xt.Encrypt != nil || pctx.E != nil {
		return bad("encrypted PDF: password-protected or encrypted documents cannot go into a bundle", nil)
	}
	if xt.Root == nil {
		return bad("corrupt PDF: no document catalog", nil)
	}
	cat, err := derefDict(xt, *xt.Root)
	if err != nil || cat == nil {
		return bad("corrupt PDF: no document catalog", err)
	}
	pagesRoot, ok := cat["Pages"]
	if !ok {
		return bad("corrupt PDF: no page tree", nil)
	}
	im := &importer{bl: bl, xt: xt, copied: map[int]int{}, pageObj: map[int]int{}, visited: map[int]bool{}}
	if err := im.walk(pagesRoot, inherited{}, 0); err != nil {
		return err
	}
	if len(im.pages) == 0 {
		return bad("the PDF has no pages", nil)
	}
	if len(bl.pages)+len(im.pages) > bl.lim.MaxTotalPages {
		return bad(fmt.Sprintf("the bundle would exceed the limit of %d pages", bl.lim.MaxTotalPages), nil)
	}
	for _, p := range im.pages {
		im.pageObj[p.objNr] = bl.pw.alloc()
	}
	for i, p := range im.pages {
		if i%16 == 0 {
			if err := bl.ctx.Err(); err != nil {
				return err
			}
		}
		if err := im.writePage(p, sec); err != nil {
			return err
		}
	}
	return nil
}

func isEncryptionErr(err error) bool {
	if errors.Is(err, pdfcpu.ErrWrongPassword) {
		return true
	}
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "password") || strings.Contains(s, "encrypt")
}

func derefDict(xt *model.XRefTable, o types.Object) (types.Dict, error) {
	o, err := xt.Dereference(o)
	if err != nil {
		return nil, err
	}
	switch d := o.(type) {
	case types.Dict:
		return d, nil
	case types.StreamDict:
		return d.Dict, nil
	}
	return nil, nil
}

type importer struct {
	bl      *builder
	xt      *model.XRefTable
	pages   []srcPage
	visited map[int]bool
	copied  map[int]int // source object → output object (-1: written as null)
	pageObj map[int]int // source page object → output page object
	queue   []int
}

// walk collects the leaves of the page tree in order, refusing cycles,
// repeated pages, absurd depth and more pages than the limit, before
// anything is copied.
func (im *importer) walk(o types.Object, inh inherited, depth int) error {
	if depth > maxPageTreeDepth {
		return bad(fmt.Sprintf("nesting too deep: the PDF's page tree is more than %d levels deep", maxPageTreeDepth), nil)
	}
	ir, ok := o.(types.IndirectRef)
	if !ok {
		return bad("corrupt PDF: malformed page tree", nil)
	}
	nr := int(ir.ObjectNumber)
	if im.visited[nr] {
		return bad("corrupt PDF: the page tree is cyclic or uses a page twice", nil)
	}
	im.visited[nr] = true
	d, err := derefDict(im.xt, ir)
	if err != nil || d == nil {
		return bad("corrupt PDF: malformed page tree", err)
	}
	if v, ok := d["Resources"]; ok {
		inh.resources = v
	}
	if v, ok := d["MediaBox"]; ok {
		inh.mediaBox = v
	}
	if v, ok := d["CropBox"]; ok {
		inh.cropBox = v
	}
	if v, ok := d["Rotate"]; ok {
		inh.rotate = v
	}
	typ, _ := d["Type"].(types.Name)
	kids, hasKids := d["Kids"]
	if typ == "Pages" || (typ != "Page" && hasKids) {
		ko, err := im.xt.Dereference(kids)
		if err != nil {
			return bad("corrupt PDF: malformed page tree", err)
		}
		arr, ok := ko.(types.Array)
		if !ok {
			return bad("corrupt PDF: malformed page tree", nil)
		}
		for _, k := range arr {
			if err := im.walk(k, inh, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if len(im.pages) >= im.bl.lim.MaxSourcePages {
		return bad(fmt.Sprintf("too many pages: more than %d", im.bl.lim.MaxSourcePages), nil)
	}
	im.pages = append(im.pages, srcPage{objNr: nr, dict: d, inh: inh})
	return nil
}

// mapRef gives the output object for a source reference, queueing the
// object to be copied the first time. Pages of this source map to their
// output pages; other page-tree nodes and the catalog are never copied
// (they would drag in the whole source document), nor is what is missing.
func (im *importer) mapRef(ir types.IndirectRef) (int, bool, error) {
	nr := int(ir.ObjectNumber)
	if p, ok := im.pageObj[nr]; ok {
		return p, true, nil
	}
	if n, ok := im.copied[nr]; ok {
		return n, n > 0, nil
	}
	o, err := im.xt.Dereference(ir)
	if err != nil {
		return 0, false, bad("corrupt PDF: an object cannot be read", err)
	}
	switch v := o.(type) {
	case nil, types.ObjectStreamDict, types.XRefStreamDict, types.LazyObjectStreamObject:
		im.copied[nr] = -1
		return 0, false, nil
	case types.Dict:
		if t, _ := v["Type"].(types.Name); t == "Page" || t == "Pages" || t == "Catalog" {
			im.copied[nr] = -1
			return 0, false, nil
		}
	}
	n := im.bl.pw.alloc()
	im.copied[nr] = n
	im.queue = append(im.queue, nr)
	return n, true, nil
}

// drain writes every queued object (and what they reference in turn).
func (im *importer) drain() error {
	for len(im.queue) > 0 {
		nr := im.queue[0]
		im.queue = im.queue[1:]
		n := im.copied[nr]
		o, err := im.xt.Dereference(*types.NewIndirectRef(nr, 0))
		if err != nil {
			return bad("corrupt PDF: an object cannot be read", err)
		}
		if sd, ok := o.(types.StreamDict); ok {
			d := types.Dict{}
			for k, v := range sd.Dict {
				if k != "Length" {
					d[k] = v
				}
			}
			if err := im.bl.pw.writeStream(n, d, sd.Raw, im.mapRef); err != nil {
				return im.nestErr(err)
			}
			continue
		}
		var buf bytes.Buffer
		if err := serialize(&buf, o, im.mapRef, 0); err != nil {
			return im.nestErr(err)
		}
		im.bl.pw.writeObject(n, buf.Bytes())
		if im.bl.pw.err != nil {
			return im.bl.pw.err
		}
	}
	return nil
}

func (im *importer) nestErr(err error) error {
	if errors.Is(err, errNestingTooDeep) {
		return bad("nesting too deep: the PDF's objects are nested more than 64 levels", nil)
	}
	return err
}

func (im *importer) number(o types.Object) (float64, bool) {
	o, err := im.xt.Dereference(o)
	if err != nil {
		return 0, false
	}
	switch v := o.(type) {
	case types.Integer:
		return float64(v), true
	case types.Float:
		return float64(v), true
	}
	return 0, false
}

func (im *importer) rect(o types.Object) (box, bool) {
	if o == nil {
		return box{}, false
	}
	o, err := im.xt.Dereference(o)
	if err != nil {
		return box{}, false
	}
	arr, ok := o.(types.Array)
	if !ok || len(arr) != 4 {
		return box{}, false
	}
	var b box
	for i := range arr {
		f, ok := im.number(arr[i])
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e6 {
			return box{}, false
		}
		b[i] = f
	}
	b = box{math.Min(b[0], b[2]), math.Min(b[1], b[3]), math.Max(b[0], b[2]), math.Max(b[1], b[3])}
	if b.w() < 1 || b.h() < 1 {
		return box{}, false
	}
	return b, true
}

// writePage writes one source page: its own entries plus the inherited
// ones, the stamp font added to its resources, and its content wrapped in
// q … Q with the stamp drawn after it in the default graphics state.
func (im *importer) writePage(p srcPage, sec string) error {
	bl := im.bl
	obj := im.pageObj[p.objNr]
	idx, err := bl.nextDocPage(obj, sec)
	if err != nil {
		return err
	}
	d := types.Dict{}
	for k, v := range p.dict {
		switch k {
		case "Parent", "B", "Contents", "Resources", "Type", "MediaBox", "CropBox", "Rotate":
			continue
		}
		d[k] = v
	}
	d["Type"] = name("Page")
	d["Parent"] = ref(bl.pagesRoot)

	mb, ok := im.rect(p.inh.mediaBox)
	if !ok {
		mb = box{0, 0, 612, 792} // US Letter, what readers assume
	}
	d["MediaBox"] = nums(mb[:]...)
	vis := mb
	if cb, ok := im.rect(p.inh.cropBox); ok {
		vis = box{math.Max(cb[0], mb[0]), math.Max(cb[1], mb[1]), math.Min(cb[2], mb[2]), math.Min(cb[3], mb[3])}
		if vis.w() < 1 || vis.h() < 1 {
			vis = mb
		} else {
			d["CropBox"] = nums(vis[:]...)
		}
	}
	rot := 0
	if r, ok := im.number(p.inh.rotate); ok && r == math.Trunc(r) && math.Abs(r) < 1e6 {
		rot = ((int(r)%360 + 360) % 360) / 90 * 90
	}
	if rot != 0 {
		d["Rotate"] = types.Integer(rot)
	}

	// Resources: a fresh direct dictionary, so that the stamp font can be
	// added without touching a dictionary other pages share.
	res := types.Dict{}
	if rd, err := derefDict(im.xt, p.inh.resources); err == nil && rd != nil {
		for k, v := range rd {
			res[k] = v
		}
	}
	fonts := types.Dict{}
	if fd, err := derefDict(im.xt, res["Font"]); err == nil && fd != nil {
		for k, v := range fd {
			fonts[k] = v
		}
	}
	fontName := stampFontName
	for i := 1; ; i++ {
		if _, taken := fonts[fontName]; !taken {
			break
		}
		fontName = fmt.Sprintf("%s%d", stampFontName, i)
	}
	fonts[fontName] = ref(bl.fonts[fontBold])
	res["Font"] = fonts
	d["Resources"] = res

	contents := types.Array{ref(bl.qStream)}
	if c, ok := p.dict["Contents"]; ok {
		switch v := c.(type) {
		case types.IndirectRef:
			o, err := im.xt.Dereference(v)
			if err != nil {
				return bad("corrupt PDF: a page's content cannot be read", err)
			}
			if arr, ok := o.(types.Array); ok {
				contents = append(contents, arr...)
			} else if _, ok := o.(types.StreamDict); ok {
				contents = append(contents, v)
			}
		case types.Array:
			contents = append(contents, v...)
		}
	}
	sObj := bl.pw.alloc()
	if err := bl.pw.writeStream(sObj, types.Dict{}, bl.stampContent(bl.pages[idx].label, vis, rot, fontName), nil); err != nil {
		return err
	}
	contents = append(contents, ref(sObj))
	d["Contents"] = contents

	var buf bytes.Buffer
	if err := serialize(&buf, d, im.mapRef, 0); err != nil {
		return im.nestErr(err)
	}
	bl.pw.writeObject(obj, buf.Bytes())
	if bl.pw.err != nil {
		return bl.pw.err
	}
	return im.drain()
}
