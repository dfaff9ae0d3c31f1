package audit

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/store"
)

// PermRead is the permission to read the audit log (ACCESS.md: admin).
const PermRead = "audit.read"

// CanRead reports whether p may read the audit log and run integrity
// checks: platform admins only.
func CanRead(p access.Principal) bool { return p.Has(access.RoleAdmin) }

// Filter selects events for List. Zero fields do not filter.
type Filter struct {
	Actor      uuid.UUID // actor user id
	Agency     uuid.UUID // actor's agency id
	Action     string
	ObjectType string
	ObjectID   string // needs ObjectType
	Case       uuid.UUID
	CaseRef    string    // a case by its reference (admins; resolved in SQL)
	Refused    bool      // only refusals: outcome denied or not_found
	From, To   time.Time // occurred_at in [From, To)
	Cursor     string    // from the previous page's Next
	Limit      int       // default 50, at most 200
}

// ActionList is the audit action of reading the audit log.
const ActionList = "audit.events.list"

func (f Filter) details() map[string]any {
	d := map[string]any{}
	if f.Refused {
		d["refused"] = true
	}
	for k, v := range map[string]string{"action": f.Action, "object_type": f.ObjectType, "object_id": f.ObjectID,
		"cursor": f.Cursor, "case_reference": f.CaseRef} {
		if v != "" {
			d[k] = v
		}
	}
	for k, v := range map[string]uuid.UUID{"actor": f.Actor, "agency": f.Agency, "case": f.Case} {
		if v != uuid.Nil {
			d[k] = v.String()
		}
	}
	for k, v := range map[string]time.Time{"from": f.From, "to": f.To} {
		if !v.IsZero() {
			d[k] = v.UTC().Format(time.RFC3339Nano)
		}
	}
	return d
}

// Item is a listed event with its tree index (nil until sequenced) and
// the labels a person reads instead of ids, resolved in SQL when the list
// is read (so they show today's names; the event itself keeps what was
// recorded). Empty when there is nothing to show.
type Item struct {
	Entry
	TreeIndex *int64
	Labels
}

// Labels name an event's ids for people: the actor's username, the
// agency's name (and Khmer name), the case's reference, and the object's
// label where it is not case content (a case's reference, an agency's or a
// user's name; never a person's name or a document's title).
type Labels struct {
	ActorUsername string `gorm:"column:actor_username"`
	AgencyName    string `gorm:"column:agency_name"`
	AgencyNameKm  string `gorm:"column:agency_name_km"`
	CaseReference string `gorm:"column:case_reference"`
	ObjectLabel   string `gorm:"column:object_label"`
}

// labelColumns resolve Labels for the rows of audit_events e: scalar
// subqueries by primary key, evaluated for the page's rows only.
const labelColumns = `,
	COALESCE((SELECT u.username FROM users u WHERE u.id = e.actor_user_id), '') AS actor_username,
	COALESCE((SELECT a.name FROM agencies a WHERE a.id = e.agency_id), '') AS agency_name,
	COALESCE((SELECT a.name_km FROM agencies a WHERE a.id = e.agency_id), '') AS agency_name_km,
	COALESCE(cb_audit_case_reference(e.case_id), '') AS case_reference,
	COALESCE(CASE WHEN e.object_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
		CASE e.object_type
			WHEN 'case' THEN cb_audit_case_reference(e.object_id::uuid)
			WHEN 'agency' THEN (SELECT a.name FROM agencies a WHERE a.id = e.object_id::uuid)
			WHEN 'user' THEN (SELECT NULLIF(u.name, '') FROM users u WHERE u.id = e.object_id::uuid)
		END END, '') AS object_label`

// Page is one page of events, newest first.
type Page struct {
	Items []Item
	Next  string // cursor of the next page; empty on the last
}

// List returns events matching f, newest first, keyset-paginated on
// (occurred_at, id). Only admins may list; the row policy agrees.
func List(ctx context.Context, f Filter) (Page, error) {
	p, _ := access.FromContext(ctx)
	if !CanRead(p) {
		if err := Record(ctx, Event{Action: ActionList, Outcome: Denied}); err != nil {
			return Page{}, err
		}
		return Page{}, fmt.Errorf("list audit events: %w", apperr.Forbidden(PermRead, "Only a platform admin may read the audit log."))
	}
	var errs apperr.Fields
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 200 {
		errs.Add("limit", "must be between 1 and 200")
	}
	if f.ObjectID != "" && f.ObjectType == "" {
		errs.Add("object_id", "needs object_type")
	}
	if len(f.CaseRef) > 100 {
		errs.Add("case_reference", "must be at most 100 characters")
	}
	if f.CaseRef != "" && f.Case != uuid.Nil {
		errs.Add("case_reference", "give either case or case_reference, not both")
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		errs.Add("to", "must be after from")
	}
	var cursorTime time.Time
	var cursorID int64
	if f.Cursor != "" {
		var ok bool
		if cursorTime, cursorID, ok = parseCursor(f.Cursor); !ok {
			errs.Add("cursor", "is not a cursor this server issued")
		}
	}
	if err := errs.Err(); err != nil {
		return Page{}, fmt.Errorf("list audit events: %w", err)
	}

	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Actor != uuid.Nil {
		where = append(where, "e.actor_user_id = "+arg(f.Actor.String()))
	}
	if f.Agency != uuid.Nil {
		where = append(where, "e.agency_id = "+arg(f.Agency.String()))
	}
	if f.Action != "" {
		where = append(where, "e.action = "+arg(f.Action))
	}
	if f.ObjectType != "" {
		where = append(where, "e.object_type = "+arg(f.ObjectType))
	}
	if f.ObjectID != "" {
		where = append(where, "e.object_id = "+arg(f.ObjectID))
	}
	if f.Case != uuid.Nil {
		where = append(where, "e.case_id = "+arg(f.Case.String()))
	}
	if f.CaseRef != "" {
		// An unknown reference matches nothing (NULL), like an unknown id.
		where = append(where, "e.case_id = cb_audit_case_id("+arg(f.CaseRef)+")")
	}
	if f.Refused {
		// Exactly the predicate of audit_events_refused_idx.
		where = append(where, "e.outcome IN ('denied', 'not_found')")
	}
	if !f.From.IsZero() {
		where = append(where, "e.occurred_at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "e.occurred_at < "+arg(f.To))
	}
	if f.Cursor != "" {
		where = append(where, "(e.occurred_at, e.id) < ("+arg(cursorTime)+"::timestamptz, "+arg(cursorID)+"::bigint)")
	}
	q := `SELECT ` + eventColumns + labelColumns + ` FROM audit_events e`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY e.occurred_at DESC, e.id DESC LIMIT " + arg(f.Limit+1)

	var page Page
	err := store.WithTx(ctx, func(ctx context.Context) error {
		var rows []labelledRow
		if err := store.DB(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
			return fmt.Errorf("list audit events: %w", err)
		}
		if len(rows) > f.Limit {
			last := rows[f.Limit-1].Row
			page.Next = formatCursor(last.OccurredAt, last.ID)
			rows = rows[:f.Limit]
		}
		ids := make([]int64, len(rows))
		for i := range rows {
			ids[i] = rows[i].Row.ID
		}
		idx, err := treeIndexes(ctx, ids)
		if err != nil {
			return err
		}
		// Reading the audit log is audited too (the filter, not the rows).
		err = Record(ctx, Event{Action: ActionList, Details: f.details()})
		if err != nil {
			return err
		}
		page.Items = make([]Item, len(rows))
		for i := range rows {
			page.Items[i].Entry = *rows[i].Row.entry()
			page.Items[i].Labels = rows[i].Labels
			if x, ok := idx[rows[i].Row.ID]; ok {
				page.Items[i].TreeIndex = &x
			}
		}
		return nil
	})
	return page, err
}

// labelledRow is the scan target for eventColumns + labelColumns.
type labelledRow struct {
	Row    row    `gorm:"embedded"`
	Labels Labels `gorm:"embedded"`
}

// A cursor is the (occurred_at, id) of the last row of a page, opaque to
// clients.
func formatCursor(t time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixMicro(), 10) + "." + strconv.FormatInt(id, 10)))
}

func parseCursor(s string) (time.Time, int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, 0, false
	}
	us, ids, ok := strings.Cut(string(b), ".")
	if !ok {
		return time.Time{}, 0, false
	}
	micros, err1 := strconv.ParseInt(us, 10, 64)
	id, err2 := strconv.ParseInt(ids, 10, 64)
	if err1 != nil || err2 != nil {
		return time.Time{}, 0, false
	}
	return time.UnixMicro(micros).UTC(), id, true
}
