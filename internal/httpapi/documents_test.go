package httpapi_test

import (
	"mime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/casebridge/casebridge/internal/httpapi"
)

func TestContentDisposition(t *testing.T) {
	cases := map[string]string{
		"passport.pdf":          `attachment; filename="passport.pdf"; filename*=UTF-8''passport.pdf`,
		"Паспорт 'scan'; %.pdf": `attachment; filename="_______ 'scan'_ _.pdf"; filename*=UTF-8''%D0%9F%D0%B0%D1%81%D0%BF%D0%BE%D1%80%D1%82%20%27scan%27%3B%20%25.pdf`,
		`a"b\c.txt`:             `attachment; filename="a_b_c.txt"; filename*=UTF-8''a%22b%5Cc.txt`,
	}
	for in, want := range cases {
		if got := httpapi.ContentDisposition(in); got != want {
			t.Errorf("ContentDisposition(%q)\n got %s\nwant %s", in, got, want)
		}
	}
}

// Whatever the name, the header is one line that parses back to it.
func FuzzContentDisposition(f *testing.F) {
	for _, s := range []string{"a.pdf", "ឯកសារ.pdf", "x\r\ny: z", `"; filename=evil.exe`, "%00", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		h := httpapi.ContentDisposition(name)
		for _, r := range h {
			if r < 0x20 || r >= 0x7f {
				t.Fatalf("%q gives a header with %U: %s", name, r, h)
			}
		}
		disp, params, err := mime.ParseMediaType(h)
		if err != nil || disp != "attachment" {
			t.Fatalf("%q gives %s, which does not parse: %v", name, h, err)
		}
		if utf8.ValidString(name) && !strings.ContainsRune(name, 0) && params["filename"] != name {
			t.Fatalf("%q comes back as %q from %s", name, params["filename"], h)
		}
	})
}
