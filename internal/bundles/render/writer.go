package render

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"math"
	"sort"
	"strconv"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// pdfWriter writes numbered objects one after another and remembers only
// their offsets, so that the output is streamed: memory does not grow with
// the number of pages beyond the xref table (20 bytes an object).
type pdfWriter struct {
	bw      *bufio.Writer
	h       hash.Hash // everything written before the trailer: the /ID
	off     int64
	offsets []int64 // index = object number; 0 = allocated, not yet written
	err     error
}

func newPDFWriter(w io.Writer) *pdfWriter {
	pw := &pdfWriter{bw: bufio.NewWriterSize(w, 64<<10), h: sha256.New(), offsets: []int64{0}}
	// The binary comment marks the file as binary for transfer tools.
	pw.write([]byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"))
	return pw
}

func (pw *pdfWriter) write(b []byte) {
	if pw.err != nil {
		return
	}
	n, err := pw.bw.Write(b)
	pw.h.Write(b[:n])
	pw.off += int64(n)
	if err != nil {
		pw.err = fmt.Errorf("render: write output: %w", err)
	}
}

// alloc reserves the next object number.
func (pw *pdfWriter) alloc() int {
	pw.offsets = append(pw.offsets, 0)
	return len(pw.offsets) - 1
}

// writeObject writes object n with the already serialised body.
func (pw *pdfWriter) writeObject(n int, body []byte) {
	if pw.err != nil {
		return
	}
	if n <= 0 || n >= len(pw.offsets) || pw.offsets[n] != 0 {
		pw.err = fmt.Errorf("render: object %d written twice or never allocated", n)
		return
	}
	pw.offsets[n] = pw.off
	pw.write([]byte(strconv.Itoa(n) + " 0 obj\n"))
	pw.write(body)
	pw.write([]byte("\nendobj\n"))
}

// writeStream writes object n as a stream with the given dictionary (Length is set here).
func (pw *pdfWriter) writeStream(n int, d types.Dict, data []byte, m refMapper) error {
	var buf bytes.Buffer
	dd := types.Dict{}
	for k, v := range d {
		if k != "Length" {
			dd[k] = v
		}
	}
	dd["Length"] = types.Integer(len(data))
	if err := serialize(&buf, dd, m, 0); err != nil {
		return err
	}
	buf.WriteString("\nstream\n")
	if pw.err != nil {
		return pw.err
	}
	if n <= 0 || n >= len(pw.offsets) || pw.offsets[n] != 0 {
		pw.err = fmt.Errorf("render: object %d written twice or never allocated", n)
		return pw.err
	}
	pw.offsets[n] = pw.off
	pw.write([]byte(strconv.Itoa(n) + " 0 obj\n"))
	pw.write(buf.Bytes())
	pw.write(data)
	pw.write([]byte("\nendstream\nendobj\n"))
	return pw.err
}

// finish writes the xref table and trailer. The /ID is derived from the
// bytes written so far, so it changes exactly when the content does.
func (pw *pdfWriter) finish(root, info int) error {
	if pw.err != nil {
		return pw.err
	}
	for n := 1; n < len(pw.offsets); n++ {
		if pw.offsets[n] == 0 {
			return fmt.Errorf("render: object %d allocated but not written", n)
		}
	}
	sum := pw.h.Sum(nil)
	id := fmt.Sprintf("<%x>", sum[:16])
	xref := pw.off
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "xref\n0 %d\n0000000000 65535 f \n", len(pw.offsets))
	for n := 1; n < len(pw.offsets); n++ {
		fmt.Fprintf(&buf, "%010d 00000 n \n", pw.offsets[n])
	}
	fmt.Fprintf(&buf, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [%s %s] >>\nstartxref\n%d\n%%%%EOF\n",
		len(pw.offsets), root, info, id, id, xref)
	pw.write(buf.Bytes())
	if pw.err != nil {
		return pw.err
	}
	if err := pw.bw.Flush(); err != nil {
		return fmt.Errorf("render: write output: %w", err)
	}
	return nil
}

// refMapper turns a reference of the object being copied into an output
// reference; ok=false writes null instead (a reference to something not copied).
type refMapper func(ir types.IndirectRef) (n int, ok bool, err error)

const maxDirectDepth = 64 // nesting of arrays/dictionaries inside one object

// serialize writes o in PDF syntax. Dictionary keys are sorted, so output
// does not depend on map order.
func serialize(buf *bytes.Buffer, o types.Object, m refMapper, depth int) error {
	if depth > maxDirectDepth {
		return errNestingTooDeep
	}
	switch v := o.(type) {
	case nil:
		buf.WriteString("null")
	case types.Boolean:
		if v {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case types.Integer:
		buf.WriteString(strconv.Itoa(int(v)))
	case types.Float:
		buf.WriteString(fmtNum(float64(v)))
	case types.Name:
		buf.WriteString(v.PDFString())
	case types.StringLiteral:
		buf.WriteByte('(')
		buf.WriteString(string(v))
		buf.WriteByte(')')
	case types.HexLiteral:
		buf.WriteByte('<')
		buf.WriteString(string(v))
		buf.WriteByte('>')
	case outRef:
		buf.WriteString(strconv.Itoa(int(v)) + " 0 R")
	case types.IndirectRef:
		if m == nil {
			buf.WriteString(strconv.Itoa(int(v.ObjectNumber)) + " 0 R")
			return nil
		}
		n, ok, err := m(v)
		if err != nil {
			return err
		}
		if !ok {
			buf.WriteString("null")
			return nil
		}
		buf.WriteString(strconv.Itoa(n) + " 0 R")
	case types.Array:
		buf.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				buf.WriteByte(' ')
			}
			if err := serialize(buf, e, m, depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case types.Dict:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf.WriteString("<<")
		for _, k := range keys {
			buf.WriteString(types.Name(k).PDFString())
			buf.WriteByte(' ')
			if err := serialize(buf, v[k], m, depth+1); err != nil {
				return err
			}
			buf.WriteByte(' ')
		}
		buf.WriteString(">>")
	default:
		// Streams nested inside other objects and exotic types are not valid
		// PDF objects in that place: write null rather than something wrong.
		buf.WriteString("null")
	}
	return nil
}

// fmtNum formats a number for PDF: no exponent, no NaN.
func fmtNum(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "0"
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if s == "-0" {
		return "0"
	}
	return s
}

// f2 formats a coordinate of our own content streams (two decimals).
func f2(f float64) string {
	return fmtNum(math.Round(f*100) / 100)
}

func mustSerialize(o types.Object) []byte {
	var buf bytes.Buffer
	if err := serialize(&buf, o, nil, 0); err != nil {
		// Only our own objects go through here; they are never this deep.
		panic(err)
	}
	return buf.Bytes()
}
