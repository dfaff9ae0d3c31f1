package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casebridge/casebridge/internal/apperr"
	"github.com/casebridge/casebridge/internal/stats"
)

// Oversight figures (api/openapi.yaml, tag stats): coordinators and admins
// only; everyone else gets 403 naming stats.read.
func (s *Server) statsRoutes(api *gin.RouterGroup) {
	api.GET("/stats/overview", s.statsOverview)
	api.GET("/stats/timeseries", s.statsTimeseries)
}

type overviewResponse struct {
	Persons     []stats.NationalityStatus `json:"persons_by_nationality_status"`
	Cases       []stats.CaseAge           `json:"cases_by_status_age"`
	GeneratedAt string                    `json:"generated_at"`
}

func (s *Server) statsOverview(c *gin.Context) {
	o, err := stats.GetOverview(c.Request.Context())
	if err != nil {
		Fail(c, err)
		return
	}
	if wantsCSV(c) {
		rows := [][]string{{"figure", "nationality", "custody_status", "status", "age_bucket", "count"}}
		for _, p := range o.Persons {
			rows = append(rows, []string{"persons", p.Nationality, p.CustodyStatus, "", "", itoa(p.Count)})
		}
		for _, k := range o.Cases {
			rows = append(rows, []string{"cases", "", "", k.Status, k.AgeBucket, itoa(k.Count)})
		}
		writeCSV(c, "oversight-overview.csv", rows)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, overviewResponse{Persons: o.Persons, Cases: o.Cases, GeneratedAt: o.GeneratedAt.UTC().Format(time.RFC3339)})
}

type pointResponse struct {
	Month string `json:"month"`
	Key   string `json:"key,omitempty"`
	Count int64  `json:"count"`
}

type timeseriesResponse struct {
	From         string          `json:"from"`
	To           string          `json:"to"`
	Detentions   []pointResponse `json:"detentions"`
	Deportations []pointResponse `json:"deportations"`
	Victims      []pointResponse `json:"victims"`
}

func points(ps []stats.Point) []pointResponse {
	out := make([]pointResponse, len(ps))
	for i, p := range ps {
		out[i] = pointResponse{Month: p.Month.Format("2006-01"), Key: p.Key, Count: p.Count}
	}
	return out
}

// parseMonth reads YYYY-MM.
func parseMonth(fs *apperr.Fields, name, v string, def time.Time) time.Time {
	if v == "" {
		return def
	}
	t, err := time.Parse("2006-01", v)
	if err != nil {
		fs.Add(name, "must be a month YYYY-MM")
		return def
	}
	return t
}

func (s *Server) statsTimeseries(c *gin.Context) {
	now := stats.MonthStart(time.Now())
	var fs apperr.Fields
	to := parseMonth(&fs, "to", c.Query("to"), now)
	from := parseMonth(&fs, "from", c.Query("from"), to.AddDate(0, -23, 0))
	if err := fs.Err(); err != nil {
		Fail(c, err)
		return
	}
	ts, err := stats.GetTimeseries(c.Request.Context(), from, to)
	if err != nil {
		Fail(c, err)
		return
	}
	if wantsCSV(c) {
		rows := [][]string{{"series", "month", "key", "count"}}
		for _, s := range []struct {
			name string
			ps   []stats.Point
		}{{"detentions", ts.Detentions}, {"deportations", ts.Deportations}, {"victims", ts.Victims}} {
			for _, p := range s.ps {
				rows = append(rows, []string{s.name, p.Month.Format("2006-01"), p.Key, itoa(p.Count)})
			}
		}
		writeCSV(c, "oversight-timeseries.csv", rows)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, timeseriesResponse{From: ts.From.Format("2006-01"), To: ts.To.Format("2006-01"),
		Detentions: points(ts.Detentions), Deportations: points(ts.Deportations), Victims: points(ts.Victims)})
}
