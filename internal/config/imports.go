package config

import "fmt"

// Imports holds the bulk-import limits (POST /api/v1/imports).
type Imports struct {
	// MaxBytes is the largest accepted import file, in bytes.
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxRows is the most data rows one import may hold.
	MaxRows int `yaml:"max_rows"`
	// MaxUnzippedBytes bounds what an XLSX file may expand to (the sum of
	// its parts' uncompressed sizes): a larger one is refused as a zip bomb
	// before anything is decompressed.
	MaxUnzippedBytes int64 `yaml:"max_unzipped_bytes"`
	// JobAboveRows: an import of more rows is committed by a background
	// job whose progress the import shows, not while the request waits
	// (0: always while the request waits).
	JobAboveRows int `yaml:"job_above_rows"`
}

func defaultImports() Imports {
	return Imports{MaxBytes: 10 << 20, MaxRows: 20000, MaxUnzippedBytes: 100 << 20, JobAboveRows: 2000}
}

func (c Config) validateImports() error {
	i := c.Imports
	switch {
	case i.MaxBytes < 1:
		return &Error{Setting: "imports.max_bytes", Msg: fmt.Sprintf("%d must be positive", i.MaxBytes)}
	case i.MaxRows < 1:
		return &Error{Setting: "imports.max_rows", Msg: fmt.Sprintf("%d must be positive", i.MaxRows)}
	case i.JobAboveRows < 0:
		return &Error{Setting: "imports.job_above_rows", Msg: fmt.Sprintf("%d must be 0 or more", i.JobAboveRows)}
	case i.MaxUnzippedBytes < i.MaxBytes:
		return &Error{Setting: "imports.max_unzipped_bytes", Msg: fmt.Sprintf("%d must be at least imports.max_bytes (%d)", i.MaxUnzippedBytes, i.MaxBytes)}
	}
	return nil
}
