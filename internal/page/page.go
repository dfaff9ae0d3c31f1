// Package page holds what every keyset-paginated list shares: the limit
// rules of spec/API.md (default 50, at most 200) and opaque cursors. A
// cursor is the sort key of the last item of a page, as base64url JSON; it
// carries no access decision (the next page is read under the same
// row-level security as the first), so a forged cursor only moves the start.
package page

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/casebridge/casebridge/internal/apperr"
)

// Limits of a page (spec/API.md, Conventions).
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Limit validates a requested page size; 0 means the default.
func Limit(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultLimit, nil
	case n < 1 || n > MaxLimit:
		return 0, apperr.Invalid("limit", "must be between 1 and %d", MaxLimit)
	}
	return n, nil
}

// Encode makes a cursor of key.
func Encode(key any) string {
	b, err := json.Marshal(key)
	if err != nil {
		panic(fmt.Sprintf("page: encode cursor: %v", err)) // keys are plain structs
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads cursor s into key; a bad cursor is a field error.
func Decode(s string, key any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, key) != nil {
		return apperr.Invalid("cursor", "is not a cursor this list returned")
	}
	return nil
}
