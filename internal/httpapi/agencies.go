package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/agencies"
	"github.com/casebridge/casebridge/internal/apperr"
)

// Directory routes (api/openapi.yaml, tag administration): the agencies
// (every signed-in principal reads them, an admin writes them) and the
// users (admin).
func (s *Server) agencyRoutes(api *gin.RouterGroup) {
	h := agencyHandlers{svc: agencies.NewService(s.deps.Log)}
	api.GET("/agencies", h.list)
	api.POST("/agencies", h.create)
	api.PATCH("/agencies/:id", h.update)
	api.GET("/users", h.users)
}

type agencyHandlers struct {
	svc *agencies.Service
}

type agencyCreateRequest struct {
	Code    string  `json:"code"`
	Name    string  `json:"name"`
	NameKm  string  `json:"name_km"`
	Kind    string  `json:"kind"`
	Country *string `json:"country"`
	Enabled *bool   `json:"enabled"`
}

type agencyPatchRequest struct {
	Name    optional[string] `json:"name"`
	NameKm  optional[string] `json:"name_km"`
	Country optional[string] `json:"country"`
	Enabled optional[bool]   `json:"enabled"`
}

type agencyResponse struct {
	ID        string    `json:"id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	NameKm    string    `json:"name_km"`
	Kind      string    `json:"kind"`
	Country   *string   `json:"country"`
	Enabled   bool      `json:"enabled"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toAgencyResponse(a agencies.Agency) agencyResponse {
	return agencyResponse{ID: a.ID.String(), Code: a.Code, Name: a.Name, NameKm: a.NameKm, Kind: string(a.Kind),
		Country: a.Country,
		Enabled: a.Enabled, Version: a.Version, CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
}

type userResponse struct {
	ID           string            `json:"id"`
	Issuer       string            `json:"issuer"`
	Subject      string            `json:"subject"`
	Name         string            `json:"name"`
	Username     string            `json:"username"`
	Email        string            `json:"email"`
	Agency       agencyRefResponse `json:"agency"`
	Roles        []string          `json:"roles"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
	LastSignInAt *time.Time        `json:"last_sign_in_at"`
}

func (h agencyHandlers) list(c *gin.Context) {
	q := newListQuery(c, "kind")
	if q.Limit != 0 || q.Cursor != "" {
		q.fields.Add("limit", "the agency list is not paginated")
	}
	if err := q.fields.Err(); err != nil {
		Fail(c, err)
		return
	}
	list, err := h.svc.List(c.Request.Context(), access.Kind(c.Query("kind")))
	if err != nil {
		Fail(c, err)
		return
	}
	items := make([]agencyResponse, len(list))
	for i, a := range list {
		items[i] = toAgencyResponse(a)
	}
	c.JSON(http.StatusOK, newPage(items, ""))
}

func (h agencyHandlers) create(c *gin.Context) {
	idempotent(c, func(ctx context.Context, body []byte) (result, error) {
		var req agencyCreateRequest
		derr := decodeStrict(body, &req)
		n := agencies.NewAgency{Code: req.Code, Name: req.Name, NameKm: req.NameKm, Kind: access.Kind(req.Kind), Enabled: true}
		if req.Country != nil {
			n.Country = *req.Country
		}
		if req.Enabled != nil {
			n.Enabled = *req.Enabled
		}
		if err := mergeInvalid(derr, n.Validate()); err != nil {
			return result{}, err
		}
		a, err := h.svc.Create(ctx, n)
		if err != nil {
			return result{}, err
		}
		return result{status: http.StatusCreated, location: "/api/v1/agencies/" + a.ID.String(),
			etag: versionETag(a.ID, a.Version), body: toAgencyResponse(a)}, nil
	})
}

func (h agencyHandlers) update(c *gin.Context) {
	id, ok := paramUUID(c, "id")
	if !ok {
		return
	}
	body, err := readJSONBody(c)
	if err != nil {
		Fail(c, err)
		return
	}
	var req agencyPatchRequest
	derr := decodeStrict(body, &req)
	var fs apperr.Fields
	req.Name.notNull(&fs, "name")
	req.NameKm.notNull(&fs, "name_km")
	req.Enabled.notNull(&fs, "enabled")
	p := agencies.Patch{Name: req.Name.ptr(), NameKm: req.NameKm.ptr(), Country: req.Country.ptr(), Enabled: req.Enabled.ptr()}
	if err := mergeInvalid(derr, fs.Err()); err != nil {
		Fail(c, err)
		return
	}
	version, err := ifMatchVersion(c, id)
	if err != nil {
		Fail(c, err)
		return
	}
	a, err := h.svc.Update(c.Request.Context(), id, version, p)
	if err != nil {
		Fail(c, err)
		return
	}
	c.Header("ETag", versionETag(a.ID, a.Version))
	c.JSON(http.StatusOK, toAgencyResponse(a))
}

func (h agencyHandlers) users(c *gin.Context) {
	q := newListQuery(c, "agency")
	if err := q.fields.Err(); err != nil {
		Fail(c, err)
		return
	}
	pg, err := h.svc.Users(c.Request.Context(), agencies.UserFilter{Agency: c.Query("agency"), Limit: q.Limit, Cursor: q.Cursor})
	if err != nil {
		Fail(c, err)
		return
	}
	items := make([]userResponse, len(pg.Items))
	for i, u := range pg.Items {
		items[i] = userResponse{ID: u.ID.String(), Issuer: u.Issuer, Subject: u.Subject, Name: u.Name,
			Username: u.Username, Email: u.Email, Roles: u.Roles, CreatedAt: u.CreatedAt.UTC(),
			UpdatedAt: u.UpdatedAt.UTC(), LastSignInAt: utc(u.LastSignIn),
			Agency: agencyRefResponse{ID: u.Agency.ID.String(), Code: u.Agency.Code, Name: u.Agency.Name,
				Kind: string(u.Agency.Kind)}}
	}
	c.JSON(http.StatusOK, newPage(items, pg.NextCursor))
}
