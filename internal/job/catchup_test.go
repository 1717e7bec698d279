package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
)

// A scheduled run fills each tenant's missed days oldest first, each
// starting its audit log where the day before left the watermark; a day
// with no pack stops its tenant (and only its tenant) so the state never
// skips it.
func TestCatchUpRuns(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
	to := day(22).Add(5 * time.Hour) // a run at 05:00 covers the 21st
	tests := []struct {
		name   string
		states map[string]string // tenant → state.json
		fail   string            // "tenant 2026-11-DD": that day publishes nothing
		runs   []string          // "tenant day audit-from", in order
		errs   []string          // in the joined error; none: no error
	}{
		{name: "no state: yesterday", runs: []string{"a 21 -", "b 21 -"}},
		{
			name:   "missed days, oldest first, from the watermark",
			states: map[string]string{"a": `{"last_period_end":"2026-11-19T00:00:00Z","audit_watermark":"2026-11-18T12:00:00Z"}`},
			runs:   []string{"a 19 18T12", "a 20 20T00", "a 21 21T00", "b 21 -"},
		},
		{
			name:   "a day without a pack stops its tenant only",
			states: map[string]string{"a": `{"last_period_end":"2026-11-19T00:00:00Z"}`, "b": `{"last_period_end":"2026-11-20T00:00:00Z"}`},
			fail:   "a 2026-11-20",
			runs:   []string{"a 19 -", "a 20 20T00", "b 20 -", "b 21 21T00"},
			errs:   []string{"tenant a, 2026-11-20: no pack"},
		},
		{
			name:   "an unreadable state skips its tenant",
			states: map[string]string{"a": `{`},
			runs:   []string{"b 21 -"},
			errs:   []string{"state.json"},
		},
		{
			name:   "bounded by catch_up_days",
			states: map[string]string{"b": `{"last_period_end":"2026-11-01T00:00:00Z"}`},
			runs:   []string{"a 21 -", "b 19 -", "b 20 20T00", "b 21 21T00"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := memstore.New()
			for tenant, st := range tc.states {
				if _, err := store.Replace(ctx, statePath(tenant), strings.NewReader(st), storage.PutOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			cfg := &config.Config{Tenants: []config.Tenant{{Name: "a"}, {Name: "b"}}, CatchUpDays: 3,
				Period: period.Window{From: to.Add(-24 * time.Hour), To: to}}
			var runs []string
			// Publishing a day moves the state as recordPublished does.
			run := func(ctx context.Context, c *config.Config) error {
				if len(c.Tenants) != 1 {
					t.Fatalf("a run of %d tenants", len(c.Tenants))
				}
				tenant, w := c.Tenants[0].Name, c.Period
				from := "-"
				if !c.AuditFrom.IsZero() {
					from = c.AuditFrom.Format("02T15")
				}
				runs = append(runs, fmt.Sprintf("%s %s %s", tenant, w.From.Format("02"), from))
				if tc.fail == tenant+" "+w.From.Format(time.DateOnly) {
					return errors.New("no pack")
				}
				b, _ := json.Marshal(State{LastPeriodEnd: w.To, AuditWatermark: w.To})
				_, err := store.Replace(ctx, statePath(tenant), strings.NewReader(string(b)), storage.PutOptions{})
				return err
			}
			err := CatchUpRuns(ctx, cfg, store, slog.New(slog.DiscardHandler), run)
			if got, want := strings.Join(runs, ", "), strings.Join(tc.runs, ", "); got != want {
				t.Errorf("runs %s\nwant %s", got, want)
			}
			if len(tc.errs) == 0 && err != nil {
				t.Fatal(err)
			}
			if len(tc.errs) > 0 && err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.errs {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// A scheduled run ends when the next is due, but gets at least a minute.
func TestScheduledDeadline(t *testing.T) {
	now := time.Date(2026, 11, 22, 2, 15, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		next, want time.Time
	}{
		{"next day", now.Add(24 * time.Hour), now.Add(24 * time.Hour)},
		{"a minute", now.Add(time.Minute), now.Add(time.Minute)},
		{"seconds: a minute", now.Add(5 * time.Second), now.Add(time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := ScheduledDeadline(now, tc.next)
			if !d.At.Equal(tc.want) || d.Reason != "the next scheduled run" {
				t.Errorf("ScheduledDeadline(now, %s) = %+v, want %s", tc.next, d, tc.want)
			}
		})
	}
}
