package bundles

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/blob"
	"github.com/casebridge/casebridge/internal/bundles/render"
	"github.com/casebridge/casebridge/internal/store"
)

// Principal is the snapshot of the principal who asked for a build, kept
// in the job's arguments: the job runs as that principal, so Row-Level
// Security applies inside it exactly as for the request.
type Principal struct {
	UserID     uuid.UUID `json:"user_id"`
	Issuer     string    `json:"issuer"`
	Subject    string    `json:"subject"`
	Name       string    `json:"name"`
	AgencyID   uuid.UUID `json:"agency_id"`
	AgencyCode string    `json:"agency_code"`
	AgencyName string    `json:"agency_name"`
	Kind       string    `json:"kind"`
	Country    string    `json:"country"`
	Roles      []string  `json:"roles"`
}

func snapshotOf(p access.Principal) Principal {
	roles := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		roles[i] = string(r)
	}
	return Principal{UserID: p.UserID, Issuer: p.Issuer, Subject: p.Subject, Name: p.Name, AgencyID: p.AgencyID,
		AgencyCode: p.AgencyCode, AgencyName: p.AgencyName, Kind: string(p.Kind), Country: p.Country, Roles: roles}
}

// Access returns the principal as a request would carry it; roles are
// filtered for the agency kind again.
func (p Principal) Access() access.Principal {
	kind := access.Kind(p.Kind)
	roles, _ := access.FilterRoles(kind, p.Roles)
	return access.Principal{UserID: p.UserID, Issuer: p.Issuer, Subject: p.Subject, Name: p.Name, AgencyID: p.AgencyID,
		AgencyCode: p.AgencyCode, AgencyName: p.AgencyName, Kind: kind, Country: p.Country, Roles: roles}
}

// BuildArgs is the bundles.build job: build generation Generation of
// bundle BundleID as Principal.
type BuildArgs struct {
	BundleID   uuid.UUID `json:"bundle_id"`
	Generation int       `json:"generation"`
	Principal  Principal `json:"principal"`
}

// Kind names the job in the queue.
func (BuildArgs) Kind() string { return "bundles.build" }

// Attempt says which attempt of the job this is: the last one records a
// failure instead of leaving the bundle building for ever.
type Attempt struct {
	N, Max int
}

// maxParties is the most parties a cover names.
const maxParties = 12

// progressStep is how often (in percent) a build writes its progress.
const progressStep = 5

// Build does the bundles.build job. ctx must carry the database
// (store.WithDB); the principal comes from args. It returns nil when the
// build is recorded (built or failed) or is no longer wanted (the bundle
// is not building that generation any more), and an error for River to
// retry otherwise. Retried or rescued, it records its result exactly once:
// the recording transaction locks the bundle and checks it is still
// building the same generation.
func (s *Service) Build(ctx context.Context, args BuildArgs, at Attempt) error {
	ctx = access.WithPrincipal(ctx, args.Principal.Access())
	in, live, err := s.loadBuild(ctx, args)
	if err != nil || !live {
		return err
	}
	if in.missing != nil {
		return s.finishFailed(ctx, args, in.missing)
	}
	info, res, err := s.render(ctx, args, in)
	var se *render.SourceError
	switch {
	case errors.As(err, &se):
		s.log.WarnContext(ctx, "bundle build failed", "bundle_id", args.BundleID.String(),
			"document_id", se.DocumentID, "reason", se.Reason, "error", err.Error())
		id, perr := uuid.Parse(se.DocumentID)
		be := &BuildError{Title: se.Title, Reason: se.Reason}
		if perr == nil {
			be.DocumentID = &id
		}
		return s.finishFailed(ctx, args, be)
	case err != nil && at.Max > 0 && at.N >= at.Max:
		s.log.ErrorContext(ctx, "bundle build failed on its last attempt", "bundle_id", args.BundleID.String(), "error", err.Error())
		return s.finishFailed(ctx, args, &BuildError{Reason: "the build failed repeatedly for a technical reason; try again later"})
	case err != nil:
		return fmt.Errorf("build bundle %s: %w", args.BundleID, err)
	}
	return s.finishBuilt(ctx, args, in, info, res)
}

// buildInput is what a build reads in its first transaction.
type buildInput struct {
	bundle            render.Bundle
	contentsChangedAt time.Time
	sha               map[string]string // "part/label/doc/version" -> source sha256
	missing           *BuildError       // a document the principal can no longer read
}

func (s *Service) loadBuild(ctx context.Context, args BuildArgs) (buildInput, bool, error) {
	var in buildInput
	live := false
	err := store.WithTx(ctx, func(ctx context.Context) error {
		var rows []row
		if err := store.DB(ctx).Raw(rowSelect+` WHERE b.id = ?`, args.BundleID).Scan(&rows).Error; err != nil {
			return fmt.Errorf("load bundle: %w", err)
		}
		if len(rows) == 0 || State(rows[0].State) != Building || rows[0].BuildGeneration != args.Generation {
			return nil // gone, or another generation: nothing to do
		}
		live = true
		r := rows[0]
		var c struct {
			CourtName *string
		}
		if err := store.DB(ctx).Raw(`SELECT a.name AS court_name FROM cases c LEFT JOIN agencies a ON a.id = c.court_agency_id
			WHERE c.id = ?`, r.CaseID).Scan(&c).Error; err != nil {
			return fmt.Errorf("load case: %w", err)
		}
		var parties []string
		if err := store.DB(ctx).Raw(`SELECT p.family_name || ', ' || p.given_names || ' (' || cp.role || ')'
			FROM case_persons cp JOIN persons p ON p.id = cp.person_id
			WHERE cp.case_id = ? AND cp.role IN ('detainee', 'suspect')
			ORDER BY p.family_name, p.given_names, p.id`, r.CaseID).Scan(&parties).Error; err != nil {
			return fmt.Errorf("load parties: %w", err)
		}
		// A cover lists a few parties; a case of a mass raid has hundreds.
		if len(parties) > maxParties {
			more := len(parties) - (maxParties - 1)
			parties = append(parties[:maxParties-1], fmt.Sprintf("and %d more (see the case file)", more))
		}
		in.contentsChangedAt = r.ContentsChangedAt
		in.bundle = render.Bundle{CaseReference: r.CaseReference, CourtName: deref(c.CourtName), Title: r.Title,
			Parties: parties, BuiltAt: r.ContentsChangedAt.UTC(), Numbering: render.Numbering(r.Numbering)}
		if r.HearingDate != nil {
			in.bundle.HearingDate = *r.HearingDate
		}
		items, err := loadItems(ctx, []uuid.UUID{r.ID})
		if err != nil {
			return err
		}
		in.sha = map[string]string{}
		for i := 0; i < len(items[r.ID]); {
			first := items[r.ID][i]
			sec := render.Section{Label: first.Label, Title: first.SectionTitle}
			for ; i < len(items[r.ID]) && items[r.ID][i].Part == first.Part && items[r.ID][i].SectionPosition == first.SectionPosition; i++ {
				x := items[r.ID][i]
				if x.DocumentID == nil {
					continue
				}
				if x.SHA256 == nil { // withdrawn or out of the principal's reach since it was added
					id := *x.DocumentID
					in.missing = &BuildError{DocumentID: &id, Title: "",
						Reason: "the document can no longer be read by the person who asked for the build (withdrawn, or access changed)"}
					return nil
				}
				sha, size := *x.SHA256, *x.Size
				in.sha[fmt.Sprintf("%s/%s/%s/%d", first.Part, first.Label, *x.DocumentID, *x.Version)] = sha
				src := render.Source{DocumentID: x.DocumentID.String(), Version: *x.Version, Title: deref(x.Title),
					MediaType: deref(x.MediaType), Size: size,
					Open: func(ctx context.Context) (io.ReadCloser, error) {
						rc, _, err := s.blobs.Open(ctx, sha)
						return rc, err
					}}
				if x.VersionAt != nil {
					src.Date = x.VersionAt.UTC()
				}
				sec.Sources = append(sec.Sources, src)
			}
			if first.Part == "late" {
				in.bundle.LateAdditions = append(in.bundle.LateAdditions, sec)
			} else {
				in.bundle.Sections = append(in.bundle.Sections, sec)
			}
		}
		return nil
	})
	if err != nil {
		return buildInput{}, false, fmt.Errorf("build bundle %s: %w", args.BundleID, err)
	}
	return in, live, nil
}

// render streams the PDF into the blob store while it is written,
// reporting progress into the bundle row.
func (s *Service) render(ctx context.Context, args BuildArgs, in buildInput) (blob.Info, render.Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	var res render.Result
	done := make(chan error, 1)
	lastPct := -progressStep
	go func() {
		var err error
		res, err = render.Build(ctx, in.bundle, s.limits, pw, func(d, total int) {
			pct := d * 100 / max(total, 1)
			if pct-lastPct < progressStep && d != total {
				return
			}
			lastPct = pct
			s.progress(ctx, args, d, total)
		})
		_ = pw.CloseWithError(err)
		done <- err
	}()
	info, perr := s.blobs.Put(ctx, pr, 1<<40)
	if perr != nil {
		_ = pr.CloseWithError(perr)
		cancel()
	}
	rerr := <-done
	if rerr != nil {
		return blob.Info{}, render.Result{}, rerr // a SourceError wins: it names the document
	}
	if perr != nil {
		return blob.Info{}, render.Result{}, fmt.Errorf("store bundle PDF: %w", perr)
	}
	return info, res, nil
}

// progress writes (done, total) into the bundle while it builds this
// generation. A failure to write progress does not stop the build.
func (s *Service) progress(ctx context.Context, args BuildArgs, done, total int) {
	err := store.WithTx(ctx, func(ctx context.Context) error {
		return store.DB(ctx).Exec(`UPDATE bundles SET progress_done = ?, progress_total = ?
			WHERE id = ? AND state = 'building' AND build_generation = ?`, done, total, args.BundleID, args.Generation).Error
	})
	if err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "bundle build progress", "bundle_id", args.BundleID.String(), "error", err.Error())
	}
}

// lockLive locks the bundle and reports whether it is still building
// generation gen.
func lockLive(ctx context.Context, args BuildArgs) (row, bool, error) {
	var rows []row
	if err := store.DB(ctx).Raw(rowSelect+` WHERE b.id = ? FOR UPDATE OF b`, args.BundleID).Scan(&rows).Error; err != nil {
		return row{}, false, fmt.Errorf("lock bundle: %w", err)
	}
	if len(rows) == 0 || State(rows[0].State) != Building || rows[0].BuildGeneration != args.Generation {
		return row{}, false, nil
	}
	return rows[0], true, nil
}

func (s *Service) finishFailed(ctx context.Context, args BuildArgs, be *BuildError) error {
	err := store.WithTx(ctx, func(ctx context.Context) error {
		r, live, err := lockLive(ctx, args)
		if err != nil || !live {
			return err
		}
		ej, err := json.Marshal(be)
		if err != nil {
			return fmt.Errorf("encode build error: %w", err)
		}
		if err := store.DB(ctx).Exec(`UPDATE bundles SET state = 'failed', error = ?::jsonb, version = version + 1,
				updated_at = now() WHERE id = ?`, string(ej), args.BundleID).Error; err != nil {
			return fmt.Errorf("record failed build: %w", err)
		}
		return audit.Record(ctx, audit.Event{Action: "bundle.build", ObjectType: "bundle", ObjectID: args.BundleID.String(),
			CaseID: r.CaseID, Outcome: audit.Error,
			Details: map[string]any{"generation": args.Generation, "document_id": be.DocumentID, "reason": be.Reason}})
	})
	if err != nil {
		return fmt.Errorf("build bundle %s: %w", args.BundleID, err)
	}
	return nil
}

func (s *Service) finishBuilt(ctx context.Context, args BuildArgs, in buildInput, info blob.Info, res render.Result) error {
	// Which part each entry came from: main sections first, then late.
	mainN := 0
	for _, sec := range in.bundle.Sections {
		mainN += len(sec.Sources)
	}
	es := make([]entry, len(res.Entries))
	for i, e := range res.Entries {
		part := "main"
		if i >= mainN {
			part = "late"
		}
		es[i] = entry{Part: part, ManifestSource: ManifestSource{Section: e.Section, Title: e.Title, Version: e.Version,
			FirstPage: e.FirstPage, LastPage: e.LastPage, FirstLabel: e.FirstLabel, LastLabel: e.LastLabel}}
		id, err := uuid.Parse(e.DocumentID)
		if err != nil {
			return fmt.Errorf("build bundle %s: entry %q: %w", args.BundleID, e.DocumentID, err)
		}
		es[i].DocumentID = id
		es[i].SHA256 = in.sha[fmt.Sprintf("%s/%s/%s/%d", part, e.Section, e.DocumentID, e.Version)]
	}
	ej, err := json.Marshal(es)
	if err != nil {
		return fmt.Errorf("build bundle %s: encode entries: %w", args.BundleID, err)
	}
	err = store.WithTx(ctx, func(ctx context.Context) error {
		r, live, err := lockLive(ctx, args)
		if err != nil || !live {
			return err
		}
		if !r.ContentsChangedAt.Equal(in.contentsChangedAt) {
			return fmt.Errorf("bundle contents changed while building") // edits are refused while building
		}
		// The PDF's bytes are safe from the sweeper once recorded in blobs,
		// in this transaction, under the blob's lock (as document bytes).
		if err := store.DB(ctx).Exec(`SELECT pg_advisory_xact_lock(cb_blob_lock_key(?))`, info.SHA256).Error; err != nil {
			return fmt.Errorf("lock blob: %w", err)
		}
		got, err := s.blobs.Stat(ctx, info.SHA256)
		if err != nil {
			return fmt.Errorf("claim bundle PDF: %w", err)
		}
		if got.Size != info.Size {
			return fmt.Errorf("claim bundle PDF %s: size %d, stored %d: %w", info.SHA256, info.Size, got.Size, blob.ErrCorrupt)
		}
		if err := store.DB(ctx).Exec(`SELECT cb_record_blob(?, ?)`, info.SHA256, info.Size).Error; err != nil {
			return fmt.Errorf("record blob: %w", err)
		}
		if err := store.DB(ctx).Exec(`UPDATE bundles SET state = 'built', pdf_sha256 = ?, pdf_size = ?, pages = ?,
				entries = ?::jsonb, built_contents_at = contents_changed_at, built_at = now(), error = NULL,
				progress_done = GREATEST(progress_total, 1), progress_total = GREATEST(progress_total, 1),
				version = version + 1, updated_at = now() WHERE id = ?`,
			info.SHA256, info.Size, res.Pages, string(ej), args.BundleID).Error; err != nil {
			return fmt.Errorf("record build: %w", err)
		}
		return audit.Record(ctx, audit.Event{Action: "bundle.build", ObjectType: "bundle", ObjectID: args.BundleID.String(),
			CaseID: r.CaseID, Details: map[string]any{"generation": args.Generation, "pdf_sha256": info.SHA256,
				"pages": res.Pages, "sources": len(es)}})
	})
	if err != nil {
		return fmt.Errorf("build bundle %s: %w", args.BundleID, err)
	}
	return nil
}

// Limits converts the settings into render limits.
func Limits(maxSourceBytes int64, maxSourcePages, maxTotalPages int, maxImagePixels int64) render.Limits {
	return render.Limits{MaxSourceBytes: maxSourceBytes, MaxSourcePages: maxSourcePages, MaxTotalPages: maxTotalPages,
		MaxImagePixels: maxImagePixels}
}
