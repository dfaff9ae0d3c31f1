package config

import "fmt"

// Bundles holds the limits of a court-bundle build (internal/bundles): what
// one source document and one whole bundle may cause. A source over a limit
// fails the build with a problem naming it; the server goes on.
type Bundles struct {
	// MaxSourceBytes is the largest source document a bundle takes, in bytes.
	MaxSourceBytes int64 `yaml:"max_source_bytes"`
	// MaxSourcePages is the most pages one source document may have.
	MaxSourcePages int `yaml:"max_source_pages"`
	// MaxTotalPages is the most pages one bundle may have, all included.
	MaxTotalPages int `yaml:"max_total_pages"`
	// MaxImagePixels bounds width × height of one image (decompression bombs).
	MaxImagePixels int64 `yaml:"max_image_pixels"`
}

func defaultBundles() Bundles {
	return Bundles{MaxSourceBytes: 100 << 20, MaxSourcePages: 5000, MaxTotalPages: 20000,
		MaxImagePixels: 25_000_000}
}

func (c Config) validateBundles() error {
	b := c.Bundles
	switch {
	case b.MaxSourceBytes < 1:
		return &Error{Setting: "bundles.max_source_bytes", Msg: fmt.Sprintf("%d must be positive", b.MaxSourceBytes)}
	case b.MaxSourcePages < 1:
		return &Error{Setting: "bundles.max_source_pages", Msg: fmt.Sprintf("%d must be positive", b.MaxSourcePages)}
	case b.MaxTotalPages < b.MaxSourcePages:
		return &Error{Setting: "bundles.max_total_pages", Msg: fmt.Sprintf("%d must be at least bundles.max_source_pages (%d)", b.MaxTotalPages, b.MaxSourcePages)}
	case b.MaxImagePixels < 1:
		return &Error{Setting: "bundles.max_image_pixels", Msg: fmt.Sprintf("%d must be positive", b.MaxImagePixels)}
	}
	return nil
}
