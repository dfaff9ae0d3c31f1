package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/cases"
	"github.com/casebridge/casebridge/internal/persons"
)

// Case routes (api/openapi.yaml, tag cases): the case file, its status and
// court referral, its shares and its persons. Handlers decode, call one
// service method and encode; who sees and may do what is the database's
// answer, carried back as apperr kinds.
func (s *Server) caseRoutes(api *gin.RouterGroup) {
	h := caseHandlers{cases: cases.NewService(s.deps.Log),
		persons: persons.NewService(s.deps.Config.Consular.MandatoryCountries, s.deps.Log)}
	api.GET("/cases", h.list)
	api.POST("/cases", h.create)
	api.GET("/cases/:id", h.get)
	api.PATCH("/cases/:id", h.update)
	api.POST("/cases/:id/status", h.changeStatus)
	api.GET("/cases/:id/history", h.history)
	api.GET("/cases/:id/shares", h.shares)
	api.POST("/cases/:id/shares", h.createShare)
	api.DELETE("/cases/:id/shares/:share_id", h.revokeShare)
	api.GET("/cases/:id/persons", h.casePersons)
	api.POST("/cases/:id/persons", h.link)
	api.DELETE("/cases/:id/persons/:person_id", h.unlink)
}

type caseHandlers struct {
	cases   *cases.Service
	persons *persons.Service
}

// Requests.

type operationRequest struct {
	Name  string     `json:"name"`
	Place string     `json:"place"`
	Date  *civilDate `json:"date"`
}

type caseCreateRequest struct {
	Title     string            `json:"title"`
	Kind      string            `json:"kind"`
	Summary   string            `json:"summary"`
	Notes     string            `json:"notes"`
	Operation *operationRequest `json:"operation"`
}

func (r caseCreateRequest) toNewCase() cases.NewCase {
	n := cases.NewCase{Title: r.Title, Kind: cases.Kind(r.Kind), Summary: r.Summary, Notes: r.Notes}
	if r.Operation != nil {
		n.Operation = cases.Operation{Name: r.Operation.Name, Place: r.Operation.Place, Date: r.Operation.Date.timeOf()}
	}
	return n
}

type operationPatchRequest struct {
	Name  optional[string]    `json:"name"`
	Place optional[string]    `json:"place"`
	Date  optional[civilDate] `json:"date"`
}

type casePatchRequest struct {
	Title     optional[string]       `json:"title"`
	Kind      optional[string]       `json:"kind"`
	Summary   optional[string]       `json:"summary"`
	Notes     optional[string]       `json:"notes"`
	Operation *operationPatchRequest `json:"operation"`
}

func (r casePatchRequest) toPatch() (cases.Patch, error) {
	var fs apperr.Fields
	r.Title.notNull(&fs, "title")
	r.Kind.notNull(&fs, "kind")
	r.Summary.notNull(&fs, "summary")
	r.Notes.notNull(&fs, "notes")
	p := cases.Patch{Title: r.Title.ptr(), Summary: r.Summary.ptr(), Notes: r.Notes.ptr()}
	if r.Kind.Set {
		k := cases.Kind(r.Kind.V)
		p.Kind = &k
	}
	if o := r.Operation; o != nil {
		p.OperationName, p.OperationPlace = o.Name.ptr(), o.Place.ptr()
		if d := o.Date.nullable(); d != nil {
			var t *time.Time
			if *d != nil {
				t = (*d).timeOf()
			}
			p.OperationDate = &t
		}
	}
	return p, fs.Err()
}

type statusRequest struct {
	Status        string     `json:"status"`
	Note          string     `json:"note"`
	CourtAgencyID *string    `json:"court_agency_id"`
	HearingDate   *civilDate `json:"hearing_date"`
	LegalBasis    *string    `json:"legal_basis"`
}

func (r statusRequest) toChange() (cases.StatusChange, error) {
	ch := cases.StatusChange{Status: cases.Status(r.Status), Note: r.Note, HearingDate: r.HearingDate.timeOf(),
		LegalBasis: r.LegalBasis}
	if r.CourtAgencyID != nil {
		id, err := uuid.Parse(*r.CourtAgencyID)
		if err != nil {
			return ch, apperr.Invalid("court_agency_id", "must be an agency id (UUID)")
		}
		ch.CourtAgencyID = &id
	}
	return ch, nil
}

type shareRequest struct {
	AgencyID  string     `json:"agency_id"`
	Level     string     `json:"level"`
	Ceiling   string     `json:"ceiling"`
	Purpose   string     `json:"purpose"`
	ExpiresAt *timestamp `json:"expires_at"`
}

func (r shareRequest) toNewShare() (cases.NewShare, error) {
	n := cases.NewShare{Level: cases.Level(r.Level), Ceiling: access.Classification(r.Ceiling), Purpose: r.Purpose}
	if r.ExpiresAt != nil {
		n.ExpiresAt = r.ExpiresAt.Time
	}
	if r.AgencyID != "" {
		id, err := uuid.Parse(r.AgencyID)
		if err != nil {
			return n, apperr.Invalid("agency_id", "must be an agency id (UUID)")
		}
		n.AgencyID = id
	}
	return n, nil
}

type linkRequest struct {
	PersonID string `json:"person_id"`
	Role     string `json:"role"`
}

// Responses.

type agencyRefResponse struct {
	ID   string `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

func toAgencyRef(a cases.AgencyRef) agencyRefResponse {
	return agencyRefResponse{ID: a.ID.String(), Code: a.Code, Name: a.Name, Kind: string(a.Kind)}
}

type caseAccessResponse struct {
	Level   string  `json:"level"`
	Ceiling *string `json:"ceiling"`
}

// caseSummaryResponse is the summary projection; caseFullResponse adds
// what a full grant shows. A summary reader gets no key of the full one.
type caseSummaryResponse struct {
	ID          string             `json:"id"`
	Reference   string             `json:"reference"`
	Title       string             `json:"title"`
	Kind        string             `json:"kind"`
	Status      string             `json:"status"`
	OwnerAgency agencyRefResponse  `json:"owner_agency"`
	CourtAgency *agencyRefResponse `json:"court_agency"`
	HearingDate *string            `json:"hearing_date"`
	UpdatedAt   time.Time          `json:"updated_at"`
	Access      caseAccessResponse `json:"access"`
}

type operationResponse struct {
	Name  *string `json:"name"`
	Place *string `json:"place"`
	Date  *string `json:"date"`
}

type caseFullResponse struct {
	caseSummaryResponse
	Summary        string            `json:"summary"`
	Notes          string            `json:"notes"`
	Operation      operationResponse `json:"operation"`
	LegalBasis     *string           `json:"legal_basis"`
	PersonsCount   int               `json:"persons_count"`
	PossibleVictim bool              `json:"possible_victim"`
	Version        int               `json:"version"`
	CreatedAt      time.Time         `json:"created_at"`
}

func emptyNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// toCaseResponse shapes the projection the service returned: full when the
// database reported a full grant (Details set), else summary.
func toCaseResponse(c cases.Case) any {
	sum := caseSummaryResponse{
		ID: c.ID.String(), Reference: c.Reference, Title: c.Title, Kind: string(c.Kind), Status: string(c.Status),
		OwnerAgency: toAgencyRef(c.Owner), HearingDate: dateString(c.HearingDate), UpdatedAt: c.UpdatedAt.UTC(),
		Access: caseAccessResponse{Level: string(c.Access.Level)},
	}
	if c.Court != nil {
		ref := toAgencyRef(*c.Court)
		sum.CourtAgency = &ref
	}
	if c.Access.Ceiling != nil {
		cl := string(*c.Access.Ceiling)
		sum.Access.Ceiling = &cl
	}
	d := c.Details
	if d == nil {
		return sum
	}
	return caseFullResponse{
		caseSummaryResponse: sum, Summary: d.Summary, Notes: d.Notes,
		Operation: operationResponse{Name: emptyNil(d.Operation.Name), Place: emptyNil(d.Operation.Place),
			Date: dateString(d.Operation.Date)},
		LegalBasis: emptyNil(d.LegalBasis), PersonsCount: d.PersonsCount, PossibleVictim: d.PossibleVictim,
		Version: c.Version, CreatedAt: d.CreatedAt.UTC(),
	}
}

type shareResponse struct {
	ID        string            `json:"id"`
	CaseID    string            `json:"case_id"`
	Agency    agencyRefResponse `json:"agency"`
	Level     string            `json:"level"`
	Ceiling   string            `json:"ceiling"`
	Purpose   string            `json:"purpose"`
	ExpiresAt time.Time         `json:"expires_at"`
	CreatedAt time.Time         `json:"created_at"`
	RevokedAt *time.Time        `json:"revoked_at"`
	Active    bool              `json:"active"`
}

func toShareResponse(s cases.Share) shareResponse {
	return shareResponse{ID: s.ID.String(), CaseID: s.CaseID.String(), Agency: toAgencyRef(s.Agency),
		Level: string(s.Level), Ceiling: string(s.Ceiling), Purpose: s.Purpose, ExpiresAt: s.ExpiresAt.UTC(),
		CreatedAt: s.CreatedAt.UTC(), RevokedAt: utc(s.RevokedAt), Active: s.Active}
}

// linkedPersonResponse: person is a personResponse (full projection) or a
// personSummaryResponse (summary projection).
type linkedPersonResponse struct {
	Role     string    `json:"role"`
	LinkedAt time.Time `json:"linked_at"`
	Person   any       `json:"person"`
}

func toLinkedResponse(l persons.Linked) linkedPersonResponse {
	r := linkedPersonResponse{Role: string(l.Role), LinkedAt: l.LinkedAt.UTC()}
	if l.Person != nil {
		r.Person = toPersonResponse(*l.Person)
	} else {
		r.Person = toSummaryResponse(*l.Summary)
	}
	return r
}

func caseLocation(id uuid.UUID) string { return "/api/v1/cases/" + id.String() }

// Handlers.

func (h caseHandlers) list(c *gin.Context) {
	q := newListQuery(c, "status", "kind", "owner", "q", "updated_since")
	f := cases.Filter{Owner: c.Query("owner"), Query: c.Query("q"), UpdatedSince: q.instant("updated_since"),
		Limit: q.Limit, Cursor: q.Cursor}
	for _, s := range q.values("status") {
		f.Statuses = append(f.Statuses, cases.Status(s))
	}
	for _, k := range q.values("kind") {
		f.Kinds = append(f.Kinds, cases.Kind(k))
	}
	if err := q.err(f.Validate()); err != nil {
		Fail(c, err)
		return
	}
	if wantsCSV(c) {
		streamCSV(c, "cases.csv", caseCSVColumns, func(cursor string) ([]any, string, error) {
			f.Cursor, f.Limit = cursor, exportPageSize
			pg, err := h.cases.List(c.Request.Context(), f)
			items := make([]any, len(pg.Items))
			for i, cs := range pg.Items {
				items[i] = toCaseResponse(cs)
			}
			return items, pg.NextCursor, err
		})
		return
	}
	pg, err := h.cases.List(c.Request.Context(), f)
	if err != nil {
		Fail(c, err)
		return
	}
	items := make([]any, len(pg.Items))
	for i, cs := range pg.Items {
		items[i] = toCaseResponse(cs)
	}
	c.JSON(http.StatusOK, newPage(items, pg.NextCursor))
}

func (h caseHandlers) create(c *gin.Context) {
	idempotent(c, func(ctx context.Context, body []byte) (result, error) {
		var req caseCreateRequest
		derr := decodeStrict(body, &req)
		n := req.toNewCase()
		if err := mergeInvalid(derr, n.Validate()); err != nil {
			return result{}, err
		}
		cs, err := h.cases.Create(ctx, n)
		if err != nil {
			return result{}, err
		}
		return result{status: http.StatusCreated, location: caseLocation(cs.ID),
			etag: versionETag(cs.ID, cs.Version), body: toCaseResponse(cs)}, nil
	})
}

func (h caseHandlers) get(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	cs, err := h.cases.Get(c.Request.Context(), id)
	if err != nil {
		Fail(c, err)
		return
	}
	c.Header("ETag", versionETag(cs.ID, cs.Version))
	c.JSON(http.StatusOK, toCaseResponse(cs))
}

func (h caseHandlers) update(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	body, err := readJSONBody(c)
	if err != nil {
		Fail(c, err)
		return
	}
	var req casePatchRequest
	derr := decodeStrict(body, &req)
	p, perr := req.toPatch()
	if err := mergeInvalid(mergeInvalid(derr, perr), p.Validate()); err != nil {
		Fail(c, err)
		return
	}
	version, err := ifMatchVersion(c, id)
	if err != nil {
		Fail(c, err)
		return
	}
	cs, err := h.cases.Update(c.Request.Context(), id, version, p)
	if err != nil {
		Fail(c, err)
		return
	}
	c.Header("ETag", versionETag(cs.ID, cs.Version))
	c.JSON(http.StatusOK, toCaseResponse(cs))
}

func (h caseHandlers) changeStatus(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	idempotent(c, func(ctx context.Context, body []byte) (result, error) {
		var req statusRequest
		derr := decodeStrict(body, &req)
		ch, cerr := req.toChange()
		if err := mergeInvalid(mergeInvalid(derr, cerr), ch.Validate()); err != nil {
			return result{}, err
		}
		version, err := optionalIfMatch(c, id)
		if err != nil {
			return result{}, err
		}
		cs, err := h.cases.ChangeStatus(ctx, id, version, ch)
		if err != nil {
			return result{}, err
		}
		return result{status: http.StatusOK, etag: versionETag(cs.ID, cs.Version), body: toCaseResponse(cs)}, nil
	})
}

func (h caseHandlers) shares(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	list, err := h.cases.Shares(c.Request.Context(), id)
	if err != nil {
		Fail(c, err)
		return
	}
	items := make([]shareResponse, len(list))
	for i, s := range list {
		items[i] = toShareResponse(s)
	}
	c.JSON(http.StatusOK, newPage(items, ""))
}

type statusEntryResponse struct {
	FromStatus *string   `json:"from_status"`
	ToStatus   string    `json:"to_status"`
	Note       string    `json:"note"`
	ChangedAt  time.Time `json:"changed_at"`
}

func (h caseHandlers) history(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	list, err := h.cases.History(c.Request.Context(), id)
	if err != nil {
		Fail(c, err)
		return
	}
	items := make([]statusEntryResponse, len(list))
	for i, e := range list {
		items[i] = statusEntryResponse{FromStatus: e.FromStatus, ToStatus: e.ToStatus, Note: e.Note, ChangedAt: e.ChangedAt.UTC()}
	}
	c.JSON(http.StatusOK, newPage(items, ""))
}

func (h caseHandlers) createShare(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	idempotent(c, func(ctx context.Context, body []byte) (result, error) {
		var req shareRequest
		derr := decodeStrict(body, &req)
		n, cerr := req.toNewShare()
		if err := mergeInvalid(mergeInvalid(derr, cerr), n.Validate(time.Now())); err != nil {
			return result{}, err
		}
		sh, err := h.cases.CreateShare(ctx, id, n)
		if err != nil {
			return result{}, err
		}
		return result{status: http.StatusCreated, location: caseLocation(id) + "/shares/" + sh.ID.String(),
			body: toShareResponse(sh)}, nil
	})
}

func (h caseHandlers) revokeShare(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	shareID, ok := paramUUID(c, "share_id")
	if !ok {
		return
	}
	if err := h.cases.RevokeShare(c.Request.Context(), id, shareID); err != nil {
		Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h caseHandlers) casePersons(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	q := newListQuery(c, "q")
	f := persons.CaseFilter{Query: c.Query("q"), Limit: q.Limit, Cursor: q.Cursor}
	if err := q.err(f.Validate()); err != nil {
		Fail(c, err)
		return
	}
	if wantsCSV(c) {
		streamCSV(c, "case-persons.csv", casePersonCSVColumns, func(cursor string) ([]linkedPersonResponse, string, error) {
			f.Cursor, f.Limit = cursor, exportPageSize
			pg, err := h.persons.OfCase(c.Request.Context(), id, f)
			items := make([]linkedPersonResponse, len(pg.Items))
			for i, l := range pg.Items {
				items[i] = toLinkedResponse(l)
			}
			return items, pg.NextCursor, err
		})
		return
	}
	pg, err := h.persons.OfCase(c.Request.Context(), id, f)
	if err != nil {
		Fail(c, err)
		return
	}
	items := make([]linkedPersonResponse, len(pg.Items))
	for i, l := range pg.Items {
		items[i] = toLinkedResponse(l)
	}
	c.JSON(http.StatusOK, newPage(items, pg.NextCursor))
}

func (h caseHandlers) link(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	idempotent(c, func(ctx context.Context, body []byte) (result, error) {
		var req linkRequest
		derr := decodeStrict(body, &req)
		var fs apperr.Fields
		pid, err := uuid.Parse(req.PersonID)
		if err != nil {
			fs.Add("person_id", "must be a person id (UUID)")
		}
		role := persons.Role(req.Role)
		if role == "" {
			role = "detainee"
		}
		if err := mergeInvalid(derr, fs.Err()); err != nil {
			return result{}, err
		}
		l, err := h.persons.Link(ctx, id, pid, role)
		if err != nil {
			return result{}, err
		}
		return result{status: http.StatusCreated, location: personLocation(pid),
			etag: versionETag(l.Person.ID, l.Person.Version), body: toLinkedResponse(l)}, nil
	})
}

func (h caseHandlers) unlink(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	pid, ok := paramUUID(c, "person_id")
	if !ok {
		return
	}
	if err := h.persons.Unlink(c.Request.Context(), id, pid); err != nil {
		Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
