package job

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/config"
)

// DeadlineError is the cause of a run's deadline: the API is no longer read
// after it, the units not finished fail with it, and what was collected is
// still published.
type DeadlineError struct {
	Timeout time.Duration // the run's --timeout, when that set the deadline
	At      time.Time
	Reason  string // else why the run ends at At ("the next scheduled run")
}

func (e *DeadlineError) Error() string {
	if e.Timeout > 0 {
		return fmt.Sprintf("the run's %s timeout passed", shortDuration(e.Timeout))
	}
	return fmt.Sprintf("the run's deadline passed (%s, %s)", e.At.UTC().Format(time.RFC3339), e.Reason)
}

// shortDuration is "2h", "1h30m", "45s": time.Duration.String without its
// zero units.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// budget returns the API context of a run: ctx with the configuration's
// deadline (config.Deadline, else now + config.Timeout) whose cause is a
// *DeadlineError. Without either it is ctx.
func budget(ctx context.Context, cfg *config.Config, now time.Time) (context.Context, context.CancelFunc) {
	d := &DeadlineError{At: cfg.Deadline.At, Reason: cfg.Deadline.Reason}
	if cfg.Timeout > 0 {
		if at := now.Add(cfg.Timeout); d.At.IsZero() || at.Before(d.At) {
			d.At, d.Timeout = at, cfg.Timeout
		}
	}
	if d.At.IsZero() {
		return context.WithCancel(ctx)
	}
	return context.WithDeadlineCause(ctx, d.At, d)
}

// notCollected rewrites a unit's API error once the run's deadline has
// passed: the unit was not collected (in full) because of it, whatever the
// client made of the cancelled request.
func notCollected(api context.Context, err error) error {
	var d *DeadlineError
	if err == nil || !errors.As(context.Cause(api), &d) {
		return err
	}
	return fmt.Errorf("not collected: %w", d)
}
