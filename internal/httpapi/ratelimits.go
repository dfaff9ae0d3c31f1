package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casebridge/casebridge/internal/access"
	"github.com/casebridge/casebridge/internal/ratelimit"
)

// Rate limits (settings rate_limits.*), counted in PostgreSQL so that all
// instances share them: sign-ins started per client address, refused
// bearer tokens per address, document downloads per principal and per
// address. Over a limit: 429 with Retry-After.

type limits struct {
	l   *ratelimit.Limiter
	cfg func() (window time.Duration, signIn, tokenFailures, dlPrincipal, dlAddress int)
	// suspects are addresses this instance saw a refused token from, with
	// when: only their bearer requests pay for a look at the shared count.
	mu       sync.Mutex
	suspects map[string]time.Time
}

func (s *Server) limits() *limits {
	rl := s.deps.Config.RateLimits
	return &limits{
		l: &ratelimit.Limiter{DB: s.deps.DB},
		cfg: func() (time.Duration, int, int, int, int) {
			return rl.Window, rl.SignInPerAddress, rl.TokenFailuresPerAddress, rl.DownloadsPerPrincipal, rl.DownloadsPerAddress
		},
		suspects: map[string]time.Time{},
	}
}

func tooMany(c *gin.Context, retry time.Duration, what string) {
	secs := int(math.Ceil(retry.Seconds()))
	if secs < 1 {
		secs = 1
	}
	c.Header("Retry-After", strconv.Itoa(secs))
	Problemf(c, http.StatusTooManyRequests, "rate-limited", "Too many requests",
		"Too many "+what+" from you in a short time; try again in "+strconv.Itoa(secs)+" seconds.")
}

// beforeAuth limits sign-ins and bearer requests of addresses with too
// many refused tokens, and counts refused tokens afterwards.
func (lm *limits) beforeAuth() gin.HandlerFunc {
	return func(c *gin.Context) {
		if lm.l.DB == nil {
			c.Next()
			return
		}
		window, signIn, tokenFailures, _, _ := lm.cfg()
		ip := c.ClientIP()
		ctx := c.Request.Context()
		if c.Request.URL.Path == "/auth/login" {
			ok, retry, err := lm.l.Hit(ctx, "sign_in", ip, ratelimit.Limit{Max: signIn, Window: window})
			if err == nil && !ok {
				tooMany(c, retry, "sign-ins")
				return
			}
		}
		bearer := strings.HasPrefix(strings.ToLower(c.GetHeader("Authorization")), "bearer ")
		lim := ratelimit.Limit{Max: tokenFailures, Window: window}
		if bearer && lm.suspect(ip, window) {
			if over, retry, err := lm.l.Over(ctx, "token_failure", ip, lim); err == nil && over {
				tooMany(c, retry, "refused access tokens")
				return
			}
		}
		c.Next()
		if bearer && c.Writer.Status() == http.StatusUnauthorized {
			lm.mu.Lock()
			lm.suspects[ip] = time.Now()
			lm.mu.Unlock()
			_, _, _ = lm.l.Hit(ctx, "token_failure", ip, lim)
		}
	}
}

func (lm *limits) suspect(ip string, window time.Duration) bool {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	t, ok := lm.suspects[ip]
	if ok && time.Since(t) > window {
		delete(lm.suspects, ip)
		return false
	}
	if len(lm.suspects) > 100000 {
		clear(lm.suspects) // bounded memory under an address-rotating attack
	}
	return ok
}

// downloads limits document content downloads (and court-bundle PDFs) per
// principal and address.
func (lm *limits) downloads() gin.HandlerFunc {
	return func(c *gin.Context) {
		fp := c.FullPath()
		if lm.l.DB == nil || c.Request.Method != http.MethodGet ||
			!(strings.HasSuffix(fp, "/content") || fp == "/api/v1/bundles/:id/pdf") {
			c.Next()
			return
		}
		window, _, _, perPrincipal, perAddress := lm.cfg()
		ctx := c.Request.Context()
		if p, ok := access.FromContext(ctx); ok {
			if ok, retry, err := lm.l.Hit(ctx, "download", "user:"+p.UserID.String(), ratelimit.Limit{Max: perPrincipal, Window: window}); err == nil && !ok {
				tooMany(c, retry, "downloads")
				return
			}
		}
		if ok, retry, err := lm.l.Hit(ctx, "download", "addr:"+c.ClientIP(), ratelimit.Limit{Max: perAddress, Window: window}); err == nil && !ok {
			tooMany(c, retry, "downloads")
			return
		}
		c.Next()
	}
}
