package audit

import "testing"

// FuzzParseCursor: any audit list cursor parses or is refused; what parses
// formats back to itself.
func FuzzParseCursor(f *testing.F) {
	f.Add("")
	f.Add("MTcwMDAwMDAwMDAwMDAwMC4xMg")
	f.Add("LS0xLi0x")
	f.Fuzz(func(t *testing.T, s string) {
		ts, id, ok := parseCursor(s)
		if !ok {
			return
		}
		if ts2, id2, ok := parseCursor(formatCursor(ts, id)); !ok || !ts2.Equal(ts) || id2 != id {
			t.Fatalf("%q: round trip (%v,%d) → (%v,%d,%v)", s, ts, id, ts2, id2, ok)
		}
	})
}
