// Package documents is the document area: metadata, immutable versions whose
// bytes live in a content-addressed blob store, streamed upload and
// download, withdrawal, and the sweeper that removes bytes no version refers
// to. Who sees which document is decided by the database (Row-Level
// Security on documents and document_versions, migrations 0005x); the
// actions are checked by the named predicates in this package.
package documents
