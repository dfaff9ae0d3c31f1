package render

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"unicode/utf8"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// checkPixels reads only the image header and applies MaxImagePixels, so
// that a decompression bomb is refused before anything is decoded.
func (bl *builder) checkPixels(cfg image.Config) error {
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return bad("corrupt image: no width or height", nil)
	}
	px := int64(cfg.Width) * int64(cfg.Height)
	if px > bl.lim.MaxImagePixels {
		return bad(fmt.Sprintf("image too large: %d×%d pixels, the limit is %d pixels", cfg.Width, cfg.Height, bl.lim.MaxImagePixels), nil)
	}
	return nil
}

// addJPEG embeds the JPEG data unchanged (DCTDecode): nothing is decoded,
// only the header is read.
func (bl *builder) addJPEG(data []byte, sec string) error {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return bad("corrupt JPEG image", err)
	}
	if err := bl.checkPixels(cfg); err != nil {
		return err
	}
	d := types.Dict{
		"Type": name("XObject"), "Subtype": name("Image"), "Width": types.Integer(cfg.Width), "Height": types.Integer(cfg.Height),
		"BitsPerComponent": types.Integer(8), "Filter": name("DCTDecode"),
	}
	switch cfg.ColorModel {
	case color.GrayModel:
		d["ColorSpace"] = name("DeviceGray")
	case color.CMYKModel:
		// CMYK JPEGs are nearly always Adobe's inverted CMYK.
		d["ColorSpace"] = name("DeviceCMYK")
		d["Decode"] = nums(1, 0, 1, 0, 1, 0, 1, 0)
	default:
		d["ColorSpace"] = name("DeviceRGB")
	}
	return bl.imagePage(d, data, nil, cfg.Width, cfg.Height, sec)
}

// addPNG decodes the PNG (after the pixel check) and embeds it as 8-bit
// RGB or grey, Flate-compressed, with its alpha channel as a soft mask.
func (bl *builder) addPNG(data []byte, sec string) error {
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return bad("corrupt PNG image", err)
	}
	if err := bl.checkPixels(cfg); err != nil {
		return err
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return bad("corrupt PNG image", err)
	}
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	gray := false
	switch img.(type) {
	case *image.Gray, *image.Gray16:
		gray = true
	}
	hasAlpha := false
	if !gray {
		if o, ok := img.(interface{ Opaque() bool }); ok && !o.Opaque() {
			hasAlpha = true
		}
	}
	var pix, alpha bytes.Buffer
	zp, _ := zlib.NewWriterLevel(&pix, zlib.BestSpeed)
	var za *zlib.Writer
	if hasAlpha {
		za, _ = zlib.NewWriterLevel(&alpha, zlib.BestSpeed)
	}
	comps := 3
	if gray {
		comps = 1
	}
	row := make([]byte, w*comps)
	arow := make([]byte, w)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		if y%256 == 0 {
			if err := bl.ctx.Err(); err != nil {
				return err
			}
		}
		for x := r.Min.X; x < r.Max.X; x++ {
			i := x - r.Min.X
			if gray {
				row[i] = color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
				continue
			}
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			row[3*i], row[3*i+1], row[3*i+2] = c.R, c.G, c.B
			arow[i] = c.A
		}
		if _, err := zp.Write(row); err != nil {
			return err
		}
		if hasAlpha {
			if _, err := za.Write(arow); err != nil {
				return err
			}
		}
	}
	if err := zp.Close(); err != nil {
		return err
	}
	d := types.Dict{
		"Type": name("XObject"), "Subtype": name("Image"), "Width": types.Integer(w), "Height": types.Integer(h),
		"BitsPerComponent": types.Integer(8), "Filter": name("FlateDecode"), "ColorSpace": name("DeviceRGB"),
	}
	if gray {
		d["ColorSpace"] = name("DeviceGray")
	}
	var mask []byte
	if hasAlpha {
		if err := za.Close(); err != nil {
			return err
		}
		mask = alpha.Bytes()
	}
	return bl.imagePage(d, pix.Bytes(), mask, w, h, sec)
}

// imagePage writes one A4 page (portrait or landscape, as the image is)
// showing the image scaled to fit inside the margins, never enlarged
// beyond one point per pixel.
func (bl *builder) imagePage(d types.Dict, data, mask []byte, w, h int, sec string) error {
	pw := bl.pw
	mb := a4Portrait
	if w > h {
		mb = box{0, 0, a4H, a4W}
	}
	pageObj := pw.alloc()
	idx, err := bl.nextDocPage(pageObj, sec)
	if err != nil {
		return err
	}
	if mask != nil {
		mObj := pw.alloc()
		if err := pw.writeStream(mObj, types.Dict{
			"Type": name("XObject"), "Subtype": name("Image"), "Width": types.Integer(w), "Height": types.Integer(h),
			"BitsPerComponent": types.Integer(8), "Filter": name("FlateDecode"), "ColorSpace": name("DeviceGray"),
		}, mask, nil); err != nil {
			return err
		}
		d["SMask"] = ref(mObj)
	}
	imObj := pw.alloc()
	if err := pw.writeStream(imObj, d, data, nil); err != nil {
		return err
	}
	const margin, bottom = 36.0, 40.0
	availW, availH := mb.w()-2*margin, mb.h()-margin-bottom
	scale := availW / float64(w)
	if s := availH / float64(h); s < scale {
		scale = s
	}
	if scale > 1 {
		scale = 1
	}
	dw, dh := float64(w)*scale, float64(h)*scale
	x := (mb.w() - dw) / 2
	y := bottom + (availH-dh)/2
	body := fmt.Sprintf("q %s 0 0 %s %s %s cm /Im0 Do Q\n", f2(dw), f2(dh), f2(x), f2(y))
	return bl.writeOwnPage(idx, mb, []byte(body), types.Dict{"Im0": ref(imObj)}, nil)
}

// addText typesets a UTF-8 text document onto A4 pages, writing each page
// as it is filled.
func (bl *builder) addText(data []byte, sec string) error {
	// A page holds at most 60 lines of 80 characters: a text longer than
	// that many characters is refused before any work.
	if utf8.RuneCount(data) > bl.lim.MaxSourcePages*60*80 {
		return bad(fmt.Sprintf("too many pages: the text fills more than %d pages", bl.lim.MaxSourcePages), nil)
	}
	n := 0
	err := typesetPlain(data, func(body []byte) error {
		if n++; n > bl.lim.MaxSourcePages {
			return bad(fmt.Sprintf("too many pages: the text fills more than %d pages", bl.lim.MaxSourcePages), nil)
		}
		if n%16 == 0 {
			if err := bl.ctx.Err(); err != nil {
				return err
			}
		}
		pageObj := bl.pw.alloc()
		idx, err := bl.nextDocPage(pageObj, sec)
		if err != nil {
			return err
		}
		return bl.writeOwnPage(idx, a4Portrait, body, nil, nil)
	})
	if errors.Is(err, errNotUTF8) {
		return bad("the text is not valid UTF-8", err)
	}
	return err
}
