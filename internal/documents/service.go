package documents

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/store"
)

// Service runs the document actions. Every method takes the principal from
// ctx; the database decides what it sees.
type Service struct {
	blobs   blob.Store
	maxSize int64
	quota   int64 // bytes per agency per UTC day; 0: no quota
	log     *slog.Logger
}

// NewService returns a service storing bytes in blobs and refusing files
// larger than maxSize bytes.
func NewService(blobs blob.Store, maxSize int64, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{blobs: blobs, maxSize: maxSize, log: log}
}

// MaxSize is the largest accepted file, in bytes.
func (s *Service) MaxSize() int64 { return s.maxSize }

// SetAgencyDailyQuota sets the upload quota: at most bytes of uploads per
// agency per UTC day (documents.agency_daily_quota); 0 turns it off. Call
// it before serving.
func (s *Service) SetAgencyDailyQuota(bytes int64) { s.quota = bytes }

// quotaSetting names the setting in the problems that refuse an upload.
const quotaSetting = "documents.agency_daily_quota"

// quotaExceeded is the refusal of an upload over the agency's quota: a 429
// whose detail names the quota and what is used, with Retry-After at the
// next 00:00 UTC, when the quota resets. file says what this file would add
// ("" when the quota is used up already).
func quotaExceeded(quota, used int64, file string) error {
	now := time.Now().UTC()
	reset := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	state := "is used up"
	if file != "" {
		state, file = "would be exceeded", " and "+file
	}
	return apperr.RetryAfter(apperr.Coded(apperr.ErrQuotaExceeded, "documents.quota_exceeded",
		"Your agency's upload quota (%s) of %d bytes per day %s: %d bytes uploaded today%s. Nothing was kept. The quota resets at 00:00 UTC.",
		quotaSetting, quota, state, used, file), reset.Sub(now))
}

// quotaLeft answers, before a file streams, how many bytes the principal's
// agency may still upload today (the limit for this file); an agency whose
// quota is used up is refused before anything is stored.
//
// An upload with a commit hook (an Idempotency-Key) is not checked here: it
// may be the retry of an upload that committed and used the last bytes,
// which must get its first result (the hook finds it in the commit
// transaction, before the quota is charged), not a 429. Its quota is checked
// at commit only; bytes of a refused one are left to the sweeper.
func (s *Service) quotaLeft(ctx context.Context) (int64, error) {
	if s.quota <= 0 || commitHookOf(ctx) != nil {
		return s.maxSize, nil
	}
	var used int64
	if err := store.DB(ctx).Raw(`SELECT cb_upload_quota_used()`).Scan(&used).Error; err != nil {
		return 0, fmt.Errorf("read upload quota: %w", err)
	}
	if used >= s.quota {
		return 0, quotaExceeded(s.quota, used, "")
	}
	return min(s.maxSize, s.quota-used), nil
}

// chargeQuota, in the commit transaction, adds the file to the agency's
// usage of today, or refuses it when it does not fit (the definitive check:
// concurrent uploads of one agency are serialised by the database).
func (s *Service) chargeQuota(ctx context.Context, size int64) error {
	if s.quota <= 0 {
		return nil
	}
	var row struct {
		Allowed bool
		Used    int64
	}
	if err := store.DB(ctx).Raw(`SELECT allowed, used FROM cb_charge_upload(?, ?)`, size, s.quota).Scan(&row).Error; err != nil {
		return fmt.Errorf("charge upload quota: %w", err)
	}
	if !row.Allowed {
		return quotaExceeded(s.quota, row.Used, fmt.Sprintf("this file has %d bytes", size))
	}
	return nil
}

// Blobs is the store the service keeps bytes in.
func (s *Service) Blobs() blob.Store { return s.blobs }

// Permission names, as shown in 403 problems.
const (
	PermUpload   = "document.upload"
	PermWithdraw = "document.withdraw"
)

// can asks the database whether the principal may perform action on case
// caseID: cb_can (migrations 00020) is the one statement of ACCESS.md's
// action table; Go does not restate it.
func can(ctx context.Context, action string, caseID uuid.UUID) (bool, error) {
	var ok bool
	if err := store.DB(ctx).Raw(`SELECT cb_can(?, ?)`, action, caseID).Scan(&ok).Error; err != nil {
		return false, fmt.Errorf("check %s on case %s: %w", action, caseID, err)
	}
	return ok, nil
}

// canUpload: uploading documents and new versions is editing the case
// (ACCESS.md: officer or supervisor of the owner agency).
func canUpload(ctx context.Context, caseID uuid.UUID) error {
	ok, err := can(ctx, "case.edit", caseID)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Forbidden(PermUpload, "Only officers and supervisors of the agency that owns the case may upload documents.")
	}
	return nil
}

// canWithdraw: a supervisor of the owner agency, never under legal hold
// (cb_document_hold).
func canWithdraw(ctx context.Context, doc Document) error {
	ok, err := can(ctx, PermWithdraw, doc.caseID)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Forbidden(PermWithdraw, "Only a supervisor of the agency that owns the case may withdraw its documents.")
	}
	var hold *string
	if err := store.DB(ctx).Raw(`SELECT cb_document_hold(?)`, doc.ID).Scan(&hold).Error; err != nil {
		return fmt.Errorf("check legal hold of document %s: %w", doc.ID, err)
	}
	if hold != nil {
		return apperr.Forbidden(PermWithdraw, "The document is under legal hold: "+*hold+".")
	}
	return nil
}

// caseVisible reports whether the principal sees case id; not visible is
// ErrNotFound.
func caseVisible(ctx context.Context, id uuid.UUID) error {
	var ok bool
	if err := store.DB(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM cases WHERE id = ?)`, id).Scan(&ok).Error; err != nil {
		return fmt.Errorf("load case %s: %w", id, err)
	}
	if !ok {
		return fmt.Errorf("load case %s: %w", id, apperr.ErrNotFound)
	}
	return nil
}

// Create stores a new document of case caseID: it checks meta and the
// principal's permission, then reads the file from next, stores its bytes
// and, once they are durable, commits the document and its first version.
func (s *Service) Create(ctx context.Context, caseID uuid.UUID, meta Metadata, next FileFunc) (Document, error) {
	meta.Title = strings.TrimSpace(meta.Title)
	if err := meta.Validate(); err != nil {
		return Document{}, fmt.Errorf("create document: %w", err)
	}
	var limit int64
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if err := caseVisible(ctx, caseID); err != nil {
			return err
		}
		if err := canUpload(ctx, caseID); err != nil {
			return err
		}
		if meta.PersonID != nil {
			linked, err := personLinked(ctx, caseID, *meta.PersonID)
			if err != nil {
				return err
			}
			if !linked {
				return apperr.Invalid("person_id", "is not a person linked to this case")
			}
		}
		var err error
		limit, err = s.quotaLeft(ctx)
		return err
	})
	if err != nil {
		s.recordRefusal(ctx, err, "document.create", "case", caseID.String(), caseID)
		return Document{}, fmt.Errorf("create document in case %s: %w", caseID, err)
	}
	stored, err := s.store(ctx, next, limit)
	if err != nil {
		return Document{}, fmt.Errorf("create document in case %s: %w", caseID, err)
	}
	var doc Document
	hook := commitHookOf(ctx)
	err = store.WithTx(ctx, func(ctx context.Context) error {
		if hook != nil {
			if err := hook.Before(ctx, stored.info.SHA256, stored.filename); err != nil {
				return err
			}
		}
		if err := s.chargeQuota(ctx, stored.info.Size); err != nil {
			return err
		}
		if err := s.claimBlob(ctx, stored.info); err != nil {
			return err
		}
		var row struct {
			ID        uuid.UUID
			CreatedAt time.Time
		}
		res := store.DB(ctx).Raw(`INSERT INTO documents
			(case_id, person_id, title, kind, classification, consular_releasable, current_version, created_by)
			VALUES (?, ?, ?, ?, ?, ?, 1, cb_user_id())
			RETURNING id, created_at`,
			caseID, meta.PersonID, meta.Title, meta.Kind, string(meta.Classification), meta.ConsularReleasable).Scan(&row)
		if res.Error != nil {
			return fmt.Errorf("insert document: %w", mapWriteError(res.Error))
		}
		if err := insertVersion(ctx, row.ID, 1, stored); err != nil {
			return err
		}
		var err error
		if doc, err = getDocument(ctx, row.ID, false); err != nil {
			return err
		}
		if hook != nil {
			if err := hook.After(ctx, doc); err != nil {
				return err
			}
		}
		return audit.Record(ctx, audit.Event{
			Action: "document.create", ObjectType: "document", ObjectID: doc.ID.String(), CaseID: caseID,
			Details: map[string]any{"version": 1, "sha256": stored.info.SHA256, "size": stored.info.Size,
				"classification": meta.Classification},
		})
	})
	if err != nil {
		return Document{}, fmt.Errorf("create document in case %s: %w", caseID, err)
	}
	return doc, nil
}

// AddVersion stores a new version of document id. ifRevision, when not
// nil, must match the document's revision (If-Match).
func (s *Service) AddVersion(ctx context.Context, id uuid.UUID, ifRevision *int, next FileFunc) (Document, error) {
	var (
		caseID uuid.UUID
		limit  int64
	)
	check := func(ctx context.Context, lock bool) error {
		doc, err := getDocument(ctx, id, lock)
		if err != nil {
			return err
		}
		caseID = doc.caseID
		if err := canUpload(ctx, doc.caseID); err != nil {
			return err
		}
		if doc.Withdrawal != nil {
			return apperr.Coded(apperr.ErrConflict, "document.withdrawn", "The document was withdrawn; it takes no new versions.")
		}
		if ifRevision != nil && *ifRevision != doc.Revision {
			return apperr.With(apperr.ErrPreconditionFailed, "The document changed since you read it (revision %d, now %d).", *ifRevision, doc.Revision)
		}
		return nil
	}
	if err := store.WithTx(ctx, func(ctx context.Context) error {
		if err := check(ctx, false); err != nil {
			return err
		}
		var err error
		limit, err = s.quotaLeft(ctx)
		return err
	}); err != nil {
		s.recordRefusal(ctx, err, "document.version.create", "document", id.String(), caseID)
		return Document{}, fmt.Errorf("add version to document %s: %w", id, err)
	}
	stored, err := s.store(ctx, next, limit)
	if err != nil {
		return Document{}, fmt.Errorf("add version to document %s: %w", id, err)
	}
	var doc Document
	hook := commitHookOf(ctx)
	err = store.WithTx(ctx, func(ctx context.Context) error {
		if hook != nil {
			if err := hook.Before(ctx, stored.info.SHA256, stored.filename); err != nil {
				return err
			}
		}
		if err := s.chargeQuota(ctx, stored.info.Size); err != nil {
			return err
		}
		if err := s.claimBlob(ctx, stored.info); err != nil {
			return err
		}
		// Again under the row lock: the document may have changed while the
		// bytes streamed.
		if err := check(ctx, true); err != nil {
			return err
		}
		var next int
		res := store.DB(ctx).Raw(`UPDATE documents
			SET current_version = current_version + 1, revision = revision + 1, updated_at = now()
			WHERE id = ? RETURNING current_version`, id).Scan(&next)
		if res.Error != nil {
			return fmt.Errorf("update document: %w", mapWriteError(res.Error))
		}
		if res.RowsAffected == 0 {
			return apperr.Forbidden(PermUpload, "")
		}
		if err := insertVersion(ctx, id, next, stored); err != nil {
			return err
		}
		var err error
		if doc, err = getDocument(ctx, id, false); err != nil {
			return err
		}
		if hook != nil {
			if err := hook.After(ctx, doc); err != nil {
				return err
			}
		}
		return audit.Record(ctx, audit.Event{
			Action: "document.version.create", ObjectType: "document", ObjectID: id.String(), CaseID: caseID,
			Details: map[string]any{"version": next, "sha256": stored.info.SHA256, "size": stored.info.Size},
		})
	})
	if err != nil {
		return Document{}, fmt.Errorf("add version to document %s: %w", id, err)
	}
	return doc, nil
}

// storedFile is a file whose bytes are durable in the blob store.
type storedFile struct {
	info      blob.Info
	mediaType string
	filename  string
}

// store reads the upload, checks its type from its first bytes and streams
// it into the blob store under limit: the size limit, or less when the
// agency's upload quota has less left today (then a larger file is refused
// as over the quota, and the blob store keeps nothing of it).
func (s *Service) store(ctx context.Context, next FileFunc, limit int64) (storedFile, error) {
	f, err := next()
	if err != nil {
		return storedFile{}, err
	}
	if f.Body == nil {
		return storedFile{}, apperr.Invalid("file", "is required")
	}
	head, err := readHead(f.Body)
	if err != nil {
		return storedFile{}, fmt.Errorf("read upload: %w", err)
	}
	if len(head) == 0 {
		return storedFile{}, apperr.Invalid("file", "is empty")
	}
	mediaType, ok := sniff(head)
	if !ok {
		return storedFile{}, apperr.With(apperr.ErrUnsupportedMediaType,
			"The file's content is %s, which is not accepted. Accepted: %s.", mediaType, strings.Join(AllowedTypes(), ", "))
	}
	info, err := s.blobs.Put(ctx, io.MultiReader(bytes.NewReader(head), f.Body), limit)
	switch {
	case errors.Is(err, blob.ErrTooLarge) && limit < s.maxSize:
		return storedFile{}, quotaExceeded(s.quota, s.quota-limit, fmt.Sprintf("this file is larger than the %d bytes left", limit))
	case errors.Is(err, blob.ErrTooLarge):
		return storedFile{}, apperr.With(apperr.ErrTooLarge, "The file exceeds the limit of %d bytes; nothing was kept.", s.maxSize)
	case errors.Is(err, blob.ErrEmpty):
		return storedFile{}, apperr.Invalid("file", "is empty")
	case err != nil:
		return storedFile{}, fmt.Errorf("store upload: %w", err)
	}
	return storedFile{info: info, mediaType: mediaType, filename: SanitizeFilename(f.Name)}, nil
}

// claimBlob makes the stored bytes safe from the sweeper for the rest of
// the transaction: it takes the blob's lock (the sweeper removes an object
// only while holding it), checks the object is still there and records it
// in blobs. The version row that refers to it commits in the same
// transaction, so the sweeper, which re-checks under the lock, never
// removes bytes that a committed row points to.
func (s *Service) claimBlob(ctx context.Context, inf blob.Info) error {
	if err := store.DB(ctx).Exec(`SELECT pg_advisory_xact_lock(cb_blob_lock_key(?))`, inf.SHA256).Error; err != nil {
		return fmt.Errorf("lock blob %s: %w", inf.SHA256, err)
	}
	got, err := s.blobs.Stat(ctx, inf.SHA256)
	if err != nil {
		return fmt.Errorf("claim blob: %w", err)
	}
	if got.Size != inf.Size {
		return fmt.Errorf("claim blob %s: size %d, stored %d: %w", inf.SHA256, inf.Size, got.Size, blob.ErrCorrupt)
	}
	if err := store.DB(ctx).Exec(`SELECT cb_record_blob(?, ?)`, inf.SHA256, inf.Size).Error; err != nil {
		return fmt.Errorf("record blob %s: %w", inf.SHA256, err)
	}
	return nil
}

func insertVersion(ctx context.Context, docID uuid.UUID, n int, f storedFile) error {
	err := store.DB(ctx).Exec(`INSERT INTO document_versions
		(document_id, version, sha256, size, media_type, filename, created_by)
		VALUES (?, ?, ?, ?, ?, ?, cb_user_id())`,
		docID, n, f.info.SHA256, f.info.Size, f.mediaType, f.filename).Error
	if err != nil {
		return fmt.Errorf("insert version %d of document %s: %w", n, docID, mapWriteError(err))
	}
	return nil
}

// mapWriteError turns a refusal by a Row-Level Security policy into
// ErrForbidden (the Go predicates should have caught it first).
func mapWriteError(err error) error {
	if store.PgCode(err) == "42501" { // insufficient_privilege, incl. RLS WITH CHECK
		return fmt.Errorf("%w: %w", apperr.Forbidden(PermUpload, ""), err)
	}
	return err
}

func personLinked(ctx context.Context, caseID, personID uuid.UUID) (bool, error) {
	var ok bool
	err := store.DB(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM case_persons WHERE case_id = ? AND person_id = ?)`,
		caseID, personID).Scan(&ok).Error
	if err != nil {
		return false, fmt.Errorf("check person %s in case %s: %w", personID, caseID, err)
	}
	return ok, nil
}

// docRow is a documents row joined with its current version.
type docRow struct {
	ID                 uuid.UUID
	CaseID             uuid.UUID
	PersonID           *uuid.UUID
	Title              string
	Kind               string
	Classification     string
	ConsularReleasable bool
	CurrentVersion     int
	Revision           int
	WithdrawnAt        *time.Time
	WithdrawnBy        *uuid.UUID
	WithdrawnReason    *string
	CreatedBy          *uuid.UUID
	CreatedAt          time.Time
	UpdatedAt          time.Time
	CaseVisible        bool
	VSHA256            string     `gorm:"column:v_sha256"`
	VSize              int64      `gorm:"column:v_size"`
	VMediaType         string     `gorm:"column:v_media_type"`
	VFilename          string     `gorm:"column:v_filename"`
	VCreatedBy         *uuid.UUID `gorm:"column:v_created_by"`
	VCreatedAt         time.Time  `gorm:"column:v_created_at"`
}

const docSelect = `SELECT d.id, d.case_id, d.person_id, d.title, d.kind, d.classification,
		d.consular_releasable, d.current_version, d.revision, d.withdrawn_at, d.withdrawn_by,
		d.withdrawn_reason, d.created_by, d.created_at, d.updated_at,
		(cb_case_visible(d.case_id) AND cb_document_listed(d.person_id)) AS case_visible,
		v.sha256 AS v_sha256, v.size AS v_size, v.media_type AS v_media_type,
		v.filename AS v_filename, v.created_by AS v_created_by, v.created_at AS v_created_at
	FROM documents d
	JOIN document_versions v ON v.document_id = d.id AND v.version = d.current_version`

func (r docRow) document() Document {
	d := Document{
		caseID: r.CaseID,
		ID:     r.ID, PersonID: r.PersonID, Title: r.Title, Kind: r.Kind,
		Classification: access.Classification(r.Classification), ConsularReleasable: r.ConsularReleasable,
		CurrentVersion: r.CurrentVersion, Revision: r.Revision, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		Current: Version{Number: r.CurrentVersion, SHA256: r.VSHA256, Size: r.VSize, MediaType: r.VMediaType,
			Filename: r.VFilename, CreatedAt: r.VCreatedAt},
	}
	if r.WithdrawnAt != nil {
		d.Withdrawal = &Withdrawal{At: *r.WithdrawnAt, Reason: deref(r.WithdrawnReason)}
		if r.WithdrawnBy != nil {
			d.Withdrawal.By = *r.WithdrawnBy
		}
	}
	// The consular projection: without a case grant the principal learns
	// neither the case nor who at another agency handled the document.
	if r.CaseVisible {
		d.CaseID = r.CaseID
		d.CreatedBy = derefUUID(r.CreatedBy)
		d.Current.CreatedBy = derefUUID(r.VCreatedBy)
	}
	return d
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefUUID(u *uuid.UUID) uuid.UUID {
	if u == nil {
		return uuid.Nil
	}
	return *u
}

// getDocument loads one visible document with its current version (lock:
// FOR UPDATE of the documents row).
func getDocument(ctx context.Context, id uuid.UUID, lock bool) (Document, error) {
	q := docSelect + ` WHERE d.id = ?`
	if lock {
		q += ` FOR UPDATE OF d`
	}
	var rows []docRow
	if err := store.DB(ctx).Raw(q, id).Scan(&rows).Error; err != nil {
		return Document{}, fmt.Errorf("load document %s: %w", id, mapWriteError(err))
	}
	if len(rows) == 0 {
		return Document{}, fmt.Errorf("load document %s: %w", id, apperr.ErrNotFound)
	}
	return rows[0].document(), nil
}

// Get returns a document with all its versions.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Document, error) {
	var doc Document
	err := store.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if doc, err = getDocument(ctx, id, false); err != nil {
			return err
		}
		if doc.Versions, err = versions(ctx, doc); err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "document.read", ObjectType: "document",
			ObjectID: id.String(), CaseID: doc.caseID})
	})
	if err != nil {
		s.recordRefusal(ctx, err, "document.read", "document", id.String(), uuid.Nil)
		return Document{}, fmt.Errorf("get document %s: %w", id, err)
	}
	return doc, nil
}

func versions(ctx context.Context, doc Document) ([]Version, error) {
	var rows []struct {
		Version   int
		SHA256    string `gorm:"column:sha256"`
		Size      int64
		MediaType string
		Filename  string
		CreatedBy *uuid.UUID
		CreatedAt time.Time
	}
	err := store.DB(ctx).Raw(`SELECT version, sha256, size, media_type, filename, created_by, created_at
		FROM document_versions WHERE document_id = ? ORDER BY version`, doc.ID).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load versions of document %s: %w", doc.ID, err)
	}
	out := make([]Version, len(rows))
	for i, r := range rows {
		out[i] = Version{Number: r.Version, SHA256: r.SHA256, Size: r.Size, MediaType: r.MediaType,
			Filename: r.Filename, CreatedAt: r.CreatedAt}
		if doc.CaseID != uuid.Nil {
			out[i].CreatedBy = derefUUID(r.CreatedBy)
		}
	}
	return out, nil
}

// Limits of a list page.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// List returns a page of the documents of a case (newest first), or of the
// documents about a person. A case the principal cannot see is ErrNotFound;
// documents it may not read are simply not there.
func (s *Service) List(ctx context.Context, f ListFilter) (Page, error) {
	limit := f.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return Page{}, apperr.Invalid("limit", "must be between 1 and %d", MaxLimit)
	}
	var after *cursor
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return Page{}, err
		}
		after = &c
	}
	if (f.CaseID == uuid.Nil) == (f.PersonID == uuid.Nil) {
		return Page{}, errors.New("list documents: exactly one of case and person")
	}
	if err := f.validate(); err != nil {
		return Page{}, fmt.Errorf("list documents: %w", err)
	}
	var page Page
	err := store.WithTx(ctx, func(ctx context.Context) error {
		q := docSelect + ` WHERE `
		args := []any{}
		if f.CaseID != uuid.Nil {
			if err := caseVisible(ctx, f.CaseID); err != nil {
				return err
			}
			// A document about an embassy's own national is shown with the
			// person in the consular view, never in a case's list.
			q += `d.case_id = ? AND cb_document_listed(d.person_id)`
			args = append(args, f.CaseID)
		} else {
			q += `d.person_id = ?`
			args = append(args, f.PersonID)
		}
		// The narrowing filters work inside the case's (or person's) index
		// range: documents_case_idx / documents_person_idx.
		if f.Kind != "" {
			q += ` AND d.kind = ?`
			args = append(args, f.Kind)
		}
		if f.About != uuid.Nil {
			q += ` AND d.person_id = ?`
			args = append(args, f.About)
		}
		if t := strings.TrimSpace(f.Title); t != "" {
			q += ` AND d.title ILIKE ? ESCAPE '\'`
			args = append(args, "%"+likeEscaper.Replace(t)+"%")
		}
		if after != nil {
			q += ` AND (d.created_at, d.id) < (?, ?)`
			args = append(args, after.CreatedAt, after.ID)
		}
		q += ` ORDER BY d.created_at DESC, d.id DESC LIMIT ?`
		args = append(args, limit+1)
		var rows []docRow
		if err := store.DB(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
			return fmt.Errorf("list documents: %w", err)
		}
		for i, r := range rows {
			if i == limit {
				last := rows[i-1]
				page.NextCursor = encodeCursor(cursor{CreatedAt: last.CreatedAt, ID: last.ID})
				break
			}
			page.Items = append(page.Items, r.document())
		}
		ev := audit.Event{Action: "document.list", ObjectType: "case", ObjectID: f.CaseID.String(), CaseID: f.CaseID,
			Details: map[string]any{"count": len(page.Items)}}
		if f.CaseID == uuid.Nil {
			ev.ObjectType, ev.ObjectID = "person", f.PersonID.String()
		}
		return audit.Record(ctx, ev)
	})
	if err != nil {
		return Page{}, fmt.Errorf("list documents: %w", err)
	}
	return page, nil
}

// likeEscaper quotes LIKE's wildcards so a search matches them literally.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

type cursor struct {
	CreatedAt time.Time
	ID        uuid.UUID
}

func encodeCursor(c cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.CreatedAt.UTC().Format(time.RFC3339Nano) + "|" + c.ID.String()))
}

func decodeCursor(s string) (cursor, error) {
	bad := apperr.Invalid("cursor", "is not a cursor this list returned")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, bad
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	if !ok {
		return cursor{}, bad
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return cursor{}, bad
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return cursor{}, bad
	}
	return cursor{CreatedAt: t, ID: u}, nil
}

// Open returns the bytes of version n of document id (0: the current
// version). The read is audited before the bytes are handed out; the caller
// closes Body.
func (s *Service) Open(ctx context.Context, id uuid.UUID, n int) (Content, error) {
	if n < 0 {
		return Content{}, apperr.Invalid("version", "must be a positive version number")
	}
	var c Content
	err := store.WithTx(ctx, func(ctx context.Context) error {
		doc, err := getDocument(ctx, id, false)
		if err != nil {
			return err
		}
		c.Document, c.Version = doc, doc.Current
		if n != 0 && n != doc.CurrentVersion {
			vs, err := versions(ctx, doc)
			if err != nil {
				return err
			}
			if n > len(vs) || vs[n-1].Number != n {
				return apperr.With(apperr.ErrNotFound, "The document has no version %d.", n)
			}
			c.Version = vs[n-1]
		}
		return audit.Record(ctx, audit.Event{Action: "document.content.read", ObjectType: "document",
			ObjectID: id.String(), CaseID: doc.caseID,
			Details: map[string]any{"version": c.Version.Number, "sha256": c.Version.SHA256}})
	})
	if err != nil {
		s.recordRefusal(ctx, err, "document.content.read", "document", id.String(), uuid.Nil)
		return Content{}, fmt.Errorf("open document %s: %w", id, err)
	}
	body, size, err := s.blobs.Open(ctx, c.Version.SHA256)
	if err != nil {
		// A row never points to missing bytes unless storage was damaged:
		// that is an internal error, and `casebridge verify` will name it.
		return Content{}, fmt.Errorf("open document %s version %d: %w", id, c.Version.Number, err)
	}
	if size != c.Version.Size {
		_ = body.Close()
		return Content{}, fmt.Errorf("open document %s version %d: stored size %d, recorded %d: %w",
			id, c.Version.Number, size, c.Version.Size, blob.ErrCorrupt)
	}
	c.Body = body
	return c, nil
}

// Withdraw soft-deletes document id with a reason. The bytes and versions
// stay; the document is then visible only to supervisors of the owner
// agency.
func (s *Service) Withdraw(ctx context.Context, id uuid.UUID, reason string, ifRevision *int) (Document, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return Document{}, apperr.Invalid("reason", "is required")
	case utf8.RuneCountInString(reason) > 2000:
		return Document{}, apperr.Invalid("reason", "must be at most 2000 characters")
	case strings.ContainsFunc(reason, func(r rune) bool { return r == 0 }):
		return Document{}, apperr.Invalid("reason", "must be text")
	}
	var doc Document
	err := store.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if doc, err = getDocument(ctx, id, false); err != nil {
			return err
		}
		if err := canWithdraw(ctx, doc); err != nil {
			return err
		}
		if doc.Withdrawal != nil {
			return apperr.Coded(apperr.ErrConflict, "document.withdrawn", "The document is already withdrawn.")
		}
		if ifRevision != nil && *ifRevision != doc.Revision {
			return apperr.With(apperr.ErrPreconditionFailed, "The document changed since you read it (revision %d, now %d).", *ifRevision, doc.Revision)
		}
		res := store.DB(ctx).Exec(`UPDATE documents
			SET withdrawn_at = now(), withdrawn_by = cb_user_id(), withdrawn_reason = ?,
				revision = revision + 1, updated_at = now()
			WHERE id = ? AND revision = ? AND withdrawn_at IS NULL`, reason, id, doc.Revision)
		if res.Error != nil {
			return fmt.Errorf("update document: %w", mapWriteError(res.Error))
		}
		if res.RowsAffected == 0 {
			return apperr.With(apperr.ErrPreconditionFailed, "The document changed meanwhile; read it again.")
		}
		if doc, err = getDocument(ctx, id, false); err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "document.withdraw", ObjectType: "document",
			ObjectID: id.String(), CaseID: doc.caseID, Details: map[string]any{"reason": reason}})
	})
	if err != nil {
		s.recordRefusal(ctx, err, "document.withdraw", "document", id.String(), doc.caseID)
		return Document{}, fmt.Errorf("withdraw document %s: %w", id, err)
	}
	return doc, nil
}

// recordRefusal audits a 403, or a 404 on a document that exists, outside
// the failed transaction so the event survives its rollback.
func (s *Service) recordRefusal(ctx context.Context, err error, action, objType, objID string, caseID uuid.UUID) {
	var outcome audit.Outcome
	switch {
	case errors.Is(err, apperr.ErrForbidden):
		outcome = audit.Denied
	case errors.Is(err, apperr.ErrNotFound):
		if objType != "document" || !documentExists(ctx, objID) {
			return
		}
		outcome = audit.NotFound
	default:
		return
	}
	if store.InTx(ctx) {
		return // the caller's transaction decides; nothing survives a rollback
	}
	ev := audit.Event{Action: action, ObjectType: objType, ObjectID: objID, CaseID: caseID, Outcome: outcome}
	if rerr := audit.Record(ctx, ev); rerr != nil {
		s.log.ErrorContext(ctx, "audit refusal", "error", rerr.Error(), "action", action)
	}
}

// documentExists asks, past Row-Level Security, whether a document exists,
// so that a 404 on an existing document can be audited.
func documentExists(ctx context.Context, id string) bool {
	u, err := uuid.Parse(id)
	if err != nil {
		return false
	}
	var ok bool
	if err := store.DB(ctx).Raw(`SELECT cb_document_exists(?)`, u).Scan(&ok).Error; err != nil {
		return false
	}
	return ok
}

// ParseRevision reads an If-Match value: the quoted revision the document
// ETag carries ("3" or W/"3"). Empty or "*" (any current representation,
// RFC 9110 §13.1.1): nil, no condition.
func ParseRevision(ifMatch string) (*int, error) {
	v := strings.TrimSpace(ifMatch)
	if v == "" || v == "*" {
		return nil, nil
	}
	v = strings.TrimPrefix(v, "W/")
	n, err := strconv.Atoi(strings.Trim(v, `"`))
	if err != nil || n < 1 {
		return nil, apperr.With(apperr.ErrPreconditionFailed, "If-Match does not hold an ETag of this document.")
	}
	return &n, nil
}
