package render

import (
	"bytes"
	"fmt"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

const stampFontName = "CBStampF"

// box is a page rectangle: llx, lly, urx, ury (normalised).
type box [4]float64

func (b box) w() float64 { return b[2] - b[0] }
func (b box) h() float64 { return b[3] - b[1] }

// stampContent is the content stream drawing the bundle stamp
// "<case reference> — <label>" at the bottom right of the page as the
// reader sees it (taking /Rotate into account), on a white patch so that
// it stays readable over the page's own content. It sits 10 pt above the
// bottom edge, below where documents put their own page numbers.
func (bl *builder) stampContent(label string, vis box, rotate int, fontRes string) []byte {
	text, _ := winAnsi(bl.b.CaseReference + " \u2014 " + label)
	// width of the page as the reader sees it
	vw := vis.w()
	if rotate == 90 || rotate == 270 {
		vw = vis.h()
	}
	size := 9.0
	tw := textWidth(text, fontBold, size)
	if tw+28 > vw && tw > 0 { // tiny page: shrink to fit
		size = size * (vw - 28) / tw
		if size < 2 {
			size = 2
		}
		tw = textWidth(text, fontBold, size)
	}
	x := vw - 14 - tw
	y := 10.0
	// matrix from viewed coordinates to user space
	var cm string
	switch rotate {
	case 90:
		cm = fmt.Sprintf("0 1 -1 0 %s %s", f2(vis[2]), f2(vis[1]))
	case 180:
		cm = fmt.Sprintf("-1 0 0 -1 %s %s", f2(vis[2]), f2(vis[3]))
	case 270:
		cm = fmt.Sprintf("0 -1 1 0 %s %s", f2(vis[0]), f2(vis[3]))
	default:
		cm = fmt.Sprintf("1 0 0 1 %s %s", f2(vis[0]), f2(vis[1]))
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "Q\nq %s cm 1 g %s %s %s %s re f 0 g BT /%s %s Tf %s %s Td ",
		cm, f2(x-3), f2(y-3), f2(tw+6), f2(size+3), fontRes, f2(size), f2(x), f2(y))
	pdfLiteral(&buf, text)
	buf.WriteString(" Tj ET Q\n")
	return buf.Bytes()
}

// writeOwnPage writes page idx (a page we generate: cover, index, image,
// text) with the given content, extra resources and annotations.
func (bl *builder) writeOwnPage(idx int, mb box, body []byte, xobjects types.Dict, annots types.Array) error {
	pw := bl.pw
	p := bl.pages[idx]
	cObj := pw.alloc()
	if err := pw.writeStream(cObj, types.Dict{}, body, nil); err != nil {
		return err
	}
	sObj := pw.alloc()
	if err := pw.writeStream(sObj, types.Dict{}, bl.stampContent(p.label, mb, 0, stampFontName), nil); err != nil {
		return err
	}
	res := types.Dict{"Font": ref(bl.fontDict)}
	if len(xobjects) > 0 {
		res["XObject"] = xobjects
	}
	d := types.Dict{
		"Type": name("Page"), "Parent": ref(bl.pagesRoot), "MediaBox": nums(mb[:]...),
		"Resources": res, "Contents": types.Array{ref(bl.qStream), ref(cObj), ref(sObj)},
	}
	if len(annots) > 0 {
		d["Annots"] = annots
	}
	pw.writeObject(p.obj, mustSerialize(d))
	return pw.err
}

var a4Portrait = box{0, 0, a4W, a4H}
