package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casebridge/casebridge/internal/facilities"
)

// Facility routes (api/openapi.yaml, tag persons): the managed list of
// places where persons are held, for the person form's facility picker.
func (s *Server) facilityRoutes(api *gin.RouterGroup) {
	h := facilityHandlers{}
	api.GET("/facilities", h.list)
	api.POST("/facilities", h.create)
}

type facilityHandlers struct {
	svc facilities.Service
}

type facilityRequest struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

type facilityResponse struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
}

func toFacilityResponse(f facilities.Facility) facilityResponse {
	return facilityResponse{ID: f.ID.String(), Name: f.Name, Kind: string(f.Kind), CreatedAt: f.CreatedAt.UTC()}
}

func (h facilityHandlers) list(c *gin.Context) {
	q := newListQuery(c)
	if q.Limit != 0 || q.Cursor != "" {
		q.fields.Add("limit", "the facility list is not paginated")
	}
	if err := q.fields.Err(); err != nil {
		Fail(c, err)
		return
	}
	list, err := h.svc.List(c.Request.Context())
	if err != nil {
		Fail(c, err)
		return
	}
	items := make([]facilityResponse, len(list))
	for i, f := range list {
		items[i] = toFacilityResponse(f)
	}
	c.JSON(http.StatusOK, newPage(items, ""))
}

func (h facilityHandlers) create(c *gin.Context) {
	idempotent(c, func(ctx context.Context, body []byte) (result, error) {
		var req facilityRequest
		derr := decodeStrict(body, &req)
		n := facilities.New{Name: req.Name, Kind: facilities.Kind(req.Kind)}
		if err := mergeInvalid(derr, n.Validate()); err != nil {
			return result{}, err
		}
		f, err := h.svc.Create(ctx, n)
		if err != nil {
			return result{}, err
		}
		return result{status: http.StatusCreated, location: "/api/v1/facilities/" + f.ID.String(),
			body: toFacilityResponse(f)}, nil
	})
}
