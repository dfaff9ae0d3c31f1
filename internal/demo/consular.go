package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// writeConsular shapes the consular notifications the database created as
// the demo's persons went in (one per person visible to their embassy in
// custody), so that every demo embassy's inbox tells a story: each is due
// from the detention itself, most older ones acknowledged, a few overdue
// (more than 72 hours, never acknowledged), one withdrawn after a
// trafficking flag was raised (the person's embassy no longer sees it; the
// ministry does); and consular visits: one requested, one answered.
func writeConsular(ctx context.Context, tx pgx.Tx, w *World, ids map[string]any) error {
	// Due from the detention, as the duty is.
	if _, err := tx.Exec(ctx, `UPDATE consular_notifications n SET due_at = COALESCE(p.detained_at, n.due_at)
		FROM persons p WHERE p.id = n.person_id`); err != nil {
		return fmt.Errorf("demo: notification times: %w", err)
	}
	// Per embassy: the two most recent stay new, the next two are overdue,
	// the rest acknowledged a day after they were due.
	if _, err := tx.Exec(ctx, `WITH ranked AS (
			SELECT id, row_number() OVER (PARTITION BY country ORDER BY due_at DESC, id) AS r FROM consular_notifications)
		UPDATE consular_notifications n SET
			due_at = CASE WHEN ranked.r <= 2 THEN now() - interval '5 hours' * ranked.r ELSE n.due_at END,
			acknowledged_at = CASE WHEN ranked.r > 4 THEN n.due_at + interval '1 day' END
		FROM ranked WHERE ranked.id = n.id`); err != nil {
		return fmt.Errorf("demo: notification states: %w", err)
	}
	// Withdrawn: a Chinese national whose notification went out, then was
	// flagged as a possible victim without consent.
	for _, p := range w.Persons {
		if p.Nationality == "CN" && p.Flag == "suspected" && !p.Consents && p.DetainedAt != nil {
			if _, err := tx.Exec(ctx, `INSERT INTO consular_notifications (person_id, country, episode, due_at, withdrawn_at)
				SELECT id, nationality, GREATEST(custody_episode, 1), detained_at, detained_at + interval '2 days'
				  FROM persons WHERE id = $1 ON CONFLICT DO NOTHING`, p.ID); err != nil {
				return fmt.Errorf("demo: withdrawn notification: %w", err)
			}
			break
		}
	}
	// Visits: the Chinese embassy asks to visit two of its detained
	// nationals held by the immigration department; one is answered.
	var visited []string
	rows, err := tx.Query(ctx, `SELECT p.id::text FROM persons p
		JOIN case_persons cp ON cp.person_id = p.id AND cp.role IN ('detainee', 'suspect')
		JOIN cases c ON c.id = cp.case_id AND c.owner_agency_id = $1
		WHERE p.nationality = 'CN' AND p.custody_status = 'detained' AND p.consular_notification <> 'declined'
		  AND p.trafficking_flag IN ('none', 'cleared')
		ORDER BY p.family_name, p.given_names, p.id LIMIT 2`, ids["gdi"])
	if err != nil {
		return fmt.Errorf("demo: visit persons: %w", err)
	}
	visited, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("demo: visit persons: %w", err)
	}
	day := time.Now().UTC().Truncate(24 * time.Hour)
	for i, id := range visited {
		var vid string
		err := tx.QueryRow(ctx, `INSERT INTO consular_visits (person_id, country, agency_id, requested_at, preferred_from,
				preferred_to, note) VALUES ($1, 'CN', $2, now() - interval '30 hours', $3, $4, $5) RETURNING id::text`,
			id, ids["emb-cn"], day.AddDate(0, 0, 2), day.AddDate(0, 0, 9),
			"The family has asked the embassy to check on his health.").Scan(&vid)
		if err != nil {
			return fmt.Errorf("demo: visit request: %w", err)
		}
		if i == 0 {
			if _, err := tx.Exec(ctx, `UPDATE consular_visits SET status = 'scheduled', visit_at = $2,
					place = 'Immigration Detention Centre, Pochentong — visitors'' room', answered_by_agency = $3,
					answered_at = now() - interval '6 hours' WHERE id = $1`,
				vid, day.AddDate(0, 0, 3).Add(9*time.Hour), ids["gdi"]); err != nil {
				return fmt.Errorf("demo: visit answer: %w", err)
			}
		}
	}
	return nil
}
