package documents

import (
	"io"
	"strings"

	"github.com/gabriel-vasile/mimetype"
)

// sniffLen is how many leading bytes decide the content type. Office
// formats are zip containers whose telling entry names (word/, xl/,
// mimetype) are in the first local headers; 64 KiB covers those comfortably
// and lets the text check look at more than a few lines.
const sniffLen = 64 << 10

func init() {
	// The library looks at 3 KiB by default, too little for some office
	// files. The setting is global to the process; nothing else in it
	// relies on the default.
	mimetype.SetLimit(sniffLen)
}

// allowedTypes is the allow-list of stored content types, keyed by the
// type the sniffer reports (without parameters).
var allowedTypes = map[string]bool{
	"application/pdf": true,
	"image/jpeg":      true,
	"image/png":       true,
	"image/tiff":      true,
	"text/plain":      true,
	// The sniffer reports plain text that happens to look tabular as CSV/TSV.
	"text/csv":                  true,
	"text/tab-separated-values": true,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   true, // docx
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         true, // xlsx
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": true, // pptx
	"application/vnd.oasis.opendocument.text":                                   true, // odt
	"application/vnd.oasis.opendocument.spreadsheet":                            true, // ods
	"application/vnd.oasis.opendocument.presentation":                           true, // odp
	"application/msword":       true, // doc
	"application/vnd.ms-excel": true, // xls
}

// AllowedTypes lists the accepted content types (for error messages and
// documentation).
func AllowedTypes() []string {
	return []string{"application/pdf", "image/jpeg", "image/png", "image/tiff", "text/plain",
		"docx", "xlsx", "pptx", "odt", "ods", "odp", "doc", "xls"}
}

// sniff decides the content type of a file from its first bytes. It returns
// the media type to store and serve (text gets its charset) and whether the
// type is allowed. The client's declared type and the file name play no
// part: both are under the uploader's control.
func sniff(head []byte) (mediaType string, ok bool) {
	m := mimetype.Detect(head)
	base := m.String()
	if i := strings.IndexByte(base, ';'); i >= 0 {
		base = strings.TrimSpace(base[:i])
	}
	if !allowedTypes[base] {
		return base, false
	}
	switch base {
	case "text/plain", "text/csv", "text/tab-separated-values":
		// Served as plain text whatever the sniffer thought of its layout;
		// the charset it found (utf-8, utf-16…) is kept.
		charset := "utf-8"
		if _, params, found := strings.Cut(m.String(), "charset="); found {
			charset = strings.TrimSpace(strings.SplitN(params, ";", 2)[0])
		}
		return "text/plain; charset=" + charset, true
	}
	return base, true
}

// readHead reads up to sniffLen bytes from r. A short file gives a short
// head and no error.
func readHead(r io.Reader) ([]byte, error) {
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(r, head)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return head[:n], err
}
