package page

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// FuzzDecode: any cursor string a client sends decodes or fails cleanly;
// what decodes encodes back to a cursor that decodes to the same key.
func FuzzDecode(f *testing.F) {
	type key struct {
		UpdatedAt time.Time `json:"u"`
		ID        uuid.UUID `json:"i"`
	}
	f.Add(Encode(key{UpdatedAt: time.Unix(1700000000, 0).UTC(), ID: uuid.New()}))
	f.Add("")
	f.Add("e30")
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, s string) {
		var k key
		if err := Decode(s, &k); err != nil {
			return
		}
		var k2 key
		if err := Decode(Encode(k), &k2); err != nil {
			t.Fatalf("re-encoded cursor of %q does not decode: %v", s, err)
		}
		if !k2.UpdatedAt.Equal(k.UpdatedAt) || k2.ID != k.ID {
			t.Fatalf("round trip changed the key: %+v → %+v", k, k2)
		}
	})
}
