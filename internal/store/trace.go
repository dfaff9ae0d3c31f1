package store

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Statement is one statement a pool sent, as a Recorder saw it.
type Statement struct {
	SQL  string
	Args []any
	Err  error
}

// Recorder is a pgx.QueryTracer that keeps every statement sent (BEGIN and
// COMMIT included): tests count a request's round trips with it, and the
// benchmark captures the server's own transaction to replay it in pgbench.
// Set it as Options.Tracer.
type Recorder struct {
	mu    sync.Mutex
	on    bool
	stmts []Statement
}

type recorderKey struct{}

// Start begins recording (and forgets what was recorded before).
func (r *Recorder) Start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on, r.stmts = true, nil
}

// Stop ends recording and returns what was recorded.
func (r *Recorder) Stop() []Statement {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	out := r.stmts
	r.stmts = nil
	return out
}

// TraceQueryStart implements pgx.QueryTracer.
func (r *Recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.on {
		return ctx
	}
	// The stdlib driver passes its options (result formats, exec mode) as
	// leading arguments: they are not the statement's.
	var args []any
	for _, a := range data.Args {
		switch a.(type) {
		case pgx.QueryResultFormats, pgx.QueryResultFormatsByOID, pgx.QueryExecMode, pgx.QueryRewriter:
			continue
		}
		args = append(args, a)
	}
	r.stmts = append(r.stmts, Statement{SQL: data.SQL, Args: args})
	return context.WithValue(ctx, recorderKey{}, len(r.stmts)-1)
}

// TraceQueryEnd implements pgx.QueryTracer.
func (r *Recorder) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	i, ok := ctx.Value(recorderKey{}).(int)
	if !ok || data.Err == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if i < len(r.stmts) {
		r.stmts[i].Err = data.Err
	}
}
