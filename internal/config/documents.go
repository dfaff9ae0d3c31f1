package config

import (
	"fmt"
	"net/url"
	"time"
)

// Documents holds the document settings: upload limit and the sweeper.
type Documents struct {
	// MaxSize is the largest accepted file, in bytes.
	MaxSize int64 `yaml:"max_size"`
	// SweepInterval is how often the sweeper looks for bytes no version
	// refers to; SweepGrace is how old such bytes (and temporary upload
	// data) must be before it removes them. The grace must exceed the
	// longest upload.
	SweepInterval time.Duration `yaml:"sweep_interval"`
	SweepGrace    time.Duration `yaml:"sweep_grace"`
	// AgencyDailyQuota is how many bytes of uploads each agency may commit
	// per UTC day (checked in the upload's commit transaction); 0: no quota.
	AgencyDailyQuota int64 `yaml:"agency_daily_quota"`
}

// Blob holds where document bytes are stored.
type Blob struct {
	// Backend is "local" (a directory) or "s3" (an S3-compatible bucket).
	Backend string `yaml:"backend"`
	// Dir is the local store's directory.
	Dir string `yaml:"dir"`

	S3Endpoint    string `yaml:"s3_endpoint"`
	S3Region      string `yaml:"s3_region"`
	S3Bucket      string `yaml:"s3_bucket"`
	S3AccessKey   string `yaml:"s3_access_key"`
	S3SecretKey   string `yaml:"s3_secret_key"`
	S3PathStyle   bool   `yaml:"s3_path_style"`
	S3Prefix      string `yaml:"s3_prefix"`
	S3PartSize    int64  `yaml:"s3_part_size"`
	S3Concurrency int    `yaml:"s3_concurrency"`
}

func defaultDocuments() Documents {
	return Documents{MaxSize: 1 << 30, SweepInterval: time.Hour, SweepGrace: 24 * time.Hour}
}

func defaultBlob() Blob {
	return Blob{Backend: "local", Dir: ".data/blobs", S3Region: "us-east-1", S3PartSize: 8 << 20, S3Concurrency: 2}
}

func (c Config) validateDocuments() error {
	d, b := c.Documents, c.Blob
	switch {
	case d.MaxSize < 1:
		return &Error{Setting: "documents.max_size", Msg: "must be at least 1 (bytes)"}
	case d.SweepInterval <= 0:
		return &Error{Setting: "documents.sweep_interval", Msg: "must be a positive duration"}
	case d.SweepGrace <= 0:
		return &Error{Setting: "documents.sweep_grace", Msg: "must be a positive duration (longer than any upload)"}
	case d.AgencyDailyQuota < 0:
		return &Error{Setting: "documents.agency_daily_quota", Msg: "must be 0 (no quota) or a number of bytes"}
	}
	switch b.Backend {
	case "local":
		if b.Dir == "" {
			return &Error{Setting: "blob.dir", Msg: "must be set when blob.backend is local"}
		}
	case "s3":
		if b.S3Bucket == "" {
			return &Error{Setting: "blob.s3_bucket", Msg: "must be set when blob.backend is s3"}
		}
		if b.S3Endpoint != "" {
			u, err := url.Parse(b.S3Endpoint)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return &Error{Setting: "blob.s3_endpoint", Msg: fmt.Sprintf("%q is not an absolute http(s) URL", b.S3Endpoint)}
			}
		}
		if (b.S3AccessKey == "") != (b.S3SecretKey == "") {
			return &Error{Setting: "blob.s3_secret_key", Msg: "blob.s3_access_key and blob.s3_secret_key go together (or both empty for the SDK's default credentials)"}
		}
		if b.S3PartSize < 5<<20 {
			return &Error{Setting: "blob.s3_part_size", Msg: "must be at least 5242880 (5 MiB, the S3 minimum)"}
		}
		if b.S3Concurrency < 1 {
			return &Error{Setting: "blob.s3_concurrency", Msg: "must be at least 1"}
		}
	default:
		return &Error{Setting: "blob.backend", Msg: fmt.Sprintf("%q is not one of local, s3", b.Backend)}
	}
	return nil
}
