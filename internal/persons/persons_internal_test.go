package persons

import "testing"

func TestNameQuery(t *testing.T) {
	for in, want := range map[string]string{
		"Wang Wei":          "wang:* & wei:*",
		"  nguyễn   văn ":   "nguyễn:* & văn:*",
		"a' | b & !c:*(d)":  "a:* & b:* & c:* & d:*",
		"":                  "",
		"&|!":               "",
		"王 伟":               "王:* & 伟:*",
		"1 2 3 4 5 6 7 8 9": "1:* & 2:* & 3:* & 4:* & 5:* & 6:* & 7:* & 8:*",
	} {
		if got := nameQuery(in); got != want {
			t.Errorf("nameQuery(%q) = %q, want %q", in, got, want)
		}
	}
}
