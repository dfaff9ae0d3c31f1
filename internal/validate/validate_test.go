package validate

import (
	"testing"
	"time"

	"golang.org/x/text/language"
)

func TestCountry(t *testing.T) {
	if len(iso3166) != 249 {
		t.Fatalf("%d codes, ISO 3166-1 assigns 249", len(iso3166))
	}
	for c := range iso3166 {
		r, err := language.ParseRegion(c)
		if err != nil || !r.IsCountry() {
			t.Errorf("%s is not a country per CLDR", c)
		}
	}
	for _, c := range []string{"ZZ", "XK", "EU", "UK", "QO", "AA", "cn", "", "CHN"} {
		if Country(c) {
			t.Errorf("%q accepted", c)
		}
	}
	for _, c := range []string{"CN", "VN", "KH", "TH", "MM", "LA", "KR", "GB", "US"} {
		if !Country(c) {
			t.Errorf("%q refused", c)
		}
	}
}

func TestDate(t *testing.T) {
	for _, d := range []string{"0000-01-01", "0001-01-01", "1899-12-31"} {
		v, _ := time.Parse(time.DateOnly, d)
		if Date(v) == "" {
			t.Errorf("%s accepted", d)
		}
	}
	v, _ := time.Parse(time.DateOnly, "1900-01-01")
	if Date(v) != "" {
		t.Error("1900-01-01 refused")
	}
}

func TestLoneSurrogate(t *testing.T) {
	for js, want := range map[string]bool{
		`{"title":"a\ud800b"}`:     true,
		`{"title":"\udc00"}`:       true,
		`{"title":"\ud800"}`:       true,
		`{"title":"\ud83d\ude00"}`: false,
		`{"title":"\\ud800"}`:      false,
		`{"title":"plain ក្រុង"}`:  false,
		"{\"title\":\"\xff\"}":     true,
		`{"title":"\u00e9\"\\"}`:   false,
		`{"t":"\ud800\u0041"}`:     true,
	} {
		if got := LoneSurrogate([]byte(js)); got != want {
			t.Errorf("%s: %v, want %v", js, got, want)
		}
	}
}

func FuzzLoneSurrogate(f *testing.F) {
	f.Add([]byte(`{"a":"\ud800"}`))
	f.Add([]byte(`{"a":"\ud83d\ude00"}`))
	f.Fuzz(func(t *testing.T, b []byte) { _ = LoneSurrogate(b) })
}
