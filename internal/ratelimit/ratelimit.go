// Package ratelimit counts hits per bucket and subject in fixed windows
// stored in PostgreSQL, so that every instance of the portal shares the
// same counts (a client cannot multiply its allowance by spreading its
// requests over instances).
package ratelimit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"gorm.io/gorm"
)

// Limit is a number of hits allowed per window; Max 0 disables it.
type Limit struct {
	Max    int
	Window time.Duration
}

// Limiter counts in the rate_limits table.
type Limiter struct {
	DB *gorm.DB
}

func windowOf(now time.Time, w time.Duration) time.Time { return now.Truncate(w) }

// Hit counts one hit of subject in bucket and reports whether it is within
// the limit; when not, retryAfter is when the window ends.
func (l *Limiter) Hit(ctx context.Context, bucket, subject string, lim Limit) (ok bool, retryAfter time.Duration, err error) {
	if lim.Max <= 0 || l == nil || l.DB == nil {
		return true, 0, nil
	}
	now := time.Now()
	start := windowOf(now, lim.Window)
	var hits int
	err = l.DB.WithContext(ctx).Raw(`INSERT INTO rate_limits (bucket, subject, window_start, hits) VALUES (?, ?, ?, 1)
		ON CONFLICT (bucket, subject, window_start) DO UPDATE SET hits = rate_limits.hits + 1
		RETURNING hits`, bucket, subject, start).Row().Scan(&hits)
	if err != nil {
		return true, 0, fmt.Errorf("rate limit %s: %w", bucket, err)
	}
	if rand.IntN(200) == 0 { // #nosec G404 -- only decides when to drop old windows; nothing secret is drawn
		// Now and then, drop windows long past.
		_ = l.DB.WithContext(ctx).Exec(`DELETE FROM rate_limits WHERE window_start < ?`, now.Add(-24*time.Hour)).Error
	}
	if hits > lim.Max {
		return false, start.Add(lim.Window).Sub(now), nil
	}
	return true, 0, nil
}

// Over reports, without counting, whether subject has already used up its
// allowance in bucket (for limits on failures: checked before the attempt,
// counted only when it fails).
func (l *Limiter) Over(ctx context.Context, bucket, subject string, lim Limit) (over bool, retryAfter time.Duration, err error) {
	if lim.Max <= 0 || l == nil || l.DB == nil {
		return false, 0, nil
	}
	now := time.Now()
	start := windowOf(now, lim.Window)
	var hits []int
	if err := l.DB.WithContext(ctx).Raw(`SELECT hits FROM rate_limits WHERE bucket = ? AND subject = ? AND window_start = ?`,
		bucket, subject, start).Scan(&hits).Error; err != nil {
		return false, 0, fmt.Errorf("rate limit %s: %w", bucket, err)
	}
	if len(hits) > 0 && hits[0] >= lim.Max {
		return true, start.Add(lim.Window).Sub(now), nil
	}
	return false, 0, nil
}
