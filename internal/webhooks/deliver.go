package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/jobs"
	"github.com/casebridge/casebridge/internal/store"
)

// Deliverer turns outbox events into deliveries and sends them. Both are
// River jobs (registered in internal/app/jobs.go): DispatchArgs, a
// periodic job the elected instance schedules, and DeliverArgs, one per
// delivery, retried with exponential backoff.
type Deliverer struct {
	DB          *gorm.DB
	Sealer      *Sealer // nil: nothing can be signed; deliveries wait
	Policy      Policy
	Timeout     time.Duration
	RetryBase   time.Duration
	MaxAttempts int
	Log         *slog.Logger
	// Now is the clock of the signatures; nil is time.Now.
	Now func() time.Time

	client *http.Client
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Deliverer) httpClient() *http.Client {
	if d.client == nil {
		d.client = d.Policy.Client(d.Timeout)
	}
	return d.client
}

// systemTx runs fn in a transaction marked as the webhook system's (it
// reads the outbox and secrets, and writes the log).
func (d *Deliverer) systemTx(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx = store.WithDB(context.WithoutCancel(ctx), d.DB)
	return store.WithTx(ctx, func(ctx context.Context) error {
		if err := store.DB(ctx).Exec(`SELECT set_config('casebridge.webhook_system', 'on', true)`).Error; err != nil {
			return fmt.Errorf("mark webhook transaction: %w", err)
		}
		return fn(ctx)
	})
}

// dispatchBatch is how many events one dispatch transaction takes.
const dispatchBatch = 200

// Dispatch turns every undispatched event into one delivery per embassy
// with an enabled webhook, and one job per delivery, in the transaction
// that marks the events dispatched. Several instances may run it at once:
// each takes the events the others have not locked.
func (d *Deliverer) Dispatch(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := d.dispatchOnce(ctx)
		total += n
		if err != nil || n < dispatchBatch {
			return total, err
		}
	}
}

func (d *Deliverer) dispatchOnce(ctx context.Context) (int, error) {
	var n int
	err := d.systemTx(ctx, func(ctx context.Context) error {
		var events []struct {
			ID       uuid.UUID  `gorm:"column:id"`
			Type     string     `gorm:"column:type"`
			Country  string     `gorm:"column:country"`
			AgencyID *uuid.UUID `gorm:"column:agency_id"`
		}
		if err := store.DB(ctx).Raw(`SELECT id, type, country, agency_id FROM webhook_events
			WHERE dispatched_at IS NULL ORDER BY created_at, id LIMIT ? FOR UPDATE SKIP LOCKED`, dispatchBatch).
			Scan(&events).Error; err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		n = len(events)
		ids := make([]uuid.UUID, 0, len(events))
		for _, ev := range events {
			ids = append(ids, ev.ID)
			var created []uuid.UUID
			// Visits go to the agency that asked; notifications to every
			// embassy of the country (normally one).
			if err := store.DB(ctx).Raw(`INSERT INTO webhook_deliveries (event_id, agency_id, type)
				SELECT ?, w.agency_id, ? FROM agency_webhooks w JOIN agencies a ON a.id = w.agency_id
				 WHERE w.enabled AND a.enabled AND a.kind = 'embassy'
				   AND CASE WHEN ?::uuid IS NOT NULL THEN a.id = ?::uuid ELSE a.country = ? END
				ON CONFLICT ON CONSTRAINT webhook_deliveries_once DO NOTHING
				RETURNING id`, ev.ID, ev.Type, ev.AgencyID, ev.AgencyID, ev.Country).Scan(&created).Error; err != nil {
				return fmt.Errorf("create deliveries: %w", err)
			}
			for _, id := range created {
				if _, err := jobs.Insert(ctx, DeliverArgs{DeliveryID: id}, &river.InsertOpts{MaxAttempts: d.MaxAttempts}); err != nil {
					return err
				}
			}
		}
		if len(ids) == 0 {
			return nil
		}
		if err := store.DB(ctx).Exec(`UPDATE webhook_events SET dispatched_at = now() WHERE id IN ?`, ids).Error; err != nil {
			return fmt.Errorf("mark events dispatched: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("dispatch webhook events: %w", err)
	}
	return n, nil
}

type deliveryRow struct {
	Status         string     `gorm:"column:status"`
	Type           string     `gorm:"column:type"`
	AgencyID       uuid.UUID  `gorm:"column:agency_id"`
	AgencyCode     string     `gorm:"column:code"`
	AgencyName     string     `gorm:"column:name"`
	Country        *string    `gorm:"column:country"`
	AgencyEnabled  bool       `gorm:"column:agency_enabled"`
	PersonID       uuid.UUID  `gorm:"column:person_id"`
	NotificationID *uuid.UUID `gorm:"column:notification_id"`
	VisitID        *uuid.UUID `gorm:"column:visit_id"`
	URL            *string    `gorm:"column:url"`
	Sealed         []byte     `gorm:"column:secret_sealed"`
	Enabled        *bool      `gorm:"column:enabled"`
}

// errPermanent marks an attempt that no retry can fix.
var errPermanent = errors.New("permanent")

// Deliver makes one attempt of delivery id (attempt and final from the
// job). It does nothing for a delivery already delivered, failed or
// cancelled, so a repeated job never sends twice after a 2xx. The
// delivery's row stays locked during the attempt, so two instances never
// send it at once.
func (d *Deliverer) Deliver(ctx context.Context, id uuid.UUID, final bool) error {
	// The attempt's outcome for River, returned after the log is committed.
	var outcome error
	err := d.systemTx(ctx, func(tctx context.Context) error {
		var rows []deliveryRow
		if err := store.DB(tctx).Raw(`SELECT d.status, d.type, d.agency_id, a.code, a.name, a.country,
			a.enabled AS agency_enabled, e.person_id, e.notification_id, e.visit_id, w.url, w.secret_sealed, w.enabled
			FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id JOIN agencies a ON a.id = d.agency_id
			LEFT JOIN agency_webhooks w ON w.agency_id = d.agency_id
			WHERE d.id = ? FOR UPDATE OF d`, id).Scan(&rows).Error; err != nil {
			return fmt.Errorf("load delivery: %w", err)
		}
		if len(rows) == 0 {
			d.Log.WarnContext(ctx, "webhook delivery not found", "delivery", id)
			return nil
		}
		r := rows[0]
		if r.Status != "pending" {
			return nil
		}
		if r.URL == nil || r.Enabled == nil || !*r.Enabled || !r.AgencyEnabled || r.Country == nil {
			return d.cancel(tctx, id, "the webhook was disabled before delivery")
		}
		if d.Sealer == nil {
			return errors.New("webhooks.secret_key is not set: cannot sign")
		}
		body, err := d.body(ctx, r)
		if err != nil {
			return err
		}
		if body == nil {
			return d.cancel(tctx, id, "the embassy no longer sees this record: not sent")
		}
		code, dur, sendErr := d.send(ctx, r, id, body)
		ok := sendErr == nil && code >= 200 && code < 300
		if !ok && errors.Is(sendErr, errPermanent) {
			final = true
		}
		if err := d.record(tctx, id, r, code, sendErr, dur, ok, final); err != nil {
			return err
		}
		switch {
		case ok:
		case final && sendErr != nil:
			outcome = river.JobCancel(sendErr)
		case final:
			outcome = river.JobCancel(fmt.Errorf("webhook answered %d", code))
		case sendErr != nil:
			outcome = sendErr
		default:
			outcome = fmt.Errorf("webhook answered %d", code)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("deliver webhook %s: %w", id, err)
	}
	return outcome
}

// principal is the embassy as its liaison: what the body may hold is what
// that liaison reads.
func (r deliveryRow) principal() access.Principal {
	return access.Principal{AgencyID: r.AgencyID, AgencyCode: r.AgencyCode, AgencyName: r.AgencyName,
		Kind: access.KindEmbassy, Country: *r.Country, Roles: []access.Role{access.RoleLiaison},
		Name: "webhook delivery", Subject: "webhook:" + r.AgencyCode}
}

// body builds the message, or nil when the embassy does not see the record
// now.
func (d *Deliverer) body(ctx context.Context, r deliveryRow) ([]byte, error) {
	pctx := store.WithDB(access.WithPrincipal(context.WithoutCancel(ctx), r.principal()), d.DB)
	var data *string
	err := store.WithTx(pctx, func(ctx context.Context) error {
		return store.DB(ctx).Raw(`SELECT cb_webhook_data(?, ?, ?, ?)::text`, r.Type, r.PersonID, r.NotificationID, r.VisitID).
			Row().Scan(&data)
	})
	if err != nil {
		return nil, fmt.Errorf("build webhook body: %w", err)
	}
	if data == nil {
		return nil, nil
	}
	b, err := json.Marshal(struct {
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}{r.Type, d.now().UTC().Format(time.RFC3339Nano), json.RawMessage(*data)})
	if err != nil {
		return nil, fmt.Errorf("encode webhook body: %w", err)
	}
	return b, nil
}

func (d *Deliverer) send(ctx context.Context, r deliveryRow, id uuid.UUID, body []byte) (int, time.Duration, error) {
	start := time.Now()
	if err := d.Policy.CheckURL(*r.URL); err != nil {
		return 0, 0, fmt.Errorf("%w: URL refused: %v", errPermanent, err)
	}
	secret, err := d.Sealer.Open(r.AgencyID, r.Sealed)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %v", errPermanent, err)
	}
	ts := d.now()
	sig, err := Sign(secret, id.String(), ts, body)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %v", errPermanent, err)
	}
	rctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, *r.URL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %v", errPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "CaseBridge-Webhooks/1")
	req.Header.Set(HeaderID, id.String())
	req.Header.Set(HeaderTimestamp, fmt.Sprint(ts.Unix()))
	req.Header.Set(HeaderSignature, sig)
	resp, err := d.httpClient().Do(req)
	dur := time.Since(start)
	if err != nil {
		if errors.Is(err, ErrRefusedAddress) {
			return 0, dur, fmt.Errorf("%w: %v", errPermanent, err)
		}
		return 0, dur, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, dur, nil
}

func (d *Deliverer) record(ctx context.Context, id uuid.UUID, r deliveryRow, code int, sendErr error, dur time.Duration, ok, final bool) error {
	status := "pending"
	switch {
	case ok:
		status = "delivered"
	case final:
		status = "failed"
	}
	var codeArg, errArg any
	if code != 0 {
		codeArg = code
	}
	if sendErr != nil {
		errArg = clip(strings.TrimPrefix(sendErr.Error(), errPermanent.Error()+": "), 1000)
	} else if !ok {
		errArg = fmt.Sprintf("answered %d", code)
	}
	var attempt int
	if err := store.DB(ctx).Raw(`UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = now(),
		last_status_code = ?, last_error = ?, status = ?, delivered_at = CASE WHEN ? THEN now() END
		WHERE id = ? AND status = 'pending' RETURNING attempts`, codeArg, errArg, status, ok, id).Row().Scan(&attempt); err != nil {
		return fmt.Errorf("record delivery attempt: %w", err)
	}
	if err := store.DB(ctx).Exec(`INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, duration_ms)
		VALUES (?, ?, ?, ?, ?)`, id, attempt, codeArg, errArg, dur.Milliseconds()).Error; err != nil {
		return fmt.Errorf("record delivery attempt: %w", err)
	}
	if !ok {
		return nil
	}
	// The embassy's system read the person through its consular view.
	p := r.principal()
	return audit.Record(ctx, audit.Event{Action: "webhook.deliver", ObjectType: "person", ObjectID: r.PersonID.String(),
		Actor: &p, Details: map[string]any{"delivery_id": id.String(), "type": r.Type, "status_code": code}})
}

func (d *Deliverer) cancel(ctx context.Context, id uuid.UUID, why string) error {
	if err := store.DB(ctx).Exec(`UPDATE webhook_deliveries SET status = 'cancelled', last_error = ?
		WHERE id = ? AND status = 'pending'`, why, id).Error; err != nil {
		return fmt.Errorf("cancel delivery: %w", err)
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// Backoff is the wait before the attempt after the given failed one:
// base, 2×base, 4×base, … capped at six hours.
func Backoff(base time.Duration, failed int) time.Duration {
	const maxWait = 6 * time.Hour
	w := base
	for i := 1; i < failed && w < maxWait; i++ {
		w *= 2
	}
	return min(w, maxWait)
}

// DispatchArgs is the periodic job that turns outbox events into
// deliveries.
type DispatchArgs struct{}

// Kind names the job in the queue.
func (DispatchArgs) Kind() string { return "webhooks.dispatch" }

// DeliverArgs is one delivery's job.
type DeliverArgs struct {
	DeliveryID uuid.UUID `json:"delivery_id"`
}

// Kind names the job in the queue.
func (DeliverArgs) Kind() string { return "webhooks.deliver" }

// DispatchWorker works DispatchArgs.
type DispatchWorker struct {
	river.WorkerDefaults[DispatchArgs]
	D *Deliverer
}

// Work dispatches every pending event.
func (w *DispatchWorker) Work(ctx context.Context, _ *river.Job[DispatchArgs]) error {
	_, err := w.D.Dispatch(ctx)
	return err
}

// DeliverWorker works DeliverArgs.
type DeliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	D *Deliverer
}

// Work makes one attempt.
func (w *DeliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	return w.D.Deliver(ctx, job.Args.DeliveryID, job.Attempt >= job.MaxAttempts)
}

// NextRetry is exponential: webhooks.retry_base doubled per failure.
func (w *DeliverWorker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	return time.Now().Add(Backoff(w.D.RetryBase, job.Attempt))
}

// Timeout leaves the attempt its own timeout plus the bookkeeping.
func (w *DeliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration {
	return w.D.Timeout + 30*time.Second
}
