package documents

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxFilenameBytes bounds a stored file name (the common file system limit).
const maxFilenameBytes = 255

// windowsReserved are device names Windows refuses as file names, with or
// without an extension.
var windowsReserved = map[string]bool{
	"CON": true, "PRN": true, "AUX": true, "NUL": true,
	"COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true, "COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true, "LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true,
}

// SanitizeFilename turns the name a client sent into one that is safe to
// store and to offer back in Content-Disposition. The name is metadata only:
// bytes are stored under their hash, never under this name. It keeps the
// last path element (either separator), drops control and format characters
// (including bidirectional overrides that disguise an extension), replaces
// invalid UTF-8, trims spaces and dots at the ends, defuses Windows device
// names and cuts the name to 255 bytes keeping its extension. A name with
// nothing left becomes "document".
func SanitizeFilename(name string) string {
	name = strings.ToValidUTF8(name, "_")
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base("/" + name) // "/" keeps "../x" and "" from surviving as such
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == utf8.RuneError:
			b.WriteRune('_')
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == '\u2028', r == '\u2029':
			// dropped: control, format (U+202E and friends), line separators
		case unicode.IsSpace(r):
			b.WriteRune(' ')
		case strings.ContainsRune(`<>:"|?*`, r):
			b.WriteRune('_')
		default:
			b.WriteRune(r)
		}
	}
	name = strings.Trim(b.String(), " .")
	name = strings.Join(strings.Fields(name), " ")
	if name == "" || name == "/" {
		return "document"
	}
	stem, ext := splitExt(name)
	if windowsReserved[strings.ToUpper(stem)] {
		stem = "_" + stem
	}
	if len(stem)+len(ext) > maxFilenameBytes {
		if len(ext) > 32 {
			ext = "" // an "extension" this long is not one
		}
		stem = truncateUTF8(stem, maxFilenameBytes-len(ext))
		stem = strings.TrimRight(stem, " .")
		if stem == "" {
			stem = "document"
		}
	}
	return stem + ext
}

// splitExt splits "report.final.pdf" into "report.final" and ".pdf"; a
// leading dot is part of the stem.
func splitExt(name string) (stem, ext string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 {
		return name, ""
	}
	return name[:i], name[i:]
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
