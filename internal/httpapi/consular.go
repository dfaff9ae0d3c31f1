package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casebridge/casebridge/internal/persons"
)

// Consular routes (api/openapi.yaml, tag consular): an embassy's view of its
// own nationals, in the consular projection of spec/ACCESS.md and nothing
// more. Other principals get 403 (consular.read).
func (s *Server) consularRoutes(api *gin.RouterGroup) {
	h := consularHandlers{svc: persons.NewService(s.deps.Config.Consular.MandatoryCountries, s.deps.Log)}
	api.GET("/consular/nationals", h.list)
	api.GET("/consular/nationals/:id", h.get)
}

type consularHandlers struct {
	svc *persons.Service
}

type chargeResponse struct {
	CaseKind    string  `json:"case_kind"`
	LegalBasis  *string `json:"legal_basis"`
	Status      string  `json:"status"`
	CourtName   *string `json:"court_name"`
	HearingDate *string `json:"hearing_date"`
}

// nationalResponse is the consular projection: exactly the fields
// ACCESS.md lists, no others.
type nationalResponse struct {
	ID             string           `json:"id"`
	FamilyName     string           `json:"family_name"`
	GivenNames     string           `json:"given_names"`
	Sex            string           `json:"sex"`
	DateOfBirth    *string          `json:"date_of_birth"`
	Nationality    string           `json:"nationality"`
	PassportNumber string           `json:"passport_number"`
	CustodyStatus  string           `json:"custody_status"`
	Facility       string           `json:"facility"`
	DetainedAt     *time.Time       `json:"detained_at"`
	Charges        []chargeResponse `json:"charges"`
	DeportedAt     *time.Time       `json:"deported_at"`
	DeportedVia    string           `json:"deported_via"`
	EntryBanUntil  *string          `json:"entry_ban_until"`
	// Notification is the open consular notification, or null.
	Notification *openNotificationResponse `json:"notification"`
}

type openNotificationResponse struct {
	ID             string     `json:"id"`
	Episode        int        `json:"episode"`
	DueAt          time.Time  `json:"due_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
}

func toNationalResponse(n persons.National) nationalResponse {
	r := nationalResponse{
		ID: n.ID.String(), FamilyName: n.FamilyName, GivenNames: n.GivenNames, Sex: string(n.Sex),
		DateOfBirth: dateString(n.DateOfBirth), Nationality: n.Nationality, PassportNumber: n.PassportNumber,
		CustodyStatus: string(n.CustodyStatus), Facility: n.Facility, DetainedAt: utc(n.DetainedAt),
		Charges: make([]chargeResponse, len(n.Charges)), DeportedAt: utc(n.DeportedAt), DeportedVia: n.DeportedVia,
		EntryBanUntil: dateString(n.EntryBanUntil),
	}
	if o := n.Notification; o != nil {
		r.Notification = &openNotificationResponse{ID: o.ID.String(), Episode: o.Episode, DueAt: o.DueAt.UTC(),
			AcknowledgedAt: utc(o.AcknowledgedAt)}
	}
	for i, ch := range n.Charges {
		r.Charges[i] = chargeResponse{CaseKind: ch.CaseKind, LegalBasis: emptyNil(ch.LegalBasis), Status: ch.Status,
			CourtName: emptyNil(ch.CourtName), HearingDate: dateString(ch.HearingDate)}
	}
	return r
}

func (h consularHandlers) list(c *gin.Context) {
	q := newListQuery(c, "custody_status", "facility", "hearing_before", "q")
	f := persons.NationalFilter{Facility: c.Query("facility"), Query: c.Query("q"), HearingBefore: q.date("hearing_before"),
		Limit: q.Limit, Cursor: q.Cursor}
	for _, s := range q.values("custody_status") {
		f.CustodyStatuses = append(f.CustodyStatuses, persons.Custody(s))
	}
	if err := q.err(f.Validate()); err != nil {
		Fail(c, err)
		return
	}
	if wantsCSV(c) {
		streamCSV(c, "nationals.csv", nationalCSVColumns, func(cursor string) ([]nationalResponse, string, error) {
			f.Cursor, f.Limit = cursor, exportPageSize
			pg, err := h.svc.Nationals(c.Request.Context(), f)
			items := make([]nationalResponse, len(pg.Items))
			for i, n := range pg.Items {
				items[i] = toNationalResponse(n)
			}
			return items, pg.NextCursor, err
		})
		return
	}
	pg, err := h.svc.Nationals(c.Request.Context(), f)
	if err != nil {
		Fail(c, err)
		return
	}
	items := make([]nationalResponse, len(pg.Items))
	for i, n := range pg.Items {
		items[i] = toNationalResponse(n)
	}
	var next *string
	if pg.NextCursor != "" {
		next = &pg.NextCursor
	}
	c.JSON(http.StatusOK, nationalList{Items: items, NextCursor: next, Total: pg.Total})
}

// nationalList is api/openapi.yaml's NationalList: a page, and how many
// nationals the filters match in all.
type nationalList struct {
	Items      []nationalResponse `json:"items"`
	NextCursor *string            `json:"next_cursor"`
	Total      int64              `json:"total"`
}

func (h consularHandlers) get(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	n, err := h.svc.National(c.Request.Context(), id)
	if err != nil {
		Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toNationalResponse(n))
}
