package bundles

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/bundles/render"
	"github.com/casebridge/casebridge/internal/jobs"
	"github.com/casebridge/casebridge/internal/page"
	"github.com/casebridge/casebridge/internal/store"
)

// Service runs the bundle actions. Every method takes the principal from
// ctx; the database decides what it sees.
type Service struct {
	blobs  blob.Store
	limits render.Limits
	log    *slog.Logger
	// restartAfter: a build request on a bundle building for longer than
	// this starts a new build generation instead of waiting for the old
	// one (whose job may have ended without a result, e.g. because its
	// principal lost access to the case). 0: never.
	restartAfter time.Duration
}

// SetRestartAfter sets how long a build may run before a new request
// starts it again (the program uses twice jobs.rescue_after).
func (s *Service) SetRestartAfter(d time.Duration) { s.restartAfter = d }

// NewService returns a service reading document bytes from, and storing
// bundle PDFs in, blobs, building within limits.
func NewService(blobs blob.Store, limits render.Limits, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{blobs: blobs, limits: limits, log: log}
}

// Conflicts, with the stable codes of the HTTP contract.
func errSealed() error {
	return apperr.Coded(apperr.ErrConflict, "bundle-sealed", "The bundle is sealed: its contents and PDF are fixed. Create its next version for late additions.")
}

func errBuilding() error {
	return apperr.Coded(apperr.ErrConflict, "bundle-building", "The bundle is being built; wait until the build ends.")
}

func errNotBuilt() error {
	return apperr.Coded(apperr.ErrConflict, "bundle-not-built", "Only a bundle built from its current contents can be sealed; build it first.")
}

// row is a bundles row with its case reference and the caller's actions.
type row struct {
	ID                uuid.UUID
	CaseID            uuid.UUID
	CaseReference     string
	Title             string
	HearingDate       *time.Time
	Numbering         string
	State             string
	BasedOn           *uuid.UUID
	BundleVersion     int
	BuildGeneration   int
	ProgressDone      int
	ProgressTotal     int
	Error             *string
	PDFSHA256         *string `gorm:"column:pdf_sha256"`
	PDFSize           *int64  `gorm:"column:pdf_size"`
	Pages             *int
	Entries           *string
	BuiltContentsAt   *time.Time
	BuiltAt           *time.Time
	Manifest          *string
	SealedAt          *time.Time
	ContentsChangedAt time.Time
	Version           int
	CreatedAt         time.Time
	UpdatedAt         time.Time
	CanEdit           bool
	CanSeal           bool
	CanDownload       bool
}

const rowSelect = `SELECT b.id, b.case_id, c.reference AS case_reference, b.title, b.hearing_date, b.numbering,
		b.state, b.based_on, b.bundle_version, b.build_generation, b.progress_done, b.progress_total,
		b.error::text AS error, b.pdf_sha256, b.pdf_size, b.pages, b.entries::text AS entries,
		b.built_contents_at, b.built_at, b.manifest::text AS manifest, b.sealed_at, b.contents_changed_at,
		b.version, b.created_at, b.updated_at,
		cb_bundle_can('bundle.edit', b.id) AS can_edit, cb_bundle_can('bundle.seal', b.id) AS can_seal,
		cb_bundle_can('bundle.download', b.id) AS can_download
	FROM bundles b JOIN cases c ON c.id = b.case_id`

func (r row) stale() bool {
	return r.PDFSHA256 != nil && (r.BuiltContentsAt == nil || !r.BuiltContentsAt.Equal(r.ContentsChangedAt))
}

// entry is where one source landed in a build (bundles.entries).
type entry struct {
	Part string `json:"part"`
	ManifestSource
}

func (r row) entries() ([]entry, error) {
	if r.Entries == nil {
		return nil, nil
	}
	var es []entry
	if err := json.Unmarshal([]byte(*r.Entries), &es); err != nil {
		return nil, fmt.Errorf("bundle %s: decode entries: %w", r.ID, err)
	}
	return es, nil
}

func loadRow(ctx context.Context, id uuid.UUID, lock bool) (row, error) {
	q := rowSelect + ` WHERE b.id = ?`
	if lock {
		q += ` FOR UPDATE OF b`
	}
	var rows []row
	if err := store.DB(ctx).Raw(q, id).Scan(&rows).Error; err != nil {
		return row{}, fmt.Errorf("load bundle %s: %w", id, mapWriteError(err))
	}
	if len(rows) == 0 {
		return row{}, fmt.Errorf("load bundle %s: %w", id, apperr.ErrNotFound)
	}
	return rows[0], nil
}

// itemRow is one section, with one of its items (or none).
type itemRow struct {
	BundleID        uuid.UUID
	Part            string
	SectionPosition int
	Label           string
	SectionTitle    string
	ItemPosition    *int
	DocumentID      *uuid.UUID
	Version         *int
	Title           *string
	MediaType       *string
	Classification  *string
	SHA256          *string `gorm:"column:sha256"`
	Size            *int64
	VersionAt       *time.Time
}

// loadItems reads the sections and items of bundles ids. Document facts
// come through the documents policy: nil where the caller may not read.
func loadItems(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]itemRow, error) {
	var rows []itemRow
	err := store.DB(ctx).Raw(`SELECT s.bundle_id, s.part, s.position AS section_position, s.label,
			s.title AS section_title, i.position AS item_position, i.document_id, i.version,
			d.title, v.media_type, d.classification, v.sha256, v.size, v.created_at AS version_at
		FROM bundle_sections s
		LEFT JOIN bundle_items i ON i.bundle_id = s.bundle_id AND i.part = s.part AND i.section_position = s.position
		LEFT JOIN documents d ON d.id = i.document_id
		LEFT JOIN document_versions v ON v.document_id = d.id AND v.version = i.version
		WHERE s.bundle_id = ANY(?::uuid[])
		ORDER BY s.bundle_id, s.part = 'late', s.position, i.position`, uuidArray(ids)).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load bundle sections: %w", err)
	}
	out := map[uuid.UUID][]itemRow{}
	for _, r := range rows {
		out[r.BundleID] = append(out[r.BundleID], r)
	}
	return out, nil
}

func uuidArray(ids []uuid.UUID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return "{" + strings.Join(s, ",") + "}"
}

// bundle shapes a row and its items for the caller.
func (r row) bundle(items []itemRow) (Bundle, error) {
	b := Bundle{
		ID: r.ID, CaseID: r.CaseID, CaseReference: r.CaseReference, Title: r.Title, HearingDate: r.HearingDate,
		Numbering: Numbering(r.Numbering), State: State(r.State), Stale: r.stale(), BasedOn: r.BasedOn,
		BundleVersion: r.BundleVersion, Pages: r.Pages, PDFSHA256: r.PDFSHA256, BuiltAt: r.BuiltAt,
		SealedAt: r.SealedAt, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		Sections: []Section{}, LateAdditions: []Section{},
		Progress: Progress{Done: r.ProgressDone, Total: r.ProgressTotal},
	}
	if r.ProgressTotal > 0 {
		b.Progress.Percent = min(100, r.ProgressDone*100/r.ProgressTotal)
	}
	if b.State == Built || b.State == Sealed {
		b.Progress.Percent = 100
	}
	if r.Error != nil {
		b.Error = &BuildError{}
		if err := json.Unmarshal([]byte(*r.Error), b.Error); err != nil {
			return Bundle{}, fmt.Errorf("bundle %s: decode error: %w", r.ID, err)
		}
	}
	open := b.State != Sealed && b.State != Building
	b.Can = Can{
		Edit:     r.CanEdit && open,
		Build:    r.CanEdit && open,
		Seal:     r.CanSeal && b.State == Built && !b.Stale,
		Download: r.CanDownload && r.PDFSHA256 != nil,
	}
	// Page ranges of the last build, when it is of the current contents.
	landed := map[string]Pages{}
	if r.PDFSHA256 != nil && !b.Stale {
		es, err := r.entries()
		if err != nil {
			return Bundle{}, err
		}
		for _, e := range es {
			landed[fmt.Sprintf("%s/%s/%s/%d", e.Part, e.Section, e.DocumentID, e.Version)] = Pages{
				First: e.FirstPage, Last: e.LastPage, FirstLabel: e.FirstLabel, LastLabel: e.LastLabel}
		}
	}
	for i := 0; i < len(items); {
		it := items[i]
		sec := Section{Label: it.Label, Title: it.SectionTitle, Items: []Item{}}
		for ; i < len(items) && items[i].Part == it.Part && items[i].SectionPosition == it.SectionPosition; i++ {
			x := items[i]
			if x.DocumentID == nil {
				continue
			}
			item := Item{DocumentID: *x.DocumentID, Version: *x.Version, Title: x.Title,
				MediaType: x.MediaType, Classification: x.Classification}
			if p, ok := landed[fmt.Sprintf("%s/%s/%s/%d", x.Part, x.Label, *x.DocumentID, *x.Version)]; ok {
				item.Pages = &p
			}
			sec.Items = append(sec.Items, item)
		}
		if it.Part == "late" {
			b.LateAdditions = append(b.LateAdditions, sec)
		} else {
			b.Sections = append(b.Sections, sec)
		}
	}
	return b, nil
}

func getBundle(ctx context.Context, id uuid.UUID) (Bundle, error) {
	r, err := loadRow(ctx, id, false)
	if err != nil {
		return Bundle{}, err
	}
	items, err := loadItems(ctx, []uuid.UUID{id})
	if err != nil {
		return Bundle{}, err
	}
	return r.bundle(items[id])
}

// mapWriteError turns a refusal by a policy or guard into ErrForbidden
// (the predicates checked first should have said so).
func mapWriteError(err error) error {
	if store.PgCode(err) == "42501" {
		return fmt.Errorf("%w: %w", apperr.Forbidden(PermEdit, ""), err)
	}
	return err
}

// caseVisible: a case the caller cannot see is ErrNotFound.
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

func canOnCase(ctx context.Context, action string, caseID uuid.UUID) (bool, error) {
	var ok *bool
	if err := store.DB(ctx).Raw(`SELECT cb_can(?, ?)`, action, caseID).Scan(&ok).Error; err != nil {
		return false, fmt.Errorf("check %s on case %s: %w", action, caseID, err)
	}
	return ok != nil && *ok, nil
}

func forbidEdit() error {
	return apperr.Forbidden(PermEdit, "Only officers and supervisors of the agency that owns the case, and the clerk of the court it is before, may create, edit and build its bundles.")
}

// checkRefs makes sure every item names a version of a document of case
// caseID that the caller can read (the database checks it again on insert).
func checkRefs(ctx context.Context, caseID uuid.UUID, parts map[string][]SectionInput) error {
	var docs, vers []string
	for _, secs := range parts {
		for _, s := range secs {
			for _, it := range s.Items {
				docs = append(docs, it.DocumentID.String())
				vers = append(vers, fmt.Sprint(it.Version))
			}
		}
	}
	if len(docs) == 0 {
		return nil
	}
	var found []struct {
		DocumentID uuid.UUID
		Version    int
	}
	err := store.DB(ctx).Raw(`SELECT v.document_id, v.version
		FROM unnest(?::uuid[], ?::int[]) AS r(doc, ver)
		JOIN documents d ON d.id = r.doc AND d.case_id = ? AND d.withdrawn_at IS NULL
		JOIN document_versions v ON v.document_id = d.id AND v.version = r.ver`,
		"{"+strings.Join(docs, ",")+"}", "{"+strings.Join(vers, ",")+"}", caseID).Scan(&found).Error
	if err != nil {
		return fmt.Errorf("check bundle items: %w", err)
	}
	ok := map[ItemRef]bool{}
	for _, f := range found {
		ok[ItemRef(f)] = true
	}
	var fs apperr.Fields
	for _, part := range []string{"sections", "late_additions"} {
		for i, s := range parts[part] {
			for j, it := range s.Items {
				if !ok[it] {
					fs.Add(fmt.Sprintf("%s[%d].items[%d]", part, i, j),
						"names no version of a document of this case that you can read (unknown reference)")
				}
			}
		}
	}
	return fs.Err()
}

// writeSections replaces one part of a bundle's contents.
func writeSections(ctx context.Context, id uuid.UUID, part string, secs []SectionInput) error {
	db := store.DB(ctx)
	if err := db.Exec(`DELETE FROM bundle_sections WHERE bundle_id = ? AND part = ?`, id, part).Error; err != nil {
		return fmt.Errorf("replace sections of bundle %s: %w", id, mapWriteError(err))
	}
	for i, s := range secs {
		if err := db.Exec(`INSERT INTO bundle_sections (bundle_id, part, position, label, title) VALUES (?, ?, ?, ?, ?)`,
			id, part, i, s.Label, strings.TrimSpace(s.Title)).Error; err != nil {
			return fmt.Errorf("insert section %s of bundle %s: %w", s.Label, id, mapWriteError(err))
		}
		for j, it := range s.Items {
			if err := db.Exec(`INSERT INTO bundle_items (bundle_id, part, section_position, position, document_id, version)
				VALUES (?, ?, ?, ?, ?, ?)`, id, part, i, j, it.DocumentID, it.Version).Error; err != nil {
				return fmt.Errorf("insert item of bundle %s: %w", id, mapWriteError(err))
			}
		}
	}
	return nil
}

// sectionsOf turns loaded sections back into input (to copy a sealed
// bundle's contents into its next version).
func sectionsOf(secs []Section) []SectionInput {
	out := make([]SectionInput, len(secs))
	for i, s := range secs {
		out[i] = SectionInput{Label: s.Label, Title: s.Title}
		for _, it := range s.Items {
			out[i].Items = append(out[i].Items, ItemRef{DocumentID: it.DocumentID, Version: it.Version})
		}
	}
	return out
}

// Create makes a new draft bundle of case caseID.
func (s *Service) Create(ctx context.Context, caseID uuid.UUID, n NewBundle) (Bundle, error) {
	n.Title = strings.TrimSpace(n.Title)
	if err := n.Validate(); err != nil {
		return Bundle{}, fmt.Errorf("create bundle: %w", err)
	}
	var b Bundle
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if err := caseVisible(ctx, caseID); err != nil {
			return err
		}
		ok, err := canOnCase(ctx, PermEdit, caseID)
		if err != nil {
			return err
		}
		if !ok {
			return forbidEdit()
		}
		mainPart, latePart := n.Sections, []SectionInput(nil)
		version := 1
		if n.BasedOn != nil {
			base, err := getBundle(ctx, *n.BasedOn)
			if errors.Is(err, apperr.ErrNotFound) || (err == nil && (base.CaseID != caseID || base.State != Sealed)) {
				return apperr.Invalid("based_on", "must name a sealed bundle of this case")
			}
			if err != nil {
				return err
			}
			if n.Numbering != base.Numbering {
				return apperr.Invalid("numbering", "must be the sealed bundle's numbering (%s), so its page numbers stay", base.Numbering)
			}
			mainPart, latePart = sectionsOf(base.Sections), sectionsOf(base.LateAdditions)
			if n.HearingDate == nil {
				n.HearingDate = base.HearingDate
			}
			version = base.BundleVersion + 1
		} else if err := checkRefs(ctx, caseID, map[string][]SectionInput{"sections": mainPart}); err != nil {
			return err
		}
		var ins struct{ ID uuid.UUID }
		res := store.DB(ctx).Raw(`INSERT INTO bundles (case_id, title, hearing_date, numbering, based_on, bundle_version, created_by)
			VALUES (?, ?, ?, ?, ?, ?, cb_user_id()) RETURNING id`,
			caseID, n.Title, n.HearingDate, string(n.Numbering), n.BasedOn, version).Scan(&ins)
		id := ins.ID
		if res.Error != nil {
			if store.IsUniqueViolation(res.Error, "") {
				return apperr.Coded(apperr.ErrConflict, "bundle-has-next-version", "The sealed bundle already has a next version; add to that one.")
			}
			return fmt.Errorf("insert bundle: %w", mapWriteError(res.Error))
		}
		if err := writeSections(ctx, id, "main", mainPart); err != nil {
			return err
		}
		if err := writeSections(ctx, id, "late", latePart); err != nil {
			return err
		}
		if b, err = getBundle(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "bundle.create", ObjectType: "bundle", ObjectID: id.String(),
			CaseID: caseID, Details: map[string]any{"based_on": n.BasedOn, "bundle_version": version}})
	})
	if err != nil {
		s.recordRefusal(ctx, err, "bundle.create", "case", caseID.String(), caseID)
		return Bundle{}, fmt.Errorf("create bundle in case %s: %w", caseID, err)
	}
	return b, nil
}

// Page is one page of a bundle list.
type Page struct {
	Items      []Bundle
	NextCursor string
}

// List returns a page of the bundles of case caseID, newest first.
func (s *Service) List(ctx context.Context, caseID uuid.UUID, limit int, cur string) (Page, error) {
	limit, err := page.Limit(limit)
	if err != nil {
		return Page{}, err
	}
	var after *cursor
	if cur != "" {
		var c cursor
		if err := page.Decode(cur, &c); err != nil || c.ID == uuid.Nil {
			return Page{}, apperr.Invalid("cursor", "is not a cursor this list returned")
		}
		after = &c
	}
	var pg Page
	err = store.WithTx(ctx, func(ctx context.Context) error {
		if err := caseVisible(ctx, caseID); err != nil {
			return err
		}
		q, args := rowSelect+` WHERE b.case_id = ?`, []any{caseID}
		if after != nil {
			q += ` AND (b.created_at, b.id) < (?, ?)`
			args = append(args, after.CreatedAt, after.ID)
		}
		q += ` ORDER BY b.created_at DESC, b.id DESC LIMIT ?`
		args = append(args, limit+1)
		var rows []row
		if err := store.DB(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
			return fmt.Errorf("list bundles: %w", err)
		}
		if len(rows) > limit {
			last := rows[limit-1]
			pg.NextCursor = page.Encode(cursor{CreatedAt: last.CreatedAt, ID: last.ID})
			rows = rows[:limit]
		}
		ids := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		items, err := loadItems(ctx, ids)
		if err != nil {
			return err
		}
		for _, r := range rows {
			b, err := r.bundle(items[r.ID])
			if err != nil {
				return err
			}
			pg.Items = append(pg.Items, b)
		}
		return audit.Record(ctx, audit.Event{Action: "bundle.list", ObjectType: "case", ObjectID: caseID.String(),
			CaseID: caseID, Details: map[string]any{"count": len(pg.Items)}})
	})
	if err != nil {
		return Page{}, fmt.Errorf("list bundles of case %s: %w", caseID, err)
	}
	return pg, nil
}

// Get returns one bundle (also the build's progress).
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Bundle, error) {
	var b Bundle
	err := store.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if b, err = getBundle(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "bundle.read", ObjectType: "bundle", ObjectID: id.String(),
			CaseID: b.CaseID})
	})
	if err != nil {
		s.recordRefusal(ctx, err, "bundle.read", "bundle", id.String(), uuid.Nil)
		return Bundle{}, fmt.Errorf("get bundle %s: %w", id, err)
	}
	return b, nil
}

// editable loads bundle id under lock for a change by the caller: 403
// without bundle.edit, 409 when sealed or building, 412 when version (if
// not 0) is not the bundle's.
func editable(ctx context.Context, id uuid.UUID, version int) (row, error) {
	r, err := loadRow(ctx, id, true)
	if err != nil {
		return row{}, err
	}
	if !r.CanEdit {
		return r, forbidEdit()
	}
	switch State(r.State) {
	case Sealed:
		return r, errSealed()
	case Building:
		return r, errBuilding()
	}
	if version != 0 && version != r.Version {
		return r, apperr.With(apperr.ErrPreconditionFailed, "The bundle changed since you read it (version %d, now %d).", version, r.Version)
	}
	return r, nil
}

// Update applies a merge-patch to bundle id at version.
func (s *Service) Update(ctx context.Context, id uuid.UUID, version int, p Patch) (Bundle, error) {
	if p.Title != nil {
		t := strings.TrimSpace(*p.Title)
		p.Title = &t
	}
	if err := p.Validate(); err != nil {
		return Bundle{}, fmt.Errorf("update bundle %s: %w", id, err)
	}
	var b Bundle
	var caseID uuid.UUID
	err := store.WithTx(ctx, func(ctx context.Context) error {
		r, err := editable(ctx, id, version)
		caseID = r.CaseID
		if err != nil {
			return err
		}
		if r.BasedOn != nil {
			var fs apperr.Fields
			if p.Sections != nil {
				fs.Add("sections", "cannot change: the main part of a late-additions version is the sealed bundle's contents")
			}
			if p.Numbering != nil && string(*p.Numbering) != r.Numbering {
				fs.Add("numbering", "cannot change: it is the sealed bundle's numbering")
			}
			if err := fs.Err(); err != nil {
				return err
			}
		}
		parts := map[string][]SectionInput{}
		if p.Sections != nil {
			parts["sections"] = *p.Sections
		}
		if p.LateAdditions != nil {
			parts["late_additions"] = *p.LateAdditions
		}
		if err := checkRefs(ctx, r.CaseID, parts); err != nil {
			return err
		}
		if !p.Empty() {
			title, hearing, numbering := r.Title, r.HearingDate, r.Numbering
			if p.Title != nil {
				title = *p.Title
			}
			if p.HearingDate != nil {
				hearing = *p.HearingDate
			}
			if p.Numbering != nil {
				numbering = string(*p.Numbering)
			}
			// A failed build is forgotten once the contents change.
			state := r.State
			if State(state) == Failed {
				state = string(Draft)
			}
			res := store.DB(ctx).Exec(`UPDATE bundles SET title = ?, hearing_date = ?, numbering = ?, state = ?,
					error = CASE WHEN ? = 'draft' THEN NULL ELSE error END,
					contents_changed_at = clock_timestamp(), version = version + 1, updated_at = now()
				WHERE id = ?`, title, hearing, numbering, state, state, id)
			if res.Error != nil {
				return fmt.Errorf("update bundle: %w", mapWriteError(res.Error))
			}
			if p.Sections != nil {
				if err := writeSections(ctx, id, "main", *p.Sections); err != nil {
					return err
				}
			}
			if p.LateAdditions != nil {
				if err := writeSections(ctx, id, "late", *p.LateAdditions); err != nil {
					return err
				}
			}
		}
		if b, err = getBundle(ctx, id); err != nil {
			return err
		}
		changed := []string{}
		for name, set := range map[string]bool{"title": p.Title != nil, "hearing_date": p.HearingDate != nil,
			"numbering": p.Numbering != nil, "sections": p.Sections != nil, "late_additions": p.LateAdditions != nil} {
			if set {
				changed = append(changed, name)
			}
		}
		slices.Sort(changed)
		return audit.Record(ctx, audit.Event{Action: "bundle.update", ObjectType: "bundle", ObjectID: id.String(),
			CaseID: r.CaseID, Details: map[string]any{"changed": changed, "version": b.Version}})
	})
	if err != nil {
		s.recordRefusal(ctx, err, "bundle.update", "bundle", id.String(), caseID)
		return Bundle{}, fmt.Errorf("update bundle %s: %w", id, err)
	}
	return b, nil
}

// RequestBuild starts a build of bundle id: it becomes building and a
// bundles.build job, running as the caller, is enqueued in the same
// transaction. A bundle already building is returned as it is.
func (s *Service) RequestBuild(ctx context.Context, id uuid.UUID) (Bundle, error) {
	b, _, err := s.requestBuild(ctx, id)
	return b, err
}

// BuildNow requests a build of bundle id and does it at once, in the
// caller's goroutine, as the caller (the demo data: a bundle built before
// the server serves). The queued job then finds the build recorded and
// does nothing.
func (s *Service) BuildNow(ctx context.Context, id uuid.UUID) (Bundle, error) {
	_, args, err := s.requestBuild(ctx, id)
	if err != nil {
		return Bundle{}, err
	}
	if args.Generation > 0 {
		if err := s.Build(ctx, args, Attempt{}); err != nil {
			return Bundle{}, err
		}
	}
	return s.Get(ctx, id)
}

func (s *Service) requestBuild(ctx context.Context, id uuid.UUID) (Bundle, BuildArgs, error) {
	p, _ := access.FromContext(ctx)
	var b Bundle
	var args BuildArgs
	var caseID uuid.UUID
	err := store.WithTx(ctx, func(ctx context.Context) error {
		r, err := editable(ctx, id, 0)
		caseID = r.CaseID
		if errors.Is(err, apperr.ErrConflict) && State(r.State) == Building &&
			(s.restartAfter <= 0 || time.Since(r.UpdatedAt) < s.restartAfter) {
			b, err = getBundle(ctx, id)
			return err
		}
		if errors.Is(err, apperr.ErrConflict) && State(r.State) == Building {
			err = nil // building for too long: start again
		}
		if err != nil {
			return err
		}
		gen := r.BuildGeneration + 1
		res := store.DB(ctx).Exec(`UPDATE bundles SET state = 'building', build_generation = ?, progress_done = 0,
				progress_total = 0, error = NULL, version = version + 1, updated_at = now()
			WHERE id = ?`, gen, id)
		if res.Error != nil {
			return fmt.Errorf("update bundle: %w", mapWriteError(res.Error))
		}
		args = BuildArgs{BundleID: id, Generation: gen, Principal: snapshotOf(p)}
		if _, err := jobs.Insert(ctx, args, nil); err != nil {
			return err
		}
		if b, err = getBundle(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "bundle.build.request", ObjectType: "bundle", ObjectID: id.String(),
			CaseID: r.CaseID, Details: map[string]any{"generation": gen}})
	})
	if err != nil {
		s.recordRefusal(ctx, err, "bundle.build.request", "bundle", id.String(), caseID)
		return Bundle{}, BuildArgs{}, fmt.Errorf("build bundle %s: %w", id, err)
	}
	return b, args, nil
}

// Seal fixes bundle id at version: only a bundle built from its current
// contents, by a principal with bundle.seal. It records the manifest.
func (s *Service) Seal(ctx context.Context, id uuid.UUID, version int) (Bundle, error) {
	var b Bundle
	var caseID uuid.UUID
	err := store.WithTx(ctx, func(ctx context.Context) error {
		r, err := loadRow(ctx, id, true)
		if err != nil {
			return err
		}
		caseID = r.CaseID
		if !r.CanSeal {
			return apperr.Forbidden(PermSeal, "Only a supervisor of the agency that owns the case, or the clerk of the court it is before, may seal its bundles.")
		}
		switch {
		case State(r.State) == Sealed:
			return errSealed()
		case State(r.State) != Built || r.stale():
			return errNotBuilt()
		case version != r.Version:
			return apperr.With(apperr.ErrPreconditionFailed, "The bundle changed since you read it (version %d, now %d).", version, r.Version)
		}
		m, err := manifestOf(r, nil)
		if err != nil {
			return err
		}
		var sealedAt time.Time
		if err := store.DB(ctx).Raw(`SELECT date_trunc('milliseconds', now())`).Scan(&sealedAt).Error; err != nil {
			return fmt.Errorf("seal bundle: %w", err)
		}
		m.SealedAt = &sealedAt
		mj, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("seal bundle: encode manifest: %w", err)
		}
		res := store.DB(ctx).Exec(`UPDATE bundles SET state = 'sealed', sealed_at = ?, sealed_by = cb_user_id(),
				manifest = ?::jsonb, version = version + 1, updated_at = now() WHERE id = ?`, sealedAt, string(mj), id)
		if res.Error != nil {
			return fmt.Errorf("seal bundle: %w", mapWriteError(res.Error))
		}
		if b, err = getBundle(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "bundle.seal", ObjectType: "bundle", ObjectID: id.String(),
			CaseID: r.CaseID, Details: map[string]any{"pdf_sha256": deref(r.PDFSHA256), "pages": derefInt(r.Pages),
				"bundle_version": r.BundleVersion, "sources": len(m.Sources)}})
	})
	if err != nil {
		s.recordRefusal(ctx, err, "bundle.seal", "bundle", id.String(), caseID)
		return Bundle{}, fmt.Errorf("seal bundle %s: %w", id, err)
	}
	return b, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefInt(n *int) int {
	if n == nil {
		return 0
	}
	return *n
}

// manifestOf is the manifest of the row's last build (sealedAt nil: not
// sealed).
func manifestOf(r row, sealedAt *time.Time) (Manifest, error) {
	es, err := r.entries()
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{BundleID: r.ID, CaseID: r.CaseID, CaseReference: r.CaseReference, BundleVersion: r.BundleVersion,
		PDFSHA256: deref(r.PDFSHA256), Pages: derefInt(r.Pages), Numbering: Numbering(r.Numbering), SealedAt: sealedAt,
		Sources: make([]ManifestSource, len(es))}
	for i, e := range es {
		m.Sources[i] = e.ManifestSource
	}
	return m, nil
}

// downloadable loads bundle id for a download by the caller: 403 without
// bundle.download (a document in it the caller may not read), 404 when it
// was never built.
func downloadable(ctx context.Context, id uuid.UUID) (row, error) {
	r, err := loadRow(ctx, id, false)
	if err != nil {
		return row{}, err
	}
	if !r.CanDownload {
		return r, apperr.Forbidden(PermDownload, "Only someone who may read every document in the bundle may download it.")
	}
	if r.PDFSHA256 == nil {
		return r, apperr.With(apperr.ErrNotFound, "The bundle has not been built yet.")
	}
	return r, nil
}

// PDF is a bundle's PDF to send; the caller closes Body.
type PDF struct {
	Body     io.ReadSeekCloser
	Size     int64
	SHA256   string
	Filename string
}

// OpenPDF returns the PDF of the last build of bundle id (the sealed one
// once sealed). The download is audited before the bytes are handed out.
func (s *Service) OpenPDF(ctx context.Context, id uuid.UUID) (PDF, error) {
	var r row
	err := store.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if r, err = downloadable(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "bundle.pdf.read", ObjectType: "bundle", ObjectID: id.String(),
			CaseID: r.CaseID, Details: map[string]any{"pdf_sha256": *r.PDFSHA256, "state": r.State}})
	})
	if err != nil {
		s.recordRefusal(ctx, err, "bundle.pdf.read", "bundle", id.String(), r.CaseID)
		return PDF{}, fmt.Errorf("open bundle %s: %w", id, err)
	}
	body, size, err := s.blobs.Open(ctx, *r.PDFSHA256)
	if err != nil {
		return PDF{}, fmt.Errorf("open bundle %s PDF: %w", id, err)
	}
	if r.PDFSize != nil && size != *r.PDFSize {
		_ = body.Close()
		return PDF{}, fmt.Errorf("open bundle %s PDF: stored size %d, recorded %d: %w", id, size, *r.PDFSize, blob.ErrCorrupt)
	}
	return PDF{Body: body, Size: size, SHA256: *r.PDFSHA256,
		Filename: fmt.Sprintf("%s-bundle-v%d.pdf", safeName(r.CaseReference), r.BundleVersion)}, nil
}

// safeName keeps a case reference to the characters a file name may hold
// anywhere.
func safeName(s string) string {
	out := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
	if out == "" {
		return "case"
	}
	return out
}

// Manifest returns bundle id's manifest: the sealed one, or for a built
// bundle not sealed yet the same shape with SealedAt nil.
func (s *Service) Manifest(ctx context.Context, id uuid.UUID) (Manifest, error) {
	var m Manifest
	err := store.WithTx(ctx, func(ctx context.Context) error {
		r, err := downloadable(ctx, id)
		if err != nil {
			return err
		}
		if r.Manifest != nil {
			if err := json.Unmarshal([]byte(*r.Manifest), &m); err != nil {
				return fmt.Errorf("decode manifest: %w", err)
			}
		} else if m, err = manifestOf(r, nil); err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "bundle.manifest.read", ObjectType: "bundle", ObjectID: id.String(),
			CaseID: r.CaseID, Details: map[string]any{"pdf_sha256": m.PDFSHA256}})
	})
	if err != nil {
		s.recordRefusal(ctx, err, "bundle.manifest.read", "bundle", id.String(), uuid.Nil)
		return Manifest{}, fmt.Errorf("manifest of bundle %s: %w", id, err)
	}
	return m, nil
}

// recordRefusal audits a 403, or a 404 on a bundle or case that exists,
// outside the failed transaction so the event survives its rollback.
func (s *Service) recordRefusal(ctx context.Context, err error, action, objType, objID string, caseID uuid.UUID) {
	var outcome audit.Outcome
	switch {
	case errors.Is(err, apperr.ErrForbidden):
		outcome = audit.Denied
	case errors.Is(err, apperr.ErrNotFound):
		if !exists(ctx, objType, objID) {
			return
		}
		outcome = audit.NotFound
	default:
		return
	}
	if store.InTx(ctx) {
		return
	}
	ev := audit.Event{Action: action, ObjectType: objType, ObjectID: objID, CaseID: caseID, Outcome: outcome}
	if rerr := audit.Record(ctx, ev); rerr != nil {
		s.log.ErrorContext(ctx, "audit refusal", "error", rerr.Error(), "action", action)
	}
}

func exists(ctx context.Context, objType, id string) bool {
	u, err := uuid.Parse(id)
	if err != nil {
		return false
	}
	fn := map[string]string{"bundle": "cb_bundle_exists", "case": "cb_case_exists"}[objType]
	if fn == "" {
		return false
	}
	var ok bool
	if err := store.DB(ctx).Raw(`SELECT `+fn+`(?)`, u).Scan(&ok).Error; err != nil {
		return false
	}
	return ok
}

// cursor is the sort key of a bundle list's last item (page.Encode).
type cursor struct {
	CreatedAt time.Time `json:"c"`
	ID        uuid.UUID `json:"i"`
}
