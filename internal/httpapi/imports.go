package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/imports"
)

// Import routes (api/openapi.yaml, tag imports): upload and validate a
// file of persons for a case, read the report, commit all rows or none.
func (s *Server) importRoutes(api *gin.RouterGroup) {
	cfg := s.deps.Config.Imports
	h := importHandlers{svc: imports.NewService(imports.LimitsFrom(cfg), s.deps.Config.Consular.MandatoryCountries, s.deps.Log)}
	api.GET("/imports/template.csv", h.templateCSV)
	api.GET("/imports/template.xlsx", h.templateXLSX)
	api.POST("/imports", h.create)
	api.GET("/imports/:id", h.get)
	api.POST("/imports/:id/commit", h.commit)
}

type importHandlers struct {
	svc *imports.Service
}

type importMetadataRequest struct {
	CaseID string `json:"case_id"`
}

type importErrorResponse struct {
	Line   int    `json:"line"`
	Column string `json:"column"`
	Reason string `json:"reason"`
}

type importMatchResponse struct {
	Line          int    `json:"line"`
	PersonID      string `json:"person_id"`
	AlreadyLinked bool   `json:"already_linked"`
}

type importResultResponse struct {
	Created       []string `json:"created"`
	Linked        []string `json:"linked"`
	AlreadyLinked []string `json:"already_linked"`
}

type importResponse struct {
	ID          string                `json:"id"`
	CaseID      string                `json:"case_id"`
	Filename    string                `json:"filename"`
	Format      string                `json:"format"`
	SHA256      string                `json:"sha256"`
	Size        int64                 `json:"size"`
	Status      string                `json:"status"`
	TotalRows   int                   `json:"total_rows"`
	BadRows     int                   `json:"bad_rows"`
	Errors      []importErrorResponse `json:"errors"`
	Matches     []importMatchResponse `json:"matches"`
	Result      *importResultResponse `json:"result"`
	CreatedAt   string                `json:"created_at"`
	CommittedAt *string               `json:"committed_at"`
	Progress    importProgress        `json:"progress"`
	CommitError *string               `json:"commit_error"`
}

// importProgress is a background commit's work done (rows written and
// linked) of its total; both 0 before a commit is asked for.
type importProgress struct {
	Done  int `json:"done"`
	Total int `json:"total"`
}

func ids(vs []uuid.UUID) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return out
}

func toImportResponse(im imports.Import) importResponse {
	r := importResponse{ID: im.ID.String(), CaseID: im.CaseID.String(), Filename: im.Filename, Format: string(im.Format),
		SHA256: im.SHA256, Size: im.Size, Status: im.Status, TotalRows: im.TotalRows, BadRows: im.BadRows(),
		Errors: []importErrorResponse{}, Matches: []importMatchResponse{}, CreatedAt: im.CreatedAt.UTC().Format(time.RFC3339),
		Progress: importProgress{Done: im.ProgressDone, Total: im.ProgressTotal}}
	if im.CommitError != "" {
		r.CommitError = &im.CommitError
	}
	for _, e := range im.Errors {
		r.Errors = append(r.Errors, importErrorResponse(e))
	}
	for _, m := range im.Matches {
		r.Matches = append(r.Matches, importMatchResponse{Line: m.Line, PersonID: m.PersonID.String(), AlreadyLinked: m.AlreadyLinked})
	}
	if im.Result != nil {
		r.Result = &importResultResponse{Created: ids(im.Result.Created), Linked: ids(im.Result.Linked),
			AlreadyLinked: ids(im.Result.AlreadyLinked)}
	}
	if im.CommittedAt != nil {
		t := im.CommittedAt.UTC().Format(time.RFC3339)
		r.CommittedAt = &t
	}
	return r
}

func (h importHandlers) templateCSV(c *gin.Context) {
	c.Header("Content-Disposition", `attachment; filename="casebridge-import-template.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", imports.TemplateCSV())
}

func (h importHandlers) templateXLSX(c *gin.Context) {
	b, err := imports.TemplateXLSX()
	if err != nil {
		Fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="casebridge-import-template.xlsx"`)
	c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b)
}

// importReader opens the multipart body and decodes the metadata part.
func (h importHandlers) importReader(c *gin.Context) (*multipart.Reader, uuid.UUID, error) {
	mt, params, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, uuid.Nil, apperr.With(apperr.ErrUnsupportedMediaType, "Send the import as multipart/form-data: a metadata part, then the file.")
	}
	lim := h.svc.Limits().MaxBytes
	if c.Request.ContentLength > lim+multipartSlack {
		return nil, uuid.Nil, apperr.With(apperr.ErrTooLarge, "The import file exceeds the limit of %d bytes; nothing was kept.", lim)
	}
	body := http.MaxBytesReader(c.Writer, LargeBody(c), lim+multipartSlack)
	mr := multipart.NewReader(bufio.NewReaderSize(body, 64<<10), params["boundary"])
	part, err := mr.NextRawPart()
	if err != nil {
		return nil, uuid.Nil, apperr.Invalid("metadata", "the body must start with a metadata part")
	}
	if part.FormName() != "metadata" {
		return nil, uuid.Nil, apperr.Invalid("metadata", "must be the first part, before the file")
	}
	data, err := io.ReadAll(io.LimitReader(part, maxMetadataBytes+1))
	if err != nil || len(data) > maxMetadataBytes {
		return nil, uuid.Nil, apperr.Invalid("metadata", "could not be read (at most %d bytes)", maxMetadataBytes)
	}
	var req importMetadataRequest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, uuid.Nil, prefixField("metadata", jsonError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, uuid.Nil, apperr.Invalid("metadata", "must hold exactly one JSON object")
	}
	id, err := uuid.Parse(req.CaseID)
	if err != nil {
		return nil, uuid.Nil, apperr.Invalid("metadata.case_id", "is required: the id of the case to import into")
	}
	return mr, id, nil
}

func (h importHandlers) create(c *gin.Context) {
	mr, caseID, err := h.importReader(c)
	if err != nil {
		Fail(c, err)
		return
	}
	im, err := h.svc.Create(c.Request.Context(), caseID, func() (imports.File, error) {
		part, err := mr.NextRawPart()
		if err != nil {
			return imports.File{}, apperr.Invalid("file", "is required (a part named file after the metadata)")
		}
		if part.FormName() != "file" {
			return imports.File{}, apperr.Invalid("file", "expected a part named file, got %q", part.FormName())
		}
		var name string
		if _, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition")); err == nil {
			name = params["filename"]
		}
		return imports.File{Name: name, Body: part}, nil
	})
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = apperr.With(apperr.ErrTooLarge, "The import file exceeds the limit of %d bytes; nothing was kept.", h.svc.Limits().MaxBytes)
		}
		Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/imports/"+im.ID.String())
	c.JSON(http.StatusCreated, toImportResponse(im))
}

func (h importHandlers) get(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	im, err := h.svc.Get(c.Request.Context(), id)
	if err != nil {
		Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toImportResponse(im))
}

type importCommitRequest struct {
	LinkExisting bool `json:"link_existing"`
}

func (h importHandlers) commit(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	var req importCommitRequest
	if c.Request.ContentLength != 0 {
		if err := DecodeJSON(c, &req); err != nil {
			Fail(c, err)
			return
		}
	}
	im, err := h.svc.Commit(c.Request.Context(), id, req.LinkExisting)
	if err != nil {
		Fail(c, err)
		return
	}
	if im.Status == imports.StatusCommitting {
		c.Header("Location", "/api/v1/imports/"+im.ID.String())
		c.JSON(http.StatusAccepted, toImportResponse(im)) // a background job commits it: poll the import
		return
	}
	c.JSON(http.StatusOK, toImportResponse(im))
}
