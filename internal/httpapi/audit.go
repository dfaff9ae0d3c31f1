package httpapi

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/audit"
)

// Audit routes (api/openapi.yaml, tag audit). The checkpoint, the proofs and
// the key are for every signed-in principal (partner agencies' witnesses);
// the events and the integrity check are for platform admins.
func (s *Server) auditRoutes(api *gin.RouterGroup) {
	h := auditHandlers{key: s.deps.AuditVerifierKey}
	api.GET("/audit/events", h.list)
	api.GET("/audit/checkpoint", h.checkpoint)
	api.GET("/audit/key", h.verifierKey)
	api.GET("/audit/proof/inclusion", h.inclusion)
	api.GET("/audit/proof/consistency", h.consistency)
	api.GET("/audit/verify", h.verify)
}

type auditHandlers struct {
	key string // the checkpoint verifier key; empty when no signing key is configured
}

// auditEventResponse is api/openapi.yaml's AuditEvent.
type auditEventResponse struct {
	ID           int64   `json:"id"`
	Time         string  `json:"time"`
	ActorUserID  *string `json:"actor_user_id"`
	ActorIssuer  string  `json:"actor_issuer"`
	ActorSubject string  `json:"actor_subject"`
	ActorName    string  `json:"actor_name"`
	AgencyID     *string `json:"agency_id"`
	AgencyCode   string  `json:"agency_code"`
	Action       string  `json:"action"`
	ObjectType   string  `json:"object_type"`
	ObjectID     string  `json:"object_id"`
	CaseID       *string `json:"case_id"`
	Outcome      string  `json:"outcome"`
	RequestID    string  `json:"request_id"`
	ClientAddr   string  `json:"client_addr"`
	Details      rawJSON `json:"details"`
	TreeIndex    *int64  `json:"tree_index"`
	Leaf         string  `json:"leaf"`
	// Labels for people (resolved in SQL when the list is read).
	ActorUsername string `json:"actor_username"`
	AgencyName    string `json:"agency_name"`
	AgencyNameKm  string `json:"agency_name_km"`
	CaseReference string `json:"case_reference"`
	ObjectLabel   string `json:"object_label"`
}

// rawJSON is stored JSON passed through as is.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) {
	if r == "" {
		return []byte("{}"), nil
	}
	return []byte(r), nil
}

func optUUID(u uuid.UUID) *string {
	if u == uuid.Nil {
		return nil
	}
	s := u.String()
	return &s
}

func auditEventFrom(it audit.Item) auditEventResponse {
	return auditEventResponse{
		ID: it.ID, Time: it.Time.UTC().Format(audit.TimeFormat),
		ActorUserID: optUUID(it.ActorUserID), ActorIssuer: it.ActorIssuer, ActorSubject: it.ActorSubject,
		ActorName: it.ActorName, AgencyID: optUUID(it.AgencyID), AgencyCode: it.AgencyCode,
		Action: it.Action, ObjectType: it.ObjectType, ObjectID: it.ObjectID, CaseID: optUUID(it.CaseID),
		Outcome: string(it.Outcome), RequestID: it.RequestID, ClientAddr: it.ClientAddr,
		Details: rawJSON(it.Details), TreeIndex: it.TreeIndex,
		Leaf:          base64.StdEncoding.EncodeToString(audit.EncodeLeaf(&it.Entry)),
		ActorUsername: it.ActorUsername, AgencyName: it.AgencyName, AgencyNameKm: it.AgencyNameKm,
		CaseReference: it.CaseReference, ObjectLabel: it.ObjectLabel,
	}
}

type auditEventList struct {
	Items      []auditEventResponse `json:"items"`
	NextCursor string               `json:"next_cursor,omitempty"`
}

// list answers GET /api/v1/audit/events (admin).
func (h auditHandlers) list(c *gin.Context) {
	f, err := auditFilterFrom(c)
	if err != nil {
		Fail(c, err)
		return
	}
	if wantsCSV(c) {
		streamCSV(c, "audit-events.csv", auditCSVColumns, func(cursor string) ([]auditEventResponse, string, error) {
			f.Cursor, f.Limit = cursor, exportPageSize
			page, err := audit.List(c.Request.Context(), f)
			items := make([]auditEventResponse, len(page.Items))
			for i, it := range page.Items {
				items[i] = auditEventFrom(it)
			}
			return items, page.Next, err
		})
		return
	}
	page, err := audit.List(c.Request.Context(), f)
	if err != nil {
		Fail(c, err)
		return
	}
	out := auditEventList{Items: make([]auditEventResponse, len(page.Items)), NextCursor: page.Next}
	for i, it := range page.Items {
		out.Items[i] = auditEventFrom(it)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

func auditFilterFrom(c *gin.Context) (audit.Filter, error) {
	var errs apperr.Fields
	f := audit.Filter{
		Action: c.Query("action"), ObjectType: c.Query("object_type"), ObjectID: c.Query("object_id"),
		CaseRef: strings.TrimSpace(c.Query("case_reference")), Cursor: c.Query("cursor"),
	}
	switch c.Query("refused") {
	case "", "false":
	case "true":
		f.Refused = true
	default:
		errs.Add("refused", "must be true or false")
	}
	if v := c.Query("format"); v != "" && v != "json" && v != "csv" {
		errs.Add("format", "must be json or csv")
	}
	for _, u := range []struct {
		name string
		dst  *uuid.UUID
	}{{"actor", &f.Actor}, {"agency", &f.Agency}, {"case", &f.Case}} {
		if v := c.Query(u.name); v != "" {
			id, err := uuid.Parse(v)
			if err != nil {
				errs.Add(u.name, "must be a UUID")
				continue
			}
			*u.dst = id
		}
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := c.Query(t.name); v != "" {
			ts, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				errs.Add(t.name, "must be an RFC 3339 time, e.g. 2025-01-31T00:00:00Z")
				continue
			}
			*t.dst = ts
		}
	}
	f.Limit = parseLimit(c, &errs)
	return f, errs.Err()
}

// auditCSVColumns are the audit export's columns: the event as recorded,
// then the labels for people.
var auditCSVColumns = []string{"id", "time", "actor_user_id", "actor_name", "actor_username", "agency_code",
	"agency_name", "action", "object_type", "object_id", "object_label", "case_id", "case_reference", "outcome",
	"request_id", "client_addr", "tree_index", "details"}

// checkpoint answers GET /api/v1/audit/checkpoint: the latest signed
// checkpoint note, text/plain.
func (h auditHandlers) checkpoint(c *gin.Context) {
	msg, err := audit.Latest(c.Request.Context())
	if err != nil {
		Fail(c, err)
		return
	}
	if msg == nil {
		Fail(c, apperr.With(apperr.ErrNotFound, "The audit log has no checkpoint yet."))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/plain; charset=utf-8", msg)
}

// verifierKey answers GET /api/v1/audit/key: the note verifier key.
func (h auditHandlers) verifierKey(c *gin.Context) {
	if h.key == "" {
		Problemf(c, http.StatusServiceUnavailable, "audit-not-configured", "Audit signing not configured",
			"This server has no audit signing key (setting audit.signing_key).")
		return
	}
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(h.key+"\n"))
}

func queryInt64(c *gin.Context, errs *apperr.Fields, name string) int64 {
	v := c.Query(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		errs.Add(name, "must be a whole number")
	}
	return n
}

type proofResponse struct {
	Index    *int64      `json:"index,omitempty"`
	Size     *int64      `json:"size,omitempty"`
	From     *int64      `json:"from,omitempty"`
	To       *int64      `json:"to,omitempty"`
	LeafHash *tlog.Hash  `json:"leaf_hash,omitempty"`
	Hashes   []tlog.Hash `json:"hashes"`
}

// inclusion answers GET /api/v1/audit/proof/inclusion?index=I&size=N.
func (h auditHandlers) inclusion(c *gin.Context) {
	var errs apperr.Fields
	index, size := queryInt64(c, &errs, "index"), queryInt64(c, &errs, "size")
	if err := errs.Err(); err != nil {
		Fail(c, err)
		return
	}
	proof, leaf, err := audit.InclusionProof(c.Request.Context(), index, size)
	if err != nil {
		Fail(c, err)
		return
	}
	if proof == nil {
		proof = tlog.RecordProof{}
	}
	c.JSON(http.StatusOK, proofResponse{Index: &index, Size: &size, LeafHash: &leaf, Hashes: proof})
}

// consistency answers GET /api/v1/audit/proof/consistency?from=M&to=N.
func (h auditHandlers) consistency(c *gin.Context) {
	var errs apperr.Fields
	from, to := queryInt64(c, &errs, "from"), queryInt64(c, &errs, "to")
	if err := errs.Err(); err != nil {
		Fail(c, err)
		return
	}
	proof, err := audit.ConsistencyProof(c.Request.Context(), from, to)
	if err != nil {
		Fail(c, err)
		return
	}
	if proof == nil {
		proof = tlog.TreeProof{}
	}
	c.JSON(http.StatusOK, proofResponse{From: &from, To: &to, Hashes: proof})
}

// verify answers GET /api/v1/audit/verify (admin): recompute and check the
// whole log. It reads every event; for a large log prefer the CLI.
func (h auditHandlers) verify(c *gin.Context) {
	p, _ := access.FromContext(c.Request.Context())
	if !audit.CanRead(p) {
		if err := audit.Record(c.Request.Context(), audit.Event{Action: "audit.verify", Outcome: audit.Denied}); err != nil {
			Fail(c, err)
			return
		}
		Fail(c, apperr.Forbidden(audit.PermRead, "Only a platform admin may run integrity checks."))
		return
	}
	if h.key == "" {
		Problemf(c, http.StatusServiceUnavailable, "audit-not-configured", "Audit signing not configured",
			"This server has no audit signing key (setting audit.signing_key).")
		return
	}
	rep, err := audit.Verify(c.Request.Context(), audit.VerifyOptions{VerifierKey: h.key})
	if err != nil {
		Fail(c, err)
		return
	}
	outcome := audit.OK
	if !rep.OK {
		outcome = audit.Error
	}
	if err := audit.Record(c.Request.Context(), audit.Event{Action: "audit.verify", Outcome: outcome,
		Details: map[string]any{"size": rep.Size, "ok": rep.OK}}); err != nil {
		Fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, rep)
}
