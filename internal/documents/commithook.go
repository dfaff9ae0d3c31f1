package documents

import "context"

// CommitHook takes part in the transaction that commits an upload (a new
// document or a new version), so that what the caller records — the
// response stored under an Idempotency-Key — commits together with the
// document or not at all.
type CommitHook interface {
	// Before runs first in the commit transaction, once the bytes are
	// durable, with their SHA-256 and the sanitised file name. An error
	// aborts the upload: nothing is committed (the stored bytes, referenced
	// by no row, are left to the sweeper).
	Before(ctx context.Context, fileSHA256, filename string) error
	// After runs last in the same transaction with the document as
	// committed.
	After(ctx context.Context, doc Document) error
}

type commitHookKey struct{}

// WithCommitHook returns a context whose uploads run h in their commit
// transaction.
func WithCommitHook(ctx context.Context, h CommitHook) context.Context {
	return context.WithValue(ctx, commitHookKey{}, h)
}

func commitHookOf(ctx context.Context) CommitHook {
	h, _ := ctx.Value(commitHookKey{}).(CommitHook)
	return h
}
