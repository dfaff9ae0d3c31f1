package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casebridge/casebridge/internal/webhooks"
)

// Webhook routes (api/openapi.yaml, tag administration): an embassy's
// webhook endpoint, set by an admin, and its delivery log.
func (s *Server) webhookRoutes(api *gin.RouterGroup) {
	svc := s.deps.Webhooks
	if svc == nil {
		w := s.deps.Config.Webhooks
		svc = webhooks.NewService(nil, webhooks.Policy{AllowedHosts: w.AllowedHosts, AllowLoopback: w.AllowLoopback}, s.deps.Log)
	}
	h := webhookHandlers{svc: svc}
	api.GET("/agencies/:id/webhook", h.get)
	api.PUT("/agencies/:id/webhook", h.put)
	api.GET("/agencies/:id/webhook/deliveries", h.deliveries)
}

type webhookHandlers struct {
	svc *webhooks.Service
}

type webhookResponse struct {
	AgencyID    string     `json:"agency_id"`
	Configured  bool       `json:"configured"`
	URL         *string    `json:"url"`
	Enabled     bool       `json:"enabled"`
	SecretHint  *string    `json:"secret_hint"`
	SecretSetAt *time.Time `json:"secret_set_at"`
	UpdatedAt   *time.Time `json:"updated_at"`
	Version     int        `json:"version"`
	// Secret is the new signing secret, present only in the answer to the
	// PUT that generated it.
	Secret *string `json:"secret,omitempty"`
}

func toWebhookResponse(e webhooks.Endpoint) webhookResponse {
	r := webhookResponse{AgencyID: e.AgencyID.String(), Configured: e.Configured, Enabled: e.Enabled,
		SecretSetAt: utc(e.SecretSetAt), UpdatedAt: utc(e.UpdatedAt), Version: e.Version}
	if e.Configured {
		r.URL, r.SecretHint = &e.URL, &e.SecretHint
	}
	return r
}

func (h webhookHandlers) get(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	e, err := h.svc.Get(c.Request.Context(), id)
	if err != nil {
		Fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, toWebhookResponse(e))
}

type webhookPutBody struct {
	URL          optional[string] `json:"url"`
	Enabled      optional[bool]   `json:"enabled"`
	RotateSecret optional[bool]   `json:"rotate_secret"`
}

func (h webhookHandlers) put(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	body, err := readJSONBody(c)
	if err != nil {
		Fail(c, err)
		return
	}
	var req webhookPutBody
	if err := decodeStrict(body, &req); err != nil {
		Fail(c, err)
		return
	}
	ch := webhooks.Change{URL: req.URL.V, RotateSecret: req.RotateSecret.V}
	if req.Enabled.Set {
		ch.Enabled = &req.Enabled.V
	}
	e, secret, err := h.svc.Put(c.Request.Context(), id, ch)
	if err != nil {
		Fail(c, err)
		return
	}
	r := toWebhookResponse(e)
	if secret != "" {
		r.Secret = &secret
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, r)
}

type webhookAttemptResponse struct {
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	StatusCode *int      `json:"status_code"`
	Error      *string   `json:"error"`
	DurationMS int       `json:"duration_ms"`
}

type webhookDeliveryResponse struct {
	ID             string                   `json:"id"`
	EventType      string                   `json:"event_type"`
	Status         string                   `json:"status"`
	Attempts       int                      `json:"attempts"`
	CreatedAt      time.Time                `json:"created_at"`
	LastAttemptAt  *time.Time               `json:"last_attempt_at"`
	LastStatusCode *int                     `json:"last_status_code"`
	LastError      *string                  `json:"last_error"`
	DeliveredAt    *time.Time               `json:"delivered_at"`
	AttemptLog     []webhookAttemptResponse `json:"attempt_log"`
}

func (h webhookHandlers) deliveries(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	q := newListQuery(c)
	f := webhooks.DeliveryFilter{Limit: q.Limit, Cursor: q.Cursor}
	if err := q.err(f.Validate()); err != nil {
		Fail(c, err)
		return
	}
	pg, err := h.svc.Deliveries(c.Request.Context(), id, f)
	if err != nil {
		Fail(c, err)
		return
	}
	items := make([]webhookDeliveryResponse, len(pg.Items))
	for i, d := range pg.Items {
		items[i] = webhookDeliveryResponse{ID: d.ID.String(), EventType: d.EventType, Status: d.Status,
			Attempts: d.Attempts, CreatedAt: d.CreatedAt.UTC(), LastAttemptAt: utc(d.LastAttemptAt),
			LastStatusCode: d.LastStatusCode, LastError: d.LastError, DeliveredAt: utc(d.DeliveredAt),
			AttemptLog: make([]webhookAttemptResponse, len(d.AttemptLog))}
		for j, a := range d.AttemptLog {
			items[i].AttemptLog[j] = webhookAttemptResponse{Attempt: a.Attempt, At: a.At.UTC(), StatusCode: a.StatusCode,
				Error: a.Error, DurationMS: a.DurationMS}
		}
	}
	c.JSON(http.StatusOK, newPage(items, pg.NextCursor))
}
