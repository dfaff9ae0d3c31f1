package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/documents"
)

// Document routes. Uploads are multipart/form-data with a "metadata" part
// (JSON) first and then a "file" part, so the metadata and the caller's
// permission are checked before a byte of the file is read; the file is
// streamed to storage while it arrives.
func (s *Server) documentRoutes(api *gin.RouterGroup) {
	if s.deps.Documents == nil {
		return
	}
	h := documentHandlers{svc: s.deps.Documents}
	api.POST("/cases/:id/documents", h.upload)
	api.GET("/cases/:id/documents", h.listByCase)
	api.GET("/persons/:id/documents", h.listByPerson)
	api.GET("/documents/:id", h.get)
	api.POST("/documents/:id/versions", h.addVersion)
	api.POST("/documents/:id/withdraw", h.withdraw)
	api.GET("/documents/:id/content", h.content)
	api.HEAD("/documents/:id/content", h.content)
}

func init() {
	// Uploads stream under the documents' own size limit, not the general
	// body cap.
}

type documentHandlers struct {
	svc *documents.Service
}

// Request and response shapes (api/openapi.yaml: Document, DocumentMetadata).

type documentMetadataRequest struct {
	Title              string  `json:"title"`
	Kind               string  `json:"kind"`
	Classification     string  `json:"classification"`
	ConsularReleasable bool    `json:"consular_releasable"`
	PersonID           *string `json:"person_id"`
}

func (r documentMetadataRequest) metadata() (documents.Metadata, error) {
	m := documents.Metadata{
		Title: r.Title, Kind: r.Kind, Classification: access.Classification(r.Classification),
		ConsularReleasable: r.ConsularReleasable,
	}
	if r.PersonID != nil {
		id, err := uuid.Parse(*r.PersonID)
		if err != nil {
			return m, apperr.Invalid("person_id", "must be a UUID")
		}
		m.PersonID = &id
	}
	return m, nil
}

type withdrawRequest struct {
	Reason string `json:"reason"`
}

type versionResponse struct {
	Version   int       `json:"version"`
	SHA256    string    `json:"sha256"`
	Size      int64     `json:"size"`
	MediaType string    `json:"media_type"`
	Filename  string    `json:"filename"`
	CreatedBy *string   `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

type withdrawalResponse struct {
	At     time.Time `json:"at"`
	By     *string   `json:"by,omitempty"`
	Reason string    `json:"reason"`
}

type documentResponse struct {
	ID                 string              `json:"id"`
	CaseID             *string             `json:"case_id,omitempty"`
	PersonID           *string             `json:"person_id"`
	Title              string              `json:"title"`
	Kind               string              `json:"kind"`
	Classification     string              `json:"classification"`
	ConsularReleasable bool                `json:"consular_releasable"`
	Version            int                 `json:"version"`
	Revision           int                 `json:"revision"`
	SHA256             string              `json:"sha256"`
	Size               int64               `json:"size"`
	MediaType          string              `json:"media_type"`
	Filename           string              `json:"filename"`
	Withdrawn          *withdrawalResponse `json:"withdrawn"`
	CreatedBy          *string             `json:"created_by,omitempty"`
	CreatedAt          time.Time           `json:"created_at"`
	UpdatedAt          time.Time           `json:"updated_at"`
	Versions           []versionResponse   `json:"versions,omitempty"`
}

type documentPage struct {
	Items      []documentResponse `json:"items"`
	NextCursor string             `json:"next_cursor,omitempty"`
}

func optID(id uuid.UUID) *string {
	if id == uuid.Nil {
		return nil
	}
	s := id.String()
	return &s
}

func toVersionResponse(v documents.Version) versionResponse {
	return versionResponse{Version: v.Number, SHA256: v.SHA256, Size: v.Size, MediaType: v.MediaType,
		Filename: v.Filename, CreatedBy: optID(v.CreatedBy), CreatedAt: v.CreatedAt.UTC()}
}

func toDocumentResponse(d documents.Document) documentResponse {
	r := documentResponse{
		ID: d.ID.String(), CaseID: optID(d.CaseID), Title: d.Title, Kind: d.Kind,
		Classification: string(d.Classification), ConsularReleasable: d.ConsularReleasable,
		Version: d.CurrentVersion, Revision: d.Revision,
		SHA256: d.Current.SHA256, Size: d.Current.Size, MediaType: d.Current.MediaType, Filename: d.Current.Filename,
		CreatedBy: optID(d.CreatedBy), CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
	}
	if d.PersonID != nil {
		r.PersonID = optID(*d.PersonID)
	}
	if d.Withdrawal != nil {
		r.Withdrawn = &withdrawalResponse{At: d.Withdrawal.At.UTC(), By: optID(d.Withdrawal.By), Reason: d.Withdrawal.Reason}
	}
	for _, v := range d.Versions {
		r.Versions = append(r.Versions, toVersionResponse(v))
	}
	return r
}

// documentETag is the ETag of a document's metadata (its revision); the
// content's ETag is its SHA-256.
func documentETag(d documents.Document) string { return `"` + strconv.Itoa(d.Revision) + `"` }

func pathID(c *gin.Context) (uuid.UUID, bool) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		// Not a UUID: no such object.
		Fail(c, apperr.With(apperr.ErrNotFound, "No such resource."))
		return uuid.Nil, false
	}
	return id, true
}

// uploadReadBuffer is the read buffer under an upload's multipart reader.
const uploadReadBuffer = 256 << 10

// maxMetadataBytes bounds the metadata part.
const maxMetadataBytes = 64 << 10

// multipartSlack is what a multipart body may carry beyond the file (part
// headers, boundaries, metadata) before its declared length alone tells
// that the file is too large.
const multipartSlack = 1 << 20

// uploadReader opens the multipart body and decodes the metadata part (if
// wantMetadata) without touching the file part.
func (h documentHandlers) uploadReader(c *gin.Context, wantMetadata bool) (*multipart.Reader, *documentMetadataRequest, error) {
	mt, params, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, nil, apperr.With(apperr.ErrUnsupportedMediaType, "Send the upload as multipart/form-data.")
	}
	if c.Request.ContentLength > h.svc.MaxSize()+multipartSlack {
		return nil, nil, apperr.With(apperr.ErrTooLarge, "The file exceeds the limit of %d bytes; nothing was kept.", h.svc.MaxSize())
	}
	// The multipart reader refills 4 KiB at a time; a larger buffer below it
	// turns that into large reads from the connection.
	mr := multipart.NewReader(bufio.NewReaderSize(LargeBody(c), uploadReadBuffer), params["boundary"])
	if !wantMetadata {
		return mr, nil, nil
	}
	part, err := mr.NextRawPart()
	if err != nil {
		return nil, nil, apperr.Invalid("metadata", "the body must start with a metadata part")
	}
	if part.FormName() != "metadata" {
		return nil, nil, apperr.Invalid("metadata", "must be the first part, before the file")
	}
	data, err := io.ReadAll(io.LimitReader(part, maxMetadataBytes+1))
	if err != nil {
		if errors.Is(err, errTruncated) || errors.Is(err, errSlowBody) {
			return nil, nil, err
		}
		return nil, nil, apperr.Invalid("metadata", "could not be read")
	}
	c.Set(uploadMetadataKey, data)
	if len(data) > maxMetadataBytes {
		return nil, nil, apperr.Invalid("metadata", "must be at most %d bytes", maxMetadataBytes)
	}
	var req documentMetadataRequest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, nil, prefixField("metadata", jsonError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, apperr.Invalid("metadata", "must hold exactly one JSON object")
	}
	return mr, &req, nil
}

// prefixField puts the metadata part's name before JSON field errors.
func prefixField(prefix string, err error) error {
	var ve *apperr.ValidationError
	if errors.As(err, &ve) {
		out := make(apperr.Fields, len(ve.Fields))
		for i, f := range ve.Fields {
			out[i] = apperr.FieldError{Field: prefix + "." + f.Field, Message: f.Message, Code: f.Code}
			if f.Field == "body" {
				out[i].Field = prefix
			}
		}
		return out.Err()
	}
	return err
}

// filePart returns a FileFunc that advances mr to the "file" part.
func filePart(mr *multipart.Reader) documents.FileFunc {
	return func() (documents.File, error) {
		part, err := mr.NextRawPart()
		if err != nil {
			return documents.File{}, apperr.Invalid("file", "is required (a part named file after the metadata)")
		}
		if part.FormName() != "file" {
			return documents.File{}, apperr.Invalid("file", "expected a part named file, got %q", part.FormName())
		}
		// The raw filename parameter (part.FileName would already cut it);
		// the service sanitises it. A header that does not parse gives none.
		var name string
		if _, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition")); err == nil {
			name = params["filename"]
		}
		return documents.File{Name: name, Body: part}, nil
	}
}

func (h documentHandlers) upload(c *gin.Context) {
	caseID, ok := pathID(c)
	if !ok {
		return
	}
	mr, req, err := h.uploadReader(c, true)
	if err != nil {
		Fail(c, err)
		return
	}
	meta, err := req.metadata()
	if err != nil {
		Fail(c, err)
		return
	}
	build := func(doc documents.Document) result {
		return result{status: http.StatusCreated, location: "/api/v1/documents/" + doc.ID.String(),
			etag: documentETag(doc), body: toDocumentResponse(doc)}
	}
	ctx, idem, ok := withUploadKey(c, build)
	if !ok {
		return
	}
	doc, err := h.svc.Create(ctx, caseID, meta, filePart(mr))
	answerUpload(c, idem, doc, err, build)
}

func (h documentHandlers) addVersion(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	rev, err := documents.ParseRevision(c.GetHeader("If-Match"))
	if err != nil {
		Fail(c, err)
		return
	}
	mr, _, err := h.uploadReader(c, false)
	if err != nil {
		Fail(c, err)
		return
	}
	build := func(doc documents.Document) result {
		return result{status: http.StatusCreated,
			location: "/api/v1/documents/" + doc.ID.String() + "/content?version=" + strconv.Itoa(doc.CurrentVersion),
			etag:     documentETag(doc), body: toDocumentResponse(doc)}
	}
	ctx, idem, ok := withUploadKey(c, build)
	if !ok {
		return
	}
	doc, err := h.svc.AddVersion(ctx, id, rev, filePart(mr))
	answerUpload(c, idem, doc, err, build)
}

func listFilter(c *gin.Context) (documents.ListFilter, error) {
	var fs apperr.Fields
	f := documents.ListFilter{Cursor: c.Query("cursor"), Limit: parseLimit(c, &fs),
		Kind: c.Query("kind"), Title: c.Query("q")}
	if v := c.Query("person"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			fs.Add("person", "must be a person id (UUID)")
		}
		f.About = id
	}
	return f, fs.Err()
}

func (h documentHandlers) listByCase(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	h.list(c, func(f *documents.ListFilter) { f.CaseID = id })
}

func (h documentHandlers) listByPerson(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	h.list(c, func(f *documents.ListFilter) { f.PersonID = id })
}

func (h documentHandlers) list(c *gin.Context, set func(*documents.ListFilter)) {
	f, err := listFilter(c)
	if err != nil {
		Fail(c, err)
		return
	}
	set(&f)
	page, err := h.svc.List(c.Request.Context(), f)
	if err != nil {
		Fail(c, err)
		return
	}
	out := documentPage{Items: make([]documentResponse, 0, len(page.Items)), NextCursor: page.NextCursor}
	for _, d := range page.Items {
		out.Items = append(out.Items, toDocumentResponse(d))
	}
	c.JSON(http.StatusOK, out)
}

func (h documentHandlers) get(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	doc, err := h.svc.Get(c.Request.Context(), id)
	if err != nil {
		Fail(c, err)
		return
	}
	c.Header("ETag", documentETag(doc))
	c.JSON(http.StatusOK, toDocumentResponse(doc))
}

func (h documentHandlers) withdraw(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	rev, err := documents.ParseRevision(c.GetHeader("If-Match"))
	if err != nil {
		Fail(c, err)
		return
	}
	var req withdrawRequest
	if err := DecodeJSON(c, &req); err != nil {
		Fail(c, err)
		return
	}
	doc, err := h.svc.Withdraw(c.Request.Context(), id, req.Reason, rev)
	if err != nil {
		Fail(c, err)
		return
	}
	c.Header("ETag", documentETag(doc))
	c.JSON(http.StatusOK, toDocumentResponse(doc))
}

// content serves a version's bytes: Range, If-Range, If-None-Match and HEAD
// as net/http does them, the SHA-256 as ETag, and headers that stop a
// browser from rendering the bytes in the portal's origin.
func (h documentHandlers) content(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	n := 0
	if v := c.Query("version"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			Fail(c, apperr.Invalid("version", "must be a version number (1, 2, …)"))
			return
		}
	}
	content, err := h.svc.Open(c.Request.Context(), id, n)
	if err != nil {
		Fail(c, err)
		return
	}
	defer content.Body.Close()
	hdr := c.Writer.Header()
	hdr.Set("ETag", `"`+content.Version.SHA256+`"`)
	hdr.Set("Content-Type", content.Version.MediaType)
	hdr.Set("Content-Disposition", ContentDisposition(content.Version.Filename))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "private, no-store")
	hdr.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hdr.Set("Cross-Origin-Resource-Policy", "same-origin")
	http.ServeContent(&rangeProblemWriter{ResponseWriter: c.Writer, c: c}, c.Request, "", time.Time{}, content.Body)
}

// ContentDisposition builds an attachment header for a file name (RFC 6266):
// an ASCII-only filename= for old clients and the exact name as
// filename* in UTF-8 (RFC 8187).
func ContentDisposition(name string) string {
	var ascii, ext strings.Builder
	for _, r := range name {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '%' || r == ';' {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	for _, b := range []byte(name) {
		if isAttrChar(b) {
			ext.WriteByte(b)
		} else {
			fmt.Fprintf(&ext, "%%%02X", b)
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + ext.String()
}

// isAttrChar is RFC 8187's attr-char.
func isAttrChar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", b) >= 0
}
