package imports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/jobs"
	"github.com/casebridge/casebridge/internal/pgerr"
	"github.com/casebridge/casebridge/internal/store"
)

// maxListedInAudit is how many person ids the commit's audit event lists
// itself (the event's details are bounded); the full lists are in the
// import's result, which the event names and whose digest it carries.
const maxListedInAudit = 300

// commitChunk is how many rows one INSERT writes during a commit; progress
// is reported after each.
const commitChunk = 1000

// Commit writes every row of a validated import in one transaction: new
// persons are created and linked to the case with their role; rows whose
// passport matches a person on file link that person, which the caller
// must confirm with linkExisting (else 409). All or nothing.
//
// An import of more than Limits.JobAboveRows rows is handed to a background
// job instead (CommitWorker): Commit checks everything it can now, marks
// the import committing and enqueues the job in the same transaction, and
// returns at once; the import then shows the job's progress and ends
// committed, or failed with the reason.
func (s *Service) Commit(ctx context.Context, id uuid.UUID, linkExisting bool) (Import, error) {
	var im Import
	err := store.WithTx(ctx, func(ctx context.Context) error {
		c, err := prepareCommit(ctx, id, linkExisting, true, StatusValidated, StatusFailed)
		if err != nil {
			return err
		}
		if s.lim.JobAboveRows == 0 || len(c.rows) <= s.lim.JobAboveRows {
			im, err = c.write(ctx, nil)
			return err
		}
		p, _ := access.FromContext(ctx)
		p.SessionID = ""
		if err := store.DB(ctx).Exec(`UPDATE imports SET status = 'committing', link_existing = ?,
				commit_requested_at = now(), progress_done = 0, progress_total = ?, commit_error = NULL WHERE id = ?`,
			linkExisting, c.total(), id).Error; err != nil {
			return fmt.Errorf("mark import committing: %w", pgerr.Map(err, PermImport))
		}
		if _, err := jobs.Insert(ctx, CommitArgs{ImportID: id, Principal: p}, &river.InsertOpts{MaxAttempts: 5}); err != nil {
			return err
		}
		im = c.im
		im.Status, im.ProgressDone, im.ProgressTotal, im.CommitError = StatusCommitting, 0, c.total(), ""
		return audit.Record(ctx, audit.Event{Action: "import.commit_requested", ObjectType: "import", ObjectID: id.String(),
			CaseID: im.CaseID, Details: map[string]any{"rows": len(c.rows), "link_existing": linkExisting}})
	})
	if err != nil {
		s.refused(ctx, err, uuid.Nil)
		return Import{}, fmt.Errorf("commit import %s: %w", id, err)
	}
	return im, nil
}

// pendingCommit is an import checked and ready to be written.
type pendingCommit struct {
	im      Import
	rows    []Row
	matches []Match
}

// total is the commit's work: one unit per person created, one per link.
func (c pendingCommit) total() int {
	created, links := len(c.rows), len(c.rows)
	for _, m := range c.matches {
		created--
		if m.AlreadyLinked {
			links--
		}
	}
	return created + links
}

// prepareCommit loads import id (locking its row when lock is set) and
// checks, for the principal of ctx, that it may be committed now: its
// status is one of want, the principal may import into its case, and
// matches are confirmed.
func prepareCommit(ctx context.Context, id uuid.UUID, linkExisting, lock bool, want ...string) (pendingCommit, error) {
	r, err := loadImport(ctx, id, lock)
	if err != nil {
		return pendingCommit{}, err
	}
	im, err := r.toImport()
	if err != nil {
		return pendingCommit{}, err
	}
	switch {
	case im.Status == StatusCommitted:
		return pendingCommit{}, apperr.With(apperr.ErrConflict, "This import was already committed at %s.", im.CommittedAt.UTC().Format(time.RFC3339))
	case im.Status == StatusInvalid:
		return pendingCommit{}, apperr.With(apperr.ErrConflict, "This import has %d bad rows and cannot be committed; fix the file and upload it again.", im.BadRows())
	case im.Status == StatusCommitting && !slices.Contains(want, StatusCommitting):
		return pendingCommit{}, apperr.With(apperr.ErrConflict, "This import is being committed (%d of %d rows written); wait for it to finish.", im.ProgressDone, im.ProgressTotal)
	case !slices.Contains(want, im.Status):
		return pendingCommit{}, apperr.With(apperr.ErrConflict, "This import is %s and cannot be committed now.", im.Status)
	}
	var ok bool
	if err := store.DB(ctx).Raw(`SELECT cb_can_import(?)`, im.CaseID).Scan(&ok).Error; err != nil {
		return pendingCommit{}, fmt.Errorf("check import: %w", err)
	}
	if !ok {
		return pendingCommit{}, apperr.Forbidden(PermImport, reasonImport)
	}
	var rows []Row
	if err := json.Unmarshal(r.Rows, &rows); err != nil {
		return pendingCommit{}, fmt.Errorf("decode import rows: %w", err)
	}
	matches, unlinkable, err := findMatches(ctx, im.CaseID, rows)
	if err != nil {
		return pendingCommit{}, err
	}
	if len(unlinkable) > 0 {
		return pendingCommit{}, apperr.With(apperr.ErrConflict, "Line %d: %s.", unlinkable[0].Line, unlinkable[0].Reason)
	}
	if len(matches) > 0 && !linkExisting {
		return pendingCommit{}, apperr.With(apperr.ErrConflict, "%d rows match persons already on file (by passport number and nationality); "+
			"commit with link_existing true to link them instead of creating duplicates.", len(matches))
	}
	return pendingCommit{im: im, rows: rows, matches: matches}, nil
}

// write inserts the rows, marks the import committed and records the one
// audit event of the commit, in the transaction of ctx. progress, when not
// nil, is told the work done after each chunk.
func (c pendingCommit) write(ctx context.Context, progress func(done int)) (Import, error) {
	im := c.im
	res, err := commitRows(ctx, im.CaseID, c.rows, c.matches, progress)
	if err != nil {
		return Import{}, err
	}
	resJSON, _ := json.Marshal(res)
	if err := store.DB(ctx).Exec(`UPDATE imports SET status = 'committed', result = ?::jsonb, committed_at = now(),
			committed_by = cb_user_id(), commit_error = NULL WHERE id = ?`, string(resJSON), im.ID).Error; err != nil {
		return Import{}, fmt.Errorf("mark import committed: %w", pgerr.Map(err, PermImport))
	}
	im.Status, im.Result, im.Matches, im.CommitError = StatusCommitted, &res, c.matches, ""
	now := time.Now()
	im.CommittedAt = &now
	details := map[string]any{"rows": len(c.rows), "created_count": len(res.Created), "linked_count": len(res.Linked),
		"already_linked_count": len(res.AlreadyLinked), "result_sha256": digest(resJSON), "file_sha256": im.SHA256}
	if len(res.Created)+len(res.Linked) <= maxListedInAudit {
		details["created"], details["linked"] = res.Created, res.Linked
	} else {
		details["listed_in"] = "GET /api/v1/imports/" + im.ID.String()
	}
	err = audit.Record(ctx, audit.Event{Action: "import.commit", ObjectType: "import", ObjectID: im.ID.String(),
		CaseID: im.CaseID, Details: details})
	return im, err
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// commitRows inserts the new persons and links them (and the matched
// persons not yet linked), a chunk of rows per statement.
func commitRows(ctx context.Context, caseID uuid.UUID, rows []Row, matches []Match, progress func(done int)) (Result, error) {
	res := Result{Created: []uuid.UUID{}, Linked: []uuid.UUID{}, AlreadyLinked: []uuid.UUID{}}
	byLine := map[int]Match{}
	for _, m := range matches {
		byLine[m.Line] = m
	}
	type newRow struct {
		Row
		ID uuid.UUID `json:"id"`
	}
	type link struct {
		ID   uuid.UUID `json:"id"`
		Role string    `json:"role"`
	}
	var fresh []newRow
	var links []link
	for _, r := range rows {
		if m, ok := byLine[r.Line]; ok {
			if m.AlreadyLinked {
				res.AlreadyLinked = append(res.AlreadyLinked, m.PersonID)
				continue
			}
			res.Linked = append(res.Linked, m.PersonID)
			links = append(links, link{m.PersonID, r.Role})
			continue
		}
		id := uuid.New()
		fresh = append(fresh, newRow{Row: r, ID: id})
		res.Created = append(res.Created, id)
		links = append(links, link{id, r.Role})
	}
	done := 0
	report := func(n int) {
		done += n
		if progress != nil {
			progress(done)
		}
	}
	for chunk := range chunks(fresh) {
		b, err := json.Marshal(chunk)
		if err != nil {
			return res, fmt.Errorf("encode persons: %w", err)
		}
		err = store.DB(ctx).Exec(`INSERT INTO persons (id, family_name, given_names, family_name_native, given_names_native,
				sex, date_of_birth, nationality, passport_number, passport_status, passport_expires_on,
				work_permit_number, work_permit_status, address, custody_status, facility, detained_at,
				deported_at, deported_via, entry_ban_until, asylum_claimed, consular_notification, created_by_agency_id)
			SELECT r.id, r.family_name, r.given_names, r.family_name_native, r.given_names_native,
				r.sex, r.date_of_birth, r.nationality, r.passport_number, r.passport_status, r.passport_expires_on,
				r.work_permit_number, r.work_permit_status, r.address, r.custody_status, r.facility, r.detained_at,
				r.deported_at, r.deported_via, r.entry_ban_until, r.asylum_claimed, r.consular_notification, cb_agency_id()
			FROM jsonb_to_recordset(?::jsonb) AS r(id uuid, line integer, family_name text, given_names text,
				family_name_native text, given_names_native text, sex text, date_of_birth date, nationality text,
				passport_number text, passport_status text, passport_expires_on date, work_permit_number text,
				work_permit_status text, address text, custody_status text, facility text, detained_at timestamptz,
				deported_at timestamptz, deported_via text, entry_ban_until date, asylum_claimed boolean,
				consular_notification text)
			ORDER BY r.line`, string(b)).Error
		if err != nil {
			return res, fmt.Errorf("insert persons: %w", pgerr.Map(err, PermImport))
		}
		report(len(chunk))
	}
	for chunk := range chunks(links) {
		b, _ := json.Marshal(chunk)
		err := store.DB(ctx).Exec(`INSERT INTO case_persons (case_id, person_id, role)
			SELECT ?, l.id, l.role FROM jsonb_to_recordset(?::jsonb) AS l(id uuid, role text)`, caseID, string(b)).Error
		if err != nil {
			return res, fmt.Errorf("link persons: %w", pgerr.Map(err, PermImport))
		}
		report(len(chunk))
	}
	return res, nil
}

// chunks yields s in pieces of at most commitChunk.
func chunks[T any](s []T) func(yield func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			n := min(len(s), commitChunk)
			if !yield(s[:n]) {
				return
			}
			s = s[n:]
		}
	}
}

// CommitArgs is the background commit of a large import. It runs as the
// principal who asked for it (without their browser session), so the
// database applies to the job exactly the rules it applied to the request.
type CommitArgs struct {
	ImportID  uuid.UUID        `json:"import_id"`
	Principal access.Principal `json:"principal"`
}

// Kind names the job in the queue.
func (CommitArgs) Kind() string { return "imports.commit" }

// CommitWorker works imports.commit jobs.
type CommitWorker struct {
	river.WorkerDefaults[CommitArgs]
	DB  *gorm.DB
	Svc *Service
}

// Timeout: a 20,000-row import takes a while on a loaded machine.
func (w *CommitWorker) Timeout(*river.Job[CommitArgs]) time.Duration { return 9 * time.Minute }

// Work commits the import. It is safe to run twice (a retry, or a job
// rescued after its process died): an advisory lock on the import lets one
// run at a time, and a run that finds it committed does nothing. A rule
// that refuses the commit ends the job: the import becomes failed with
// the reason. Any other error is retried.
func (w *CommitWorker) Work(ctx context.Context, job *river.Job[CommitArgs]) error {
	ctx = access.WithPrincipal(store.WithDB(ctx, w.DB), job.Args.Principal)
	id := job.Args.ImportID
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if err := store.DB(ctx).Exec(`SELECT pg_advisory_xact_lock(hashtextextended('imports.commit:' || ?::text, 0))`, id).Error; err != nil {
			return fmt.Errorf("lock import: %w", err)
		}
		var status string
		if err := store.DB(ctx).Raw(`SELECT status FROM imports WHERE id = ?`, id).Scan(&status).Error; err != nil {
			return fmt.Errorf("read import: %w", err)
		}
		if status != StatusCommitting {
			return nil // done by an earlier run, or not asked for any more
		}
		var linkExisting bool
		if err := store.DB(ctx).Raw(`SELECT link_existing FROM imports WHERE id = ?`, id).Scan(&linkExisting).Error; err != nil {
			return fmt.Errorf("read import: %w", err)
		}
		// No row lock here (the advisory lock serialises runs): progress is
		// written to the import's row by other transactions meanwhile.
		c, err := prepareCommit(ctx, id, linkExisting, false, StatusCommitting)
		if err != nil {
			return err
		}
		_, err = c.write(ctx, func(done int) { w.progress(ctx, id, done) })
		return err
	})
	if err == nil {
		return nil
	}
	if isRefusal(err) {
		w.fail(ctx, id, err)
		return river.JobCancel(err)
	}
	return fmt.Errorf("commit import %s: %w", id, err)
}

// progress records the work done in a transaction of its own, so that
// readers see it while the commit's transaction is still open.
func (w *CommitWorker) progress(ctx context.Context, id uuid.UUID, done int) {
	err := store.WithTx(store.Detached(ctx), func(ctx context.Context) error {
		return store.DB(ctx).Exec(`UPDATE imports SET progress_done = ? WHERE id = ? AND status = 'committing'`, done, id).Error
	})
	if err != nil && ctx.Err() == nil {
		w.Svc.log.WarnContext(ctx, "record import progress", "import", id.String(), "error", err.Error())
	}
}

// fail marks the import failed with the reason the commit was refused.
func (w *CommitWorker) fail(ctx context.Context, id uuid.UUID, cause error) {
	msg := refusalDetail(cause)
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	err := store.WithTx(store.Detached(ctx), func(ctx context.Context) error {
		if err := store.DB(ctx).Exec(`UPDATE imports SET status = 'failed', commit_error = ? WHERE id = ? AND status = 'committing'`,
			msg, id).Error; err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "import.commit", ObjectType: "import", ObjectID: id.String(),
			Outcome: audit.Denied, Details: map[string]any{"reason": msg}})
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		w.Svc.log.ErrorContext(ctx, "record failed import", "import", id.String(), "error", err.Error())
	}
}

// isRefusal reports whether err is a rule refusing the commit (retrying
// cannot help), not a failure of the machinery.
func isRefusal(err error) bool {
	for _, kind := range []error{apperr.ErrConflict, apperr.ErrForbidden, apperr.ErrInvalid, apperr.ErrNotFound,
		apperr.ErrUnprocessable} {
		if errors.Is(err, kind) {
			return true
		}
	}
	return false
}

// refusalDetail is the sentence a person reads about a refusal.
func refusalDetail(err error) string {
	var de *apperr.DetailError
	var pe *apperr.PermissionError
	switch {
	case errors.As(err, &de):
		return de.Detail
	case errors.As(err, &pe) && pe.Reason != "":
		return pe.Reason
	}
	return err.Error()
}
