// Package stats is the ministry's oversight figures (ACCESS.md, Actions:
// "read oversight figures: coordinator; admin"): counts only, never a row
// that names a person or a case.
//
// Admins see no case content, so the figures are not read through the case
// policies: they come from the SECURITY DEFINER functions of
// migrations/access/75_stats.sql, which check the reader first and return
// aggregates only. Person figures come from aggregates that statement-level
// triggers on persons keep current in the writer's transaction (exact as of
// the last commit); cases per status and age are counted on each call.
package stats

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/audit"
	"github.com/casebridge/casebridge/internal/pgerr"
	"github.com/casebridge/casebridge/internal/store"
)

// PermRead is the permission to read the oversight figures.
const PermRead = "stats.read"

const reasonRead = "Oversight figures are for coordinators of the interior ministry and for admins."

// NationalityStatus is persons of one nationality in one custody status.
type NationalityStatus struct {
	Nationality   string `json:"nationality"`
	CustodyStatus string `json:"custody_status"`
	Count         int64  `json:"count"`
}

// CaseAge is cases of one status in one age bucket.
type CaseAge struct {
	Status    string `json:"status"`
	AgeBucket string `json:"age_bucket"`
	Count     int64  `json:"count"`
}

// Overview is the current picture.
type Overview struct {
	Persons     []NationalityStatus
	Cases       []CaseAge
	GeneratedAt time.Time
}

// Point is one month of a series.
type Point struct {
	Month time.Time
	Key   string
	Count int64
}

// Timeseries holds the monthly series from From to To (first days of
// months): detentions, deportations by route, possible victims identified.
type Timeseries struct {
	From, To     time.Time
	Detentions   []Point
	Deportations []Point
	Victims      []Point
}

// Routes of deportation (persons.deported_via, classified).
var Routes = []string{"airport", "land_checkpoint", "other"}

// AgeBuckets of cases, youngest first.
var AgeBuckets = []string{"under_30_days", "30_to_89_days", "90_to_364_days", "a_year_or_more"}

func require(ctx context.Context) error {
	var ok bool
	if err := store.DB(ctx).Raw(`SELECT COALESCE(cb_stats_reader(), false)`).Scan(&ok).Error; err != nil {
		return fmt.Errorf("check stats reader: %w", err)
	}
	if !ok {
		return apperr.Forbidden(PermRead, reasonRead)
	}
	return nil
}

func refused(ctx context.Context, err error, action string) {
	if errors.Is(err, apperr.ErrForbidden) {
		_ = audit.Record(store.Detached(ctx), audit.Event{Action: action, ObjectType: "stats", Outcome: audit.Denied,
			Details: map[string]any{"missing_permission": PermRead}})
	}
}

// GetOverview returns the current figures.
func GetOverview(ctx context.Context) (Overview, error) {
	o := Overview{Persons: []NationalityStatus{}, Cases: []CaseAge{}}
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if err := require(ctx); err != nil {
			return err
		}
		db := store.DB(ctx)
		if err := db.Raw(`SELECT nationality, custody_status, n AS count FROM cb_stats_persons()`).Scan(&o.Persons).Error; err != nil {
			return fmt.Errorf("persons figures: %w", pgerr.Map(err, PermRead))
		}
		if err := db.Raw(`SELECT status, age_bucket, n AS count FROM cb_stats_cases()`).Scan(&o.Cases).Error; err != nil {
			return fmt.Errorf("case figures: %w", pgerr.Map(err, PermRead))
		}
		if err := db.Raw(`SELECT now()`).Scan(&o.GeneratedAt).Error; err != nil {
			return err
		}
		return audit.Record(ctx, audit.Event{Action: "stats.overview.read", ObjectType: "stats"})
	})
	if err != nil {
		refused(ctx, err, "stats.overview.read")
		return Overview{}, fmt.Errorf("overview: %w", err)
	}
	return o, nil
}

// MonthStart is the first day of t's month (UTC).
func MonthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// GetTimeseries returns the monthly series between the months of from and
// to (inclusive).
func GetTimeseries(ctx context.Context, from, to time.Time) (Timeseries, error) {
	ts := Timeseries{From: MonthStart(from), To: MonthStart(to), Detentions: []Point{}, Deportations: []Point{}, Victims: []Point{}}
	if ts.To.Before(ts.From) {
		return Timeseries{}, apperr.Invalid("from", "must not be after to")
	}
	if ts.To.Sub(ts.From) > 120*31*24*time.Hour {
		return Timeseries{}, apperr.Invalid("from", "the range may span at most 120 months")
	}
	err := store.WithTx(ctx, func(ctx context.Context) error {
		if err := require(ctx); err != nil {
			return err
		}
		var rows []struct {
			Metric string
			Month  time.Time
			Key    string
			N      int64
		}
		if err := store.DB(ctx).Raw(`SELECT metric, month, key, n FROM cb_stats_months(?::date, ?::date)`,
			ts.From.Format(time.DateOnly), ts.To.Format(time.DateOnly)).Scan(&rows).Error; err != nil {
			return fmt.Errorf("monthly figures: %w", pgerr.Map(err, PermRead))
		}
		for _, r := range rows {
			p := Point{Month: MonthStart(r.Month), Key: r.Key, Count: r.N}
			switch r.Metric {
			case "detention":
				ts.Detentions = append(ts.Detentions, p)
			case "deportation":
				ts.Deportations = append(ts.Deportations, p)
			case "victim":
				ts.Victims = append(ts.Victims, p)
			}
		}
		return audit.Record(ctx, audit.Event{Action: "stats.timeseries.read", ObjectType: "stats"})
	})
	if err != nil {
		refused(ctx, err, "stats.timeseries.read")
		return Timeseries{}, fmt.Errorf("timeseries: %w", err)
	}
	return ts, nil
}
