package sqlstore

import (
	"context"
	"errors"
	"slices"
)

// PipeStmt is one statement of a Dialect.Pipeline.
type PipeStmt struct {
	// Query is the statement in the dialect's placeholders.
	Query string
	Args  []any
	// Row, when set, is called for each result row with the function that
	// scans it; an error it returns fails the pipeline.
	Row func(scan func(dest ...any) error) error
}

// ErrNotCommitted is wrapped by the errors of a Dialect.Pipeline whose
// transaction certainly did not commit.
var ErrNotCommitted = errors.New("the pipeline's transaction did not commit")

// pipeOp is the form of a write that may run as one statement in a
// pipeline (see writerPool.runPipeline).
type pipeOp interface {
	// stmt returns the write's statement and whether its success makes
	// deliveries due; ok is false when the write must run as its fn.
	stmt() (st PipeStmt, due, ok bool)
	// finish is called after the pipeline committed, with the rows read;
	// it reports false when the write is not complete and must run as its
	// fn, in a transaction of its own (the statement wrote nothing).
	finish() bool
}

// runPipeline runs the writes of batch that have a pipelined form (a
// publish planned from the cached webhooks index) in one round trip and
// one transaction, when the dialect can, and finishes those it completed.
// It returns the writes left to run in a transaction: those without a
// pipelined form, those whose statement wrote nothing (a duplicate event, a
// changed webhooks version) and, when a statement failed and the pipeline
// rolled back, all of them.
func (p *writerPool) runPipeline(batch []*writeOp) []*writeOp {
	pipeline := p.s.d.Pipeline
	if pipeline == nil || !slices.ContainsFunc(batch, func(op *writeOp) bool { return op.pipe != nil }) {
		return batch
	}
	rest := make([]*writeOp, 0, len(batch))
	piped := make([]*writeOp, 0, len(batch))
	stmts := make([]PipeStmt, 0, len(batch)+1)
	notify := false
	for _, op := range batch {
		op.err, op.due = nil, false
		if op.pipe == nil {
			rest = append(rest, op)
			continue
		}
		st, due, ok := op.pipe.stmt()
		if !ok {
			rest = append(rest, op)
			continue
		}
		piped, stmts = append(piped, op), append(stmts, st)
		notify = notify || due
	}
	if len(piped) == 0 {
		return batch
	}
	if notify && p.s.d.NotifyDue != "" {
		stmts = append(stmts, PipeStmt{Query: p.s.d.NotifyDue}) // no placeholders, as in runTx
	}
	err := pipeline(context.Background(), p.s.wdb, stmts)
	if errors.Is(err, ErrNotCommitted) {
		return append(rest, piped...)
	}
	done := piped[:0:0]
	for _, op := range piped {
		if err == nil && !op.pipe.finish() {
			rest = append(rest, op)
			continue
		}
		done = append(done, op)
	}
	if err == nil {
		p.piped.Add(uint64(len(done)))
	}
	p.finish(done, p.s.wrap(err, ""))
	return rest
}
