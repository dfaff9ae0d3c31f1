package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/bundles"
)

// Bundle routes (api/openapi.yaml, tag bundles): court bundles of a case,
// their build (a background job; GET polls its progress), seal and
// downloads. Who sees and may do what is the database's answer.
func (s *Server) bundleRoutes(api *gin.RouterGroup) {
	if s.deps.Bundles == nil {
		return
	}
	h := bundleHandlers{svc: s.deps.Bundles}
	api.POST("/cases/:id/bundles", h.create)
	api.GET("/cases/:id/bundles", h.list)
	api.GET("/bundles/:id", h.get)
	api.PATCH("/bundles/:id", h.update)
	api.POST("/bundles/:id/build", h.build)
	api.POST("/bundles/:id/seal", h.seal)
	api.GET("/bundles/:id/pdf", h.pdf)
	api.GET("/bundles/:id/manifest", h.manifest)
}

type bundleHandlers struct {
	svc *bundles.Service
}

// Requests.

type bundleItemRequest struct {
	DocumentID string `json:"document_id"`
	Version    int    `json:"version"`
}

type bundleSectionRequest struct {
	Label string              `json:"label"`
	Title string              `json:"title"`
	Items []bundleItemRequest `json:"items"`
}

func toSectionInputs(field string, secs []bundleSectionRequest, fs *apperr.Fields) []bundles.SectionInput {
	out := make([]bundles.SectionInput, len(secs))
	for i, s := range secs {
		out[i] = bundles.SectionInput{Label: s.Label, Title: s.Title, Items: []bundles.ItemRef{}}
		for j, it := range s.Items {
			id, err := uuid.Parse(it.DocumentID)
			if err != nil {
				fs.Add(field+"["+strconv.Itoa(i)+"].items["+strconv.Itoa(j)+"].document_id", "must be a document id (UUID)")
				continue
			}
			out[i].Items = append(out[i].Items, bundles.ItemRef{DocumentID: id, Version: it.Version})
		}
	}
	return out
}

type bundleCreateRequest struct {
	Title       string                 `json:"title"`
	HearingDate *civilDate             `json:"hearing_date"`
	Numbering   string                 `json:"numbering"`
	Sections    []bundleSectionRequest `json:"sections"`
	BasedOn     *string                `json:"based_on"`
}

func (r bundleCreateRequest) toNew() (bundles.NewBundle, error) {
	var fs apperr.Fields
	n := bundles.NewBundle{Title: r.Title, HearingDate: r.HearingDate.timeOf(), Numbering: bundles.Numbering(r.Numbering),
		Sections: toSectionInputs("sections", r.Sections, &fs)}
	if r.BasedOn != nil {
		id, err := uuid.Parse(*r.BasedOn)
		if err != nil {
			fs.Add("based_on", "must be a bundle id (UUID)")
		} else {
			n.BasedOn = &id
		}
	}
	return n, fs.Err()
}

type bundlePatchRequest struct {
	Title         optional[string]                 `json:"title"`
	HearingDate   optional[civilDate]              `json:"hearing_date"`
	Numbering     optional[string]                 `json:"numbering"`
	Sections      optional[[]bundleSectionRequest] `json:"sections"`
	LateAdditions optional[[]bundleSectionRequest] `json:"late_additions"`
}

func (r bundlePatchRequest) toPatch() (bundles.Patch, error) {
	var fs apperr.Fields
	r.Title.notNull(&fs, "title")
	r.Numbering.notNull(&fs, "numbering")
	r.Sections.notNull(&fs, "sections")
	r.LateAdditions.notNull(&fs, "late_additions")
	p := bundles.Patch{Title: r.Title.ptr()}
	if d := r.HearingDate.nullable(); d != nil {
		var t *time.Time
		if *d != nil {
			t = (*d).timeOf()
		}
		p.HearingDate = &t
	}
	if r.Numbering.Set && !r.Numbering.Null {
		n := bundles.Numbering(r.Numbering.V)
		p.Numbering = &n
	}
	if r.Sections.Set && !r.Sections.Null {
		s := toSectionInputs("sections", r.Sections.V, &fs)
		p.Sections = &s
	}
	if r.LateAdditions.Set && !r.LateAdditions.Null {
		s := toSectionInputs("late_additions", r.LateAdditions.V, &fs)
		p.LateAdditions = &s
	}
	return p, fs.Err()
}

// Responses (api/openapi.yaml: Bundle, BundleList, BundleManifest).

type bundlePagesResponse struct {
	First      int    `json:"first"`
	Last       int    `json:"last"`
	FirstLabel string `json:"first_label"`
	LastLabel  string `json:"last_label"`
}

type bundleItemResponse struct {
	DocumentID     string               `json:"document_id"`
	Version        int                  `json:"version"`
	Title          *string              `json:"title"`
	MediaType      *string              `json:"media_type"`
	Classification *string              `json:"classification"`
	Pages          *bundlePagesResponse `json:"pages"`
}

type bundleSectionResponse struct {
	Label string               `json:"label"`
	Title string               `json:"title"`
	Items []bundleItemResponse `json:"items"`
}

type bundleProgressResponse struct {
	Percent int `json:"percent"`
	Done    int `json:"done"`
	Total   int `json:"total"`
}

type bundleErrorResponse struct {
	DocumentID *string `json:"document_id"`
	Title      string  `json:"title"`
	Reason     string  `json:"reason"`
}

type bundleCanResponse struct {
	Edit     bool `json:"edit"`
	Build    bool `json:"build"`
	Seal     bool `json:"seal"`
	Download bool `json:"download"`
}

type bundleResponse struct {
	ID            string                  `json:"id"`
	CaseID        string                  `json:"case_id"`
	CaseReference string                  `json:"case_reference"`
	Title         string                  `json:"title"`
	HearingDate   *string                 `json:"hearing_date"`
	Numbering     string                  `json:"numbering"`
	State         string                  `json:"state"`
	Stale         bool                    `json:"stale"`
	Progress      bundleProgressResponse  `json:"progress"`
	Error         *bundleErrorResponse    `json:"error"`
	Sections      []bundleSectionResponse `json:"sections"`
	LateAdditions []bundleSectionResponse `json:"late_additions"`
	BasedOn       *string                 `json:"based_on"`
	BundleVersion int                     `json:"bundle_version"`
	Pages         *int                    `json:"pages"`
	PDFSHA256     *string                 `json:"pdf_sha256"`
	BuiltAt       *time.Time              `json:"built_at"`
	SealedAt      *time.Time              `json:"sealed_at"`
	Version       int                     `json:"version"`
	Can           bundleCanResponse       `json:"can"`
	CreatedAt     time.Time               `json:"created_at"`
	UpdatedAt     time.Time               `json:"updated_at"`
}

func toSectionResponses(secs []bundles.Section) []bundleSectionResponse {
	out := make([]bundleSectionResponse, len(secs))
	for i, s := range secs {
		out[i] = bundleSectionResponse{Label: s.Label, Title: s.Title, Items: make([]bundleItemResponse, len(s.Items))}
		for j, it := range s.Items {
			r := bundleItemResponse{DocumentID: it.DocumentID.String(), Version: it.Version, Title: it.Title,
				MediaType: it.MediaType, Classification: it.Classification}
			if p := it.Pages; p != nil {
				r.Pages = &bundlePagesResponse{First: p.First, Last: p.Last, FirstLabel: p.FirstLabel, LastLabel: p.LastLabel}
			}
			out[i].Items[j] = r
		}
	}
	return out
}

func toBundleResponse(b bundles.Bundle) bundleResponse {
	r := bundleResponse{ID: b.ID.String(), CaseID: b.CaseID.String(), CaseReference: b.CaseReference, Title: b.Title,
		HearingDate: dateString(b.HearingDate), Numbering: string(b.Numbering), State: string(b.State), Stale: b.Stale,
		Progress: bundleProgressResponse(b.Progress), Sections: toSectionResponses(b.Sections),
		LateAdditions: toSectionResponses(b.LateAdditions), BundleVersion: b.BundleVersion, Pages: b.Pages,
		PDFSHA256: b.PDFSHA256, BuiltAt: utc(b.BuiltAt), SealedAt: utc(b.SealedAt), Version: b.Version,
		Can: bundleCanResponse(b.Can), CreatedAt: b.CreatedAt.UTC(), UpdatedAt: b.UpdatedAt.UTC()}
	if b.BasedOn != nil {
		s := b.BasedOn.String()
		r.BasedOn = &s
	}
	if e := b.Error; e != nil {
		r.Error = &bundleErrorResponse{Title: e.Title, Reason: e.Reason}
		if e.DocumentID != nil {
			s := e.DocumentID.String()
			r.Error.DocumentID = &s
		}
	}
	return r
}

// bundleETag is the ETag of a bundle: its version, quoted.
func bundleETag(v int) string { return `"` + strconv.Itoa(v) + `"` }

// bundleIfMatch reads If-Match for a bundle: missing is 428; anything but
// a bundle ETag ("<version>", or several) is 412.
func bundleIfMatch(c *gin.Context) (int, error) {
	h := strings.TrimSpace(c.GetHeader("If-Match"))
	if h == "" {
		return 0, apperr.With(apperr.ErrPreconditionRequired, "Send If-Match with the ETag of your last read of this bundle.")
	}
	best := 0
	for tag := range strings.SplitSeq(h, ",") {
		tag = strings.TrimSpace(tag)
		if len(tag) < 2 || tag[0] != '"' || tag[len(tag)-1] != '"' {
			continue
		}
		if n, err := strconv.Atoi(tag[1 : len(tag)-1]); err == nil && n > best {
			best = n
		}
	}
	if best > 0 {
		return best, nil
	}
	if h == "*" {
		return 0, apperr.With(apperr.ErrPreconditionRequired, "If-Match: * is not enough; send the ETag of your last read of this bundle.")
	}
	return 0, apperr.With(apperr.ErrPreconditionFailed, "If-Match does not name a version of this bundle; read it again and send its ETag.")
}

func bundleLocation(id uuid.UUID) string { return "/api/v1/bundles/" + id.String() }

// Handlers.

func (h bundleHandlers) create(c *gin.Context) {
	caseID, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	body, err := readJSONBody(c)
	if err != nil {
		Fail(c, err)
		return
	}
	var req bundleCreateRequest
	derr := decodeStrict(body, &req)
	n, nerr := req.toNew()
	if err := mergeInvalid(mergeInvalid(derr, nerr), n.Validate()); err != nil {
		Fail(c, err)
		return
	}
	b, err := h.svc.Create(c.Request.Context(), caseID, n)
	if err != nil {
		Fail(c, err)
		return
	}
	result{status: http.StatusCreated, location: bundleLocation(b.ID), etag: bundleETag(b.Version),
		body: toBundleResponse(b)}.write(c)
}

func (h bundleHandlers) list(c *gin.Context) {
	caseID, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	q := newListQuery(c)
	if err := q.err(nil); err != nil {
		Fail(c, err)
		return
	}
	pg, err := h.svc.List(c.Request.Context(), caseID, q.Limit, q.Cursor)
	if err != nil {
		Fail(c, err)
		return
	}
	items := make([]bundleResponse, len(pg.Items))
	for i, b := range pg.Items {
		items[i] = toBundleResponse(b)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, newPage(items, pg.NextCursor))
}

func (h bundleHandlers) get(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	b, err := h.svc.Get(c.Request.Context(), id)
	if err != nil {
		Fail(c, err)
		return
	}
	c.Header("ETag", bundleETag(b.Version))
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, toBundleResponse(b))
}

func (h bundleHandlers) update(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	body, err := readJSONBody(c)
	if err != nil {
		Fail(c, err)
		return
	}
	var req bundlePatchRequest
	derr := decodeStrict(body, &req)
	p, perr := req.toPatch()
	if err := mergeInvalid(mergeInvalid(derr, perr), p.Validate()); err != nil {
		Fail(c, err)
		return
	}
	version, err := bundleIfMatch(c)
	if err != nil {
		Fail(c, err)
		return
	}
	b, err := h.svc.Update(c.Request.Context(), id, version, p)
	if err != nil {
		Fail(c, err)
		return
	}
	result{status: http.StatusOK, etag: bundleETag(b.Version), body: toBundleResponse(b)}.write(c)
}

func (h bundleHandlers) build(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	b, err := h.svc.RequestBuild(c.Request.Context(), id)
	if err != nil {
		Fail(c, err)
		return
	}
	result{status: http.StatusAccepted, location: bundleLocation(b.ID), etag: bundleETag(b.Version),
		body: toBundleResponse(b)}.write(c)
}

func (h bundleHandlers) seal(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	version, err := bundleIfMatch(c)
	if err != nil {
		Fail(c, err)
		return
	}
	b, err := h.svc.Seal(c.Request.Context(), id, version)
	if err != nil {
		Fail(c, err)
		return
	}
	result{status: http.StatusOK, etag: bundleETag(b.Version), body: toBundleResponse(b)}.write(c)
}

// pdf serves the bundle PDF like a document's content: Range and
// If-None-Match as net/http does them, the SHA-256 as ETag, an attachment.
func (h bundleHandlers) pdf(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	f, err := h.svc.OpenPDF(c.Request.Context(), id)
	if err != nil {
		Fail(c, err)
		return
	}
	defer f.Body.Close()
	hdr := c.Writer.Header()
	hdr.Set("ETag", `"`+f.SHA256+`"`)
	hdr.Set("Content-Type", "application/pdf")
	hdr.Set("Content-Disposition", ContentDisposition(f.Filename))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "private, no-store")
	hdr.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hdr.Set("Cross-Origin-Resource-Policy", "same-origin")
	http.ServeContent(&rangeProblemWriter{ResponseWriter: c.Writer, c: c}, c.Request, "", time.Time{}, f.Body)
}

func (h bundleHandlers) manifest(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	m, err := h.svc.Manifest(c.Request.Context(), id)
	if err != nil {
		Fail(c, err)
		return
	}
	if m.Sources == nil {
		m.Sources = []bundles.ManifestSource{}
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, m)
}
