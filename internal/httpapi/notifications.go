package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casebridge/casebridge/internal/consular"
)

// Consular notification and visit routes (api/openapi.yaml, tag consular):
// the embassy's inbox and acknowledgement, the ministry's view of every
// notification (overdue included), and consular visit requests.
func (s *Server) notificationRoutes(api *gin.RouterGroup) {
	c := s.deps.Config.Consular
	h := notificationHandlers{svc: consular.NewService(c.OverdueAfter, c.VisitOverdueAfter, s.deps.Log)}
	api.GET("/notifications", h.list)
	api.POST("/notifications/:id/ack", h.ack)
	api.GET("/persons/:id/visits", h.visitsOf)
	api.POST("/persons/:id/visits", h.requestVisit)
	api.GET("/visits", h.visits)
	api.POST("/visits/:id/answer", h.answer)
}

type notificationHandlers struct {
	svc *consular.Service
}

type consularPersonResponse struct {
	ID            string `json:"id"`
	FamilyName    string `json:"family_name"`
	GivenNames    string `json:"given_names"`
	Nationality   string `json:"nationality"`
	CustodyStatus string `json:"custody_status"`
	Facility      string `json:"facility"`
}

func toConsularPerson(p consular.Person) consularPersonResponse {
	return consularPersonResponse{ID: p.ID.String(), FamilyName: p.FamilyName, GivenNames: p.GivenNames,
		Nationality: p.Nationality, CustodyStatus: p.CustodyStatus, Facility: p.Facility}
}

type notificationResponse struct {
	ID             string                 `json:"id"`
	Person         consularPersonResponse `json:"person"`
	Country        string                 `json:"country"`
	Episode        int                    `json:"episode"`
	State          string                 `json:"state"`
	DueAt          time.Time              `json:"due_at"`
	AcknowledgedAt *time.Time             `json:"acknowledged_at"`
	WithdrawnAt    *time.Time             `json:"withdrawn_at,omitempty"`
	Overdue        bool                   `json:"overdue"`
}

func toNotificationResponse(n consular.Notification) notificationResponse {
	return notificationResponse{ID: n.ID.String(), Person: toConsularPerson(n.Person), Country: n.Country,
		Episode: n.Episode, State: n.State(), DueAt: n.DueAt.UTC(), AcknowledgedAt: utc(n.AcknowledgedAt),
		WithdrawnAt: utc(n.WithdrawnAt), Overdue: n.Overdue}
}

type visitResponse struct {
	ID            string                 `json:"id"`
	Person        consularPersonResponse `json:"person"`
	Country       string                 `json:"country"`
	Embassy       string                 `json:"embassy"`
	RequestedAt   time.Time              `json:"requested_at"`
	PreferredFrom string                 `json:"preferred_from"`
	PreferredTo   string                 `json:"preferred_to"`
	Note          string                 `json:"note"`
	Status        string                 `json:"status"`
	VisitAt       *time.Time             `json:"visit_at"`
	Place         *string                `json:"place"`
	RefusalReason *string                `json:"refusal_reason"`
	AnsweredBy    *string                `json:"answered_by"`
	AnsweredAt    *time.Time             `json:"answered_at"`
	Overdue       bool                   `json:"overdue"`
}

func toVisitResponse(v consular.Visit) visitResponse {
	return visitResponse{ID: v.ID.String(), Person: toConsularPerson(v.Person), Country: v.Country,
		Embassy: v.AgencyName, RequestedAt: v.RequestedAt.UTC(), PreferredFrom: v.PreferredFrom.Format(time.DateOnly),
		PreferredTo: v.PreferredTo.Format(time.DateOnly), Note: v.Note, Status: v.Status, VisitAt: utc(v.VisitAt),
		Place: v.Place, RefusalReason: v.RefusalReason, AnsweredBy: v.AnsweredBy, AnsweredAt: utc(v.AnsweredAt),
		Overdue: v.Overdue}
}

func (h notificationHandlers) list(c *gin.Context) {
	q := newListQuery(c, "state")
	f := consular.Filter{State: c.Query("state"), Limit: q.Limit, Cursor: q.Cursor}
	if err := q.err(f.Validate()); err != nil {
		Fail(c, err)
		return
	}
	pg, err := h.svc.Inbox(c.Request.Context(), f)
	if err != nil {
		Fail(c, err)
		return
	}
	items := make([]notificationResponse, len(pg.Items))
	for i, n := range pg.Items {
		items[i] = toNotificationResponse(n)
	}
	c.JSON(http.StatusOK, newPage(items, pg.NextCursor))
}

func (h notificationHandlers) ack(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	n, err := h.svc.Acknowledge(c.Request.Context(), id)
	if err != nil {
		Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toNotificationResponse(n))
}

func (h notificationHandlers) visitsOf(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	q := newListQuery(c)
	if q.Limit != 0 || q.Cursor != "" {
		q.fields.Add("limit", "a person's visit requests are not paginated")
	}
	if err := q.fields.Err(); err != nil {
		Fail(c, err)
		return
	}
	vs, err := h.svc.VisitsOf(c.Request.Context(), id)
	if err != nil {
		Fail(c, err)
		return
	}
	items := make([]visitResponse, len(vs))
	for i, v := range vs {
		items[i] = toVisitResponse(v)
	}
	c.JSON(http.StatusOK, newPage(items, ""))
}

func (h notificationHandlers) visits(c *gin.Context) {
	q := newListQuery(c, "state")
	f := consular.VisitFilter{State: c.Query("state"), Limit: q.Limit, Cursor: q.Cursor}
	if err := q.err(f.Validate()); err != nil {
		Fail(c, err)
		return
	}
	pg, err := h.svc.Visits(c.Request.Context(), f)
	if err != nil {
		Fail(c, err)
		return
	}
	items := make([]visitResponse, len(pg.Items))
	for i, v := range pg.Items {
		items[i] = toVisitResponse(v)
	}
	c.JSON(http.StatusOK, newPage(items, pg.NextCursor))
}

type visitRequestBody struct {
	PreferredFrom optional[civilDate] `json:"preferred_from"`
	PreferredTo   optional[civilDate] `json:"preferred_to"`
	Note          optional[string]    `json:"note"`
}

func (h notificationHandlers) requestVisit(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	idempotent(c, func(ctx context.Context, body []byte) (result, error) {
		var req visitRequestBody
		derr := decodeStrict(body, &req)
		r := consular.VisitRequest{Note: req.Note.V}
		if d := req.PreferredFrom.nullable(); d != nil && *d != nil {
			r.PreferredFrom = (*d).timeOf()
		}
		if d := req.PreferredTo.nullable(); d != nil && *d != nil {
			r.PreferredTo = (*d).timeOf()
		}
		if err := mergeInvalid(derr, r.Validate(time.Now().UTC())); err != nil {
			return result{}, err
		}
		v, err := h.svc.RequestVisit(ctx, id, r)
		if err != nil {
			return result{}, err
		}
		return result{status: http.StatusCreated, location: "/api/v1/persons/" + id.String() + "/visits",
			body: toVisitResponse(v)}, nil
	})
}

type visitAnswerBody struct {
	Status        optional[string]    `json:"status"`
	VisitAt       optional[timestamp] `json:"visit_at"`
	Place         optional[string]    `json:"place"`
	RefusalReason optional[string]    `json:"refusal_reason"`
}

func (h notificationHandlers) answer(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	idempotent(c, func(ctx context.Context, body []byte) (result, error) {
		var req visitAnswerBody
		derr := decodeStrict(body, &req)
		a := consular.Answer{Status: req.Status.V, Place: req.Place.V, RefusalReason: req.RefusalReason.V}
		if t := req.VisitAt.nullable(); t != nil && *t != nil {
			a.VisitAt = (*t).timeOf()
		}
		if err := mergeInvalid(derr, a.Validate()); err != nil {
			return result{}, err
		}
		v, err := h.svc.AnswerVisit(ctx, id, a)
		if err != nil {
			return result{}, err
		}
		return result{status: http.StatusOK, body: toVisitResponse(v)}, nil
	})
}
