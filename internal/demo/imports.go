package demo

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// writeImports records how the Tuol Kork raid's detainees came in: the
// officers' spreadsheet of the 225 persons, committed as one import (its
// report lists every person it created), and a first attempt at the
// spreadsheet that the report refused for three bad rows (a country name
// instead of its code, a day-first date, a custody status that does not
// exist), which the officers corrected. The oversight figures need nothing
// here: the database's aggregates counted the demo's persons as they went in.
func writeImports(ctx context.Context, tx pgx.Tx, w *World, ids map[string]any) error {
	_, err := tx.Exec(ctx, `
		WITH c AS (SELECT id, operation_date FROM cases WHERE reference = $1),
		     p AS (SELECT p.id, p.family_name, p.given_names, p.nationality, p.passport_number
		             FROM persons p JOIN case_persons cp ON cp.person_id = p.id JOIN c ON c.id = cp.case_id)
		INSERT INTO imports (case_id, agency_id, filename, format, sha256, size, status, total_rows, errors, rows,
		                     result, created_at, committed_at)
		SELECT c.id, $2, 'tuol-kork-raid-detainees.csv', 'csv',
		       encode(sha256(convert_to(string_agg(p.family_name || ',' || p.given_names || ',' || p.nationality || ',' ||
		                                           p.passport_number, E'\n' ORDER BY p.id), 'UTF8')), 'hex'),
		       sum(length(p.family_name) + length(p.given_names) + length(p.passport_number) + 6) + 120,
		       'committed', count(*), '[]', '[]',
		       jsonb_build_object('created', jsonb_agg(p.id ORDER BY p.id), 'linked', '[]'::jsonb, 'already_linked', '[]'::jsonb),
		       c.operation_date + interval '1 day 3 hours', c.operation_date + interval '1 day 3 hours 12 minutes'
		  FROM c, p GROUP BY c.id, c.operation_date`, RefTuolKork, ids["gdi"])
	if err != nil {
		return fmt.Errorf("demo: Tuol Kork import: %w", err)
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO imports (case_id, agency_id, filename, format, sha256, size, status, total_rows, errors, rows, created_at)
		SELECT id, $2, 'tuol-kork-raid-detainees-draft.csv', 'csv', repeat('0', 63) || '1', 20480, 'invalid', 225,
		       '[{"line": 18, "column": "nationality", "reason": "must be an ISO 3166-1 alpha-2 country code, e.g. CN"},
		         {"line": 77, "column": "date_of_birth", "reason": "must be a date YYYY-MM-DD, got \"14/03/1998\""},
		         {"line": 203, "column": "custody_status", "reason": "must be one of at_large, detained, charged, convicted, awaiting_deportation, deported, released, got \"held\""}]',
		       '[]', operation_date + interval '1 day 2 hours'
		  FROM cases WHERE reference = $1`, RefTuolKork, ids["gdi"])
	if err != nil {
		return fmt.Errorf("demo: Tuol Kork draft import: %w", err)
	}
	_ = w
	return nil
}
