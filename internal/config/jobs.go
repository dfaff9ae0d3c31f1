package config

import "time"

// Jobs holds the background job queue's settings (River on PostgreSQL):
// bundle builds, webhook deliveries, imports and the blob sweep run as jobs
// that every instance of the portal shares.
type Jobs struct {
	// Workers is how many jobs this instance runs at once.
	Workers int `yaml:"workers"`
	// RescueAfter is how long a job may stay running before it is taken to
	// have died with its process (SIGKILL, a lost machine) and is run again
	// by another instance. It must exceed the longest job.
	RescueAfter time.Duration `yaml:"rescue_after"`
	// Timeout is the longest one attempt of a job may run.
	Timeout time.Duration `yaml:"timeout"`
	// PollInterval is how often idle workers look for new jobs (the queue
	// polls; it does not LISTEN).
	PollInterval time.Duration `yaml:"poll_interval"`
	// MaxConns is the size of the job queue's own connection pool.
	MaxConns int `yaml:"max_conns"`
}

func defaultJobs() Jobs {
	return Jobs{Workers: 4, RescueAfter: 15 * time.Minute, Timeout: 10 * time.Minute, MaxConns: 6, PollInterval: time.Second}
}

func (c Config) validateJobs() error {
	j := c.Jobs
	switch {
	case j.Workers < 1 || j.Workers > 100:
		return &Error{Setting: "jobs.workers", Msg: "must be between 1 and 100"}
	case j.Timeout < time.Second:
		return &Error{Setting: "jobs.timeout", Msg: "must be at least 1s"}
	case j.RescueAfter <= j.Timeout:
		return &Error{Setting: "jobs.rescue_after", Msg: "must be longer than jobs.timeout (a running job is not rescued while it may still be working)"}
	case j.PollInterval < 10*time.Millisecond || j.PollInterval > time.Minute:
		return &Error{Setting: "jobs.poll_interval", Msg: "must be between 10ms and 1m"}
	case j.MaxConns < 2 || j.MaxConns > 100:
		return &Error{Setting: "jobs.max_conns", Msg: "must be between 2 and 100"}
	}
	return nil
}
