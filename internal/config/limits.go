package config

import "time"

// RateLimits are per-address and per-principal limits, counted in
// PostgreSQL and shared by every instance. A limit of 0 is off. Over a
// limit the portal answers 429 with Retry-After.
type RateLimits struct {
	// Window is the counting window of every limit.
	Window time.Duration `yaml:"window"`
	// SignInPerAddress: browser sign-ins started (/auth/login) per client
	// address per window.
	SignInPerAddress int `yaml:"sign_in_per_address"`
	// TokenFailuresPerAddress: refused bearer tokens per client address
	// per window; past it, every bearer request from the address is
	// refused until the window ends.
	TokenFailuresPerAddress int `yaml:"token_failures_per_address"`
	// DownloadsPerPrincipal and DownloadsPerAddress: document content
	// downloads per signed-in user, and per client address, per window.
	DownloadsPerPrincipal int `yaml:"downloads_per_principal"`
	DownloadsPerAddress   int `yaml:"downloads_per_address"`
}

func defaultRateLimits() RateLimits {
	return RateLimits{
		Window:                  time.Minute,
		SignInPerAddress:        60,
		TokenFailuresPerAddress: 30,
		DownloadsPerPrincipal:   600,
		DownloadsPerAddress:     1200,
	}
}
