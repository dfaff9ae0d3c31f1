package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/persons"
)

// Person routes (api/openapi.yaml, tag persons). GET /persons/{id} answers
// in the projection the database reports for the caller: the full record,
// or for an embassy the consular projection (the same document as GET
// /consular/nationals/{id}).
func (s *Server) personRoutes(api *gin.RouterGroup) {
	h := personHandlers{svc: persons.NewService(s.deps.Config.Consular.MandatoryCountries, s.deps.Log)}
	api.GET("/persons", h.list)
	api.POST("/persons", h.create)
	api.GET("/persons/:id", h.get)
	api.PATCH("/persons/:id", h.update)
	api.POST("/persons/:id/screening", h.screen)
	api.GET("/persons/:id/screening/history", h.screeningHistory)
}

type personHandlers struct {
	svc *persons.Service
}

// personFieldsRequest is the editable data of a person, for create and
// PATCH (where absent fields stay as they are and null clears a date).
type personFieldsRequest struct {
	FamilyName           optional[string]    `json:"family_name"`
	GivenNames           optional[string]    `json:"given_names"`
	FamilyNameNative     optional[string]    `json:"family_name_native"`
	GivenNamesNative     optional[string]    `json:"given_names_native"`
	Sex                  optional[string]    `json:"sex"`
	DateOfBirth          optional[civilDate] `json:"date_of_birth"`
	Nationality          optional[string]    `json:"nationality"`
	PassportNumber       optional[string]    `json:"passport_number"`
	PassportStatus       optional[string]    `json:"passport_status"`
	PassportExpiresOn    optional[civilDate] `json:"passport_expires_on"`
	WorkPermitNumber     optional[string]    `json:"work_permit_number"`
	WorkPermitStatus     optional[string]    `json:"work_permit_status"`
	Address              optional[string]    `json:"address"`
	CustodyStatus        optional[string]    `json:"custody_status"`
	Facility             optional[string]    `json:"facility"`
	DetainedAt           optional[timestamp] `json:"detained_at"`
	DeportedAt           optional[timestamp] `json:"deported_at"`
	DeportedVia          optional[string]    `json:"deported_via"`
	EntryBanUntil        optional[civilDate] `json:"entry_ban_until"`
	AsylumClaimed        optional[bool]      `json:"asylum_claimed"`
	ConsularNotification optional[string]    `json:"consular_notification"`
}

// personCreateRequest adds where to link the new person.
type personCreateRequest struct {
	personFieldsRequest
	CaseID optional[string] `json:"case_id"`
	Role   optional[string] `json:"role"`
}

func enumPtr[T ~string](o optional[string]) *T {
	if !o.Set {
		return nil
	}
	v := T(o.V)
	return &v
}

func datePtr(o optional[civilDate]) **time.Time {
	d := o.nullable()
	if d == nil {
		return nil
	}
	var t *time.Time
	if *d != nil {
		t = (*d).timeOf()
	}
	return &t
}

func instantPtr(o optional[timestamp]) **time.Time {
	d := o.nullable()
	if d == nil {
		return nil
	}
	var t *time.Time
	if *d != nil {
		t = (*d).timeOf()
	}
	return &t
}

func (r personFieldsRequest) toFields() (persons.Fields, error) {
	var fs apperr.Fields
	for _, o := range []struct {
		name string
		v    optional[string]
	}{
		{"family_name", r.FamilyName}, {"given_names", r.GivenNames}, {"family_name_native", r.FamilyNameNative},
		{"given_names_native", r.GivenNamesNative}, {"sex", r.Sex}, {"nationality", r.Nationality},
		{"passport_number", r.PassportNumber}, {"passport_status", r.PassportStatus},
		{"work_permit_number", r.WorkPermitNumber}, {"work_permit_status", r.WorkPermitStatus},
		{"address", r.Address}, {"custody_status", r.CustodyStatus}, {"facility", r.Facility},
		{"deported_via", r.DeportedVia}, {"consular_notification", r.ConsularNotification},
	} {
		o.v.notNull(&fs, o.name)
	}
	r.AsylumClaimed.notNull(&fs, "asylum_claimed")
	f := persons.Fields{
		FamilyName: r.FamilyName.ptr(), GivenNames: r.GivenNames.ptr(), FamilyNameNative: r.FamilyNameNative.ptr(),
		GivenNamesNative: r.GivenNamesNative.ptr(), Sex: enumPtr[persons.Sex](r.Sex),
		DateOfBirth: datePtr(r.DateOfBirth), Nationality: r.Nationality.ptr(),
		PassportNumber: r.PassportNumber.ptr(), PassportStatus: enumPtr[persons.PassportStatus](r.PassportStatus),
		PassportExpiresOn: datePtr(r.PassportExpiresOn), WorkPermitNumber: r.WorkPermitNumber.ptr(),
		WorkPermitStatus: enumPtr[persons.WorkPermitStatus](r.WorkPermitStatus), Address: r.Address.ptr(),
		CustodyStatus: enumPtr[persons.Custody](r.CustodyStatus), Facility: r.Facility.ptr(),
		DetainedAt: instantPtr(r.DetainedAt), DeportedAt: instantPtr(r.DeportedAt), DeportedVia: r.DeportedVia.ptr(),
		EntryBanUntil: datePtr(r.EntryBanUntil), AsylumClaimed: r.AsylumClaimed.ptr(),
		ConsularNotification: enumPtr[persons.Notification](r.ConsularNotification),
	}
	return f, fs.Err()
}

type screeningRequest struct {
	TraffickingFlag         optional[string] `json:"trafficking_flag"`
	ScreeningNotes          optional[string] `json:"screening_notes"`
	VictimConsentsToEmbassy optional[bool]   `json:"victim_consents_to_embassy"`
	CTProceedingsCleared    optional[bool]   `json:"ct_proceedings_cleared"`
	Reason                  optional[string] `json:"reason"`
}

func (r screeningRequest) toScreening() (persons.Screening, error) {
	var fs apperr.Fields
	r.TraffickingFlag.notNull(&fs, "trafficking_flag")
	r.ScreeningNotes.notNull(&fs, "screening_notes")
	r.VictimConsentsToEmbassy.notNull(&fs, "victim_consents_to_embassy")
	r.CTProceedingsCleared.notNull(&fs, "ct_proceedings_cleared")
	r.Reason.notNull(&fs, "reason")
	return persons.Screening{TraffickingFlag: enumPtr[persons.Flag](r.TraffickingFlag),
		ScreeningNotes: r.ScreeningNotes.ptr(), VictimConsents: r.VictimConsentsToEmbassy.ptr(),
		ProceedingsCleared: r.CTProceedingsCleared.ptr(), Reason: r.Reason.ptr()}, fs.Err()
}

// Responses.

type caseLinkResponse struct {
	CaseID    string    `json:"case_id"`
	Reference string    `json:"reference"`
	Role      string    `json:"role"`
	LinkedAt  time.Time `json:"linked_at"`
}

type personAgencyResponse struct {
	ID   string `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

// personResponse is the full projection of a person.
type personResponse struct {
	ID                      string               `json:"id"`
	FamilyName              string               `json:"family_name"`
	GivenNames              string               `json:"given_names"`
	FamilyNameNative        string               `json:"family_name_native"`
	GivenNamesNative        string               `json:"given_names_native"`
	Sex                     string               `json:"sex"`
	DateOfBirth             *string              `json:"date_of_birth"`
	Nationality             string               `json:"nationality"`
	PassportNumber          string               `json:"passport_number"`
	PassportStatus          string               `json:"passport_status"`
	PassportExpiresOn       *string              `json:"passport_expires_on"`
	WorkPermitNumber        string               `json:"work_permit_number"`
	WorkPermitStatus        string               `json:"work_permit_status"`
	Address                 string               `json:"address"`
	CustodyStatus           string               `json:"custody_status"`
	Facility                string               `json:"facility"`
	DetainedAt              *time.Time           `json:"detained_at"`
	DeportedAt              *time.Time           `json:"deported_at"`
	DeportedVia             string               `json:"deported_via"`
	EntryBanUntil           *string              `json:"entry_ban_until"`
	TraffickingFlag         string               `json:"trafficking_flag"`
	ScreeningNotes          string               `json:"screening_notes"`
	VictimConsentsToEmbassy bool                 `json:"victim_consents_to_embassy"`
	CTProceedingsCleared    bool                 `json:"ct_proceedings_cleared"`
	AsylumClaimed           bool                 `json:"asylum_claimed"`
	ConsularNotification    string               `json:"consular_notification"`
	CreatedByAgency         personAgencyResponse `json:"created_by_agency"`
	Cases                   []caseLinkResponse   `json:"cases"`
	Version                 int                  `json:"version"`
	CreatedAt               time.Time            `json:"created_at"`
	UpdatedAt               time.Time            `json:"updated_at"`
}

func toPersonResponse(p persons.Person) personResponse {
	r := personResponse{
		ID: p.ID.String(), FamilyName: p.FamilyName, GivenNames: p.GivenNames, FamilyNameNative: p.FamilyNameNative,
		GivenNamesNative: p.GivenNamesNative, Sex: string(p.Sex), DateOfBirth: dateString(p.DateOfBirth),
		Nationality: p.Nationality, PassportNumber: p.PassportNumber, PassportStatus: string(p.PassportStatus),
		PassportExpiresOn: dateString(p.PassportExpiresOn), WorkPermitNumber: p.WorkPermitNumber,
		WorkPermitStatus: string(p.WorkPermitStatus), Address: p.Address, CustodyStatus: string(p.CustodyStatus),
		Facility: p.Facility, DetainedAt: utc(p.DetainedAt), DeportedAt: utc(p.DeportedAt), DeportedVia: p.DeportedVia,
		EntryBanUntil: dateString(p.EntryBanUntil), TraffickingFlag: string(p.TraffickingFlag),
		ScreeningNotes: p.ScreeningNotes, VictimConsentsToEmbassy: p.VictimConsents,
		CTProceedingsCleared: p.ProceedingsCleared, AsylumClaimed: p.AsylumClaimed,
		ConsularNotification: string(p.ConsularNotification),
		CreatedByAgency:      personAgencyResponse{ID: p.CreatedBy.ID.String(), Code: p.CreatedBy.Code, Name: p.CreatedBy.Name},
		Cases:                make([]caseLinkResponse, len(p.Cases)), Version: p.Version,
		CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC(),
	}
	for i, l := range p.Cases {
		r.Cases[i] = caseLinkResponse{CaseID: l.CaseID.String(), Reference: l.Reference, Role: string(l.Role),
			LinkedAt: l.LinkedAt.UTC()}
	}
	return r
}

// personSummaryResponse is the summary projection (ACCESS.md, Persons):
// no other key of the full projection.
type personSummaryResponse struct {
	ID            string             `json:"id"`
	FamilyName    string             `json:"family_name"`
	GivenNames    string             `json:"given_names"`
	Sex           string             `json:"sex"`
	Nationality   string             `json:"nationality"`
	CustodyStatus string             `json:"custody_status"`
	Cases         []caseLinkResponse `json:"cases"`
}

func toSummaryResponse(p persons.Summary) personSummaryResponse {
	r := personSummaryResponse{ID: p.ID.String(), FamilyName: p.FamilyName, GivenNames: p.GivenNames,
		Sex: string(p.Sex), Nationality: p.Nationality, CustodyStatus: string(p.CustodyStatus),
		Cases: make([]caseLinkResponse, len(p.Cases))}
	for i, l := range p.Cases {
		r.Cases[i] = caseLinkResponse{CaseID: l.CaseID.String(), Reference: l.Reference, Role: string(l.Role),
			LinkedAt: l.LinkedAt.UTC()}
	}
	return r
}

func personLocation(id uuid.UUID) string { return "/api/v1/persons/" + id.String() }

// Handlers.

func (h personHandlers) list(c *gin.Context) {
	q := newListQuery(c, "nationality", "custody_status", "trafficking_flag", "q", "passport")
	f := persons.Filter{Nationality: c.Query("nationality"), Query: c.Query("q"), Passport: c.Query("passport"), Limit: q.Limit, Cursor: q.Cursor}
	for _, s := range q.values("custody_status") {
		f.CustodyStatuses = append(f.CustodyStatuses, persons.Custody(s))
	}
	for _, s := range q.values("trafficking_flag") {
		f.Flags = append(f.Flags, persons.Flag(s))
	}
	if err := q.err(f.Validate()); err != nil {
		Fail(c, err)
		return
	}
	pg, err := h.svc.List(c.Request.Context(), f)
	if err != nil {
		Fail(c, err)
		return
	}
	items := make([]personResponse, len(pg.Items))
	for i, p := range pg.Items {
		items[i] = toPersonResponse(p)
	}
	c.JSON(http.StatusOK, newPage(items, pg.NextCursor))
}

func (h personHandlers) create(c *gin.Context) {
	idempotent(c, func(ctx context.Context, body []byte) (result, error) {
		var req personCreateRequest
		derr := decodeStrict(body, &req)
		f, ferr := req.toFields()
		var fs apperr.Fields
		var link *persons.NewLink
		req.CaseID.notNull(&fs, "case_id")
		req.Role.notNull(&fs, "role")
		if req.CaseID.Set && !req.CaseID.Null {
			id, err := uuid.Parse(req.CaseID.V)
			if err != nil {
				fs.Add("case_id", "must be a case id (UUID)")
			}
			link = &persons.NewLink{CaseID: id, Role: "detainee"}
			if req.Role.Set && !req.Role.Null {
				link.Role = persons.Role(req.Role.V)
			}
		} else if req.Role.Set {
			fs.Add("role", "is only given with case_id")
		}
		verr := f.Validate(true, time.Now())
		if err := mergeInvalid(mergeInvalid(mergeInvalid(derr, ferr), fs.Err()), verr); err != nil {
			return result{}, err
		}
		p, err := h.svc.Create(ctx, f, link)
		if err != nil {
			return result{}, err
		}
		return result{status: http.StatusCreated, location: personLocation(p.ID),
			etag: versionETag(p.ID, p.Version), body: toPersonResponse(p)}, nil
	})
}

func (h personHandlers) get(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	rec, err := h.svc.Get(c.Request.Context(), id)
	if err != nil {
		Fail(c, err)
		return
	}
	if rec.National != nil {
		c.JSON(http.StatusOK, toNationalResponse(*rec.National))
		return
	}
	if rec.Summary != nil {
		c.JSON(http.StatusOK, toSummaryResponse(*rec.Summary))
		return
	}
	c.Header("ETag", versionETag(rec.Person.ID, rec.Person.Version))
	c.JSON(http.StatusOK, toPersonResponse(*rec.Person))
}

func (h personHandlers) update(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	body, err := readJSONBody(c)
	if err != nil {
		Fail(c, err)
		return
	}
	var req personFieldsRequest
	derr := decodeStrict(body, &req)
	f, ferr := req.toFields()
	if err := mergeInvalid(mergeInvalid(derr, ferr), f.Validate(false, time.Now())); err != nil {
		Fail(c, err)
		return
	}
	version, err := ifMatchVersion(c, id)
	if err != nil {
		Fail(c, err)
		return
	}
	p, err := h.svc.Update(c.Request.Context(), id, version, f)
	if err != nil {
		Fail(c, err)
		return
	}
	c.Header("ETag", versionETag(p.ID, p.Version))
	c.JSON(http.StatusOK, toPersonResponse(p))
}

func (h personHandlers) screen(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	idempotent(c, func(ctx context.Context, body []byte) (result, error) {
		var req screeningRequest
		derr := decodeStrict(body, &req)
		sc, serr := req.toScreening()
		if err := mergeInvalid(mergeInvalid(derr, serr), sc.Validate()); err != nil {
			return result{}, err
		}
		version, err := optionalIfMatch(c, id)
		if err != nil {
			return result{}, err
		}
		p, err := h.svc.Screen(ctx, id, version, sc)
		if err != nil {
			return result{}, err
		}
		return result{status: http.StatusOK, etag: versionETag(p.ID, p.Version), body: toPersonResponse(p)}, nil
	})
}

type screeningDecisionResponse struct {
	ID         string            `json:"id"`
	Decision   string            `json:"decision"`
	Reason     string            `json:"reason"`
	FlagBefore string            `json:"flag_before"`
	DecidedAt  time.Time         `json:"decided_at"`
	DecidedBy  string            `json:"decided_by"`
	Agency     agencyRefResponse `json:"agency"`
}

func (h personHandlers) screeningHistory(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	ds, err := h.svc.ScreeningHistory(c.Request.Context(), id)
	if err != nil {
		Fail(c, err)
		return
	}
	items := make([]screeningDecisionResponse, len(ds))
	for i, d := range ds {
		items[i] = screeningDecisionResponse{ID: d.ID.String(), Decision: d.Decision, Reason: d.Reason,
			FlagBefore: d.FlagBefore, DecidedAt: d.DecidedAt.UTC(), DecidedBy: d.DecidedBy,
			Agency: agencyRefResponse{ID: d.AgencyID.String(), Code: d.AgencyCode, Name: d.AgencyName, Kind: d.AgencyKind}}
	}
	c.JSON(http.StatusOK, newPage(items, ""))
}
