package job

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/storage"
)

// Beside the packs, each tenant has two small objects that are replaced on
// every run (storage.Replacer), never part of a pack:
//
//	<tenant>/<period>/latest.json  the newest pack of that period
//	<tenant>/state.json            what the scheduler needs to continue
//
// The scheduler reads state.json to fill missed periods (catch-up) and to
// start the audit log where the last complete run stopped (the watermark),
// so no interval is skipped or collected twice.

// Latest points at a period's newest pack.
type Latest struct {
	Schema      string    `json:"schema"` // evidence-latest/v1
	PackID      string    `json:"pack_id"`
	Path        string    `json:"path"` // the pack's key prefix
	GeneratedAt time.Time `json:"generated_at"`
	Complete    bool      `json:"complete"` // no unit failed
	Failures    int       `json:"failures"`
	// ManifestSHA256 fixes the pack's content, for the pack that replaces
	// it (pack.Manifest.Replaces).
	ManifestSHA256 string `json:"manifest_sha256,omitempty"`
}

// ReadLatest reads the latest.json of a tenant's period (label, as
// pack.PeriodLabel makes it) from the output store: the period's newest
// pack. Its error wraps storage.ErrNotExist when the period has none.
func ReadLatest(ctx context.Context, store pack.Reader, tenant, label string) (Latest, error) {
	key := pack.LatestPath("", tenant, label)
	rc, err := store.Get(ctx, key)
	if err != nil {
		return Latest{}, fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	var l Latest
	if err := json.NewDecoder(io.LimitReader(rc, storage.MaxReplaceSize)).Decode(&l); err != nil {
		return Latest{}, fmt.Errorf("read %s: %w", key, err)
	}
	return l, nil
}

// State is a tenant's scheduling state.
type State struct {
	Schema string `json:"schema"` // evidence-state/v1
	// LastPeriodEnd is the end of the latest period with a published pack
	// (failed units included: they are listed in that pack, and retrying
	// them forever would stall every later day); the next scheduled run
	// starts there, so a day with no pack at all is filled.
	LastPeriodEnd time.Time `json:"last_period_end"`
	// AuditWatermark is where the audit log has been collected up to,
	// without a gap, in every sub-account.
	AuditWatermark time.Time `json:"audit_watermark"`
	UpdatedAt      time.Time `json:"updated_at"`
	LastPackID     string    `json:"last_pack_id"`
	// LastPack is the tenant's pack published last, shards' packs
	// included: the next pack links to it (pack.Manifest.Previous).
	LastPack *pack.Link `json:"last_pack,omitempty"`
}

func statePath(tenant string) string { return pack.StatePath("", tenant) }

// ReadState returns the tenant's state; a missing state is the zero State.
func ReadState(ctx context.Context, store storage.Store, tenant string) (State, error) {
	rc, err := store.Get(ctx, statePath(tenant))
	if errors.Is(err, storage.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("read %s: %w", statePath(tenant), err)
	}
	defer rc.Close()
	var st State
	if err := json.NewDecoder(io.LimitReader(rc, storage.MaxReplaceSize)).Decode(&st); err != nil {
		return State{}, fmt.Errorf("read %s: %w", statePath(tenant), err)
	}
	return st, nil
}

// chain finds the links of the pack this run publishes: the tenant's pack
// published last (state.json), and the pack of the same period it
// replaces (the period's latest.json). A store that keeps no state gives
// neither; a state that cannot be read is a warning, and no link.
func (r *run) chain(ctx context.Context) (previous, replaces *pack.Link) {
	if _, ok := r.deps.Store.(storage.Replacer); !ok {
		return nil, nil
	}
	st, err := ReadState(ctx, r.deps.Store, r.tenant.Name)
	if err != nil {
		r.warn("the pack names no predecessor: %v", err)
	}
	previous = st.LastPack
	l, err := ReadLatest(ctx, r.deps.Store, r.tenant.Name, r.periodLabel())
	if errors.Is(err, storage.ErrNotExist) {
		return previous, nil
	}
	if err != nil {
		r.warn("the pack does not name the pack of its period it replaces: %v", err)
		return previous, nil
	}
	if l.ManifestSHA256 == "" {
		return previous, nil // written before packs were chained: nothing to fix its content by
	}
	return previous, &pack.Link{PackID: l.PackID, Path: l.Path, Period: pack.Period{From: r.period.From, To: r.period.To, Label: r.periodLabel()},
		ManifestSHA256: l.ManifestSHA256}
}

// recordPublished writes latest.json and advances state.json after a pack
// was published. Stores that cannot replace objects keep neither.
func (r *run) recordPublished(ctx context.Context, m pack.Manifest, auditTo time.Time, auditComplete bool) error {
	rep, ok := r.deps.Store.(storage.Replacer)
	if !ok {
		return nil
	}
	put := func(key string, v any) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		_, err = rep.Replace(ctx, key, bytes.NewReader(append(b, '\n')), storage.PutOptions{ContentType: "application/json"})
		return err
	}
	link := r.pw.Link()
	latest := Latest{Schema: "evidence-latest/v1", PackID: m.PackID, Path: r.pw.Prefix(), GeneratedAt: m.GeneratedAt,
		Complete: len(m.Failures) == 0, Failures: len(m.Failures), ManifestSHA256: link.ManifestSHA256}
	if err := put(pack.LatestPath("", r.tenant.Name, r.periodLabel()), latest); err != nil {
		return fmt.Errorf("latest.json: %w", err)
	}
	st, err := ReadState(ctx, r.deps.Store, r.tenant.Name)
	if err != nil {
		return err
	}
	st.Schema, st.UpdatedAt, st.LastPack = "evidence-state/v1", r.deps.Now().UTC(), &link
	if r.cfg.Shard.Count > 1 {
		// One shard's pack does not complete the period: only the chain
		// moves on.
		return put(statePath(r.tenant.Name), st)
	}
	st.LastPackID = m.PackID
	if r.period.To.After(st.LastPeriodEnd) {
		st.LastPeriodEnd = r.period.To
	}
	// A part of the tenant that discovery could not reach (a sub-account)
	// has no audit-log unit at all: its log is missing, whatever the others.
	if auditComplete && len(r.plan.Failures) == 0 && auditTo.After(st.AuditWatermark) {
		st.AuditWatermark = auditTo
	}
	if err := put(statePath(r.tenant.Name), st); err != nil {
		return fmt.Errorf("state.json: %w", err)
	}
	return nil
}

// CatchUp returns the periods a scheduled run should cover, oldest first:
// every whole UTC day from the state's last period end up to the period
// the run would cover anyway (ending at to), at most maxDays of them. With
// no state, or nothing missed, it is just [to-1d, to).
func CatchUp(st State, to time.Time, maxDays int) []period.Window {
	day := 24 * time.Hour
	to = to.UTC().Truncate(day)
	from := to.Add(-day)
	if !st.LastPeriodEnd.IsZero() {
		last := st.LastPeriodEnd.UTC().Truncate(day)
		if last.Before(from) {
			from = last
		}
	}
	if maxDays > 0 && to.Sub(from) > time.Duration(maxDays)*day {
		from = to.Add(-time.Duration(maxDays) * day)
	}
	var out []period.Window
	for d := from; d.Before(to); d = d.Add(day) {
		out = append(out, period.Window{From: d, To: d.Add(day)})
	}
	return out
}

// ScheduledRun runs one tenant over one day for CatchUpRuns: cfg holds that
// tenant only, its Period the day and its AuditFrom the tenant's audit
// watermark. It returns nil when a pack was published, even one with
// failed units: those are listed in the pack, and retrying them forever
// would stall every later day.
type ScheduledRun func(ctx context.Context, cfg *config.Config) error

// CatchUpRuns is one scheduled run: for each tenant of cfg in turn, it
// runs every day missed since the tenant's last published period
// (state.json beside the packs in store), oldest first, then the current
// one (CatchUp, up to cfg.Period.To). The audit log of each day starts at
// the watermark the day before left, so no interval is skipped or collected
// twice. A day with no pack stops its tenant: the later days wait for it,
// so the state never skips it, and the next scheduled run tries it again.
// The other tenants go on; every tenant's error is returned, joined.
func CatchUpRuns(ctx context.Context, cfg *config.Config, store storage.Store, log *slog.Logger, run ScheduledRun) error {
	var errs []error
	for _, t := range cfg.Tenants {
		one := *cfg
		one.Tenants = []config.Tenant{t}
		st, err := ReadState(ctx, store, t.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		days := CatchUp(st, cfg.Period.To, cfg.CatchUpDays)
		if len(days) > 1 {
			log.Warn("catching up missed days", "tenant", t.Name, "from", days[0].From, "days", len(days))
		}
		for _, w := range days {
			// Each day's run moved the watermark the next one starts at.
			if st, err = ReadState(ctx, store, t.Name); err != nil {
				errs = append(errs, err)
				break
			}
			one.Period, one.AuditFrom = w, st.AuditWatermark
			if err := run(ctx, &one); err != nil {
				errs = append(errs, fmt.Errorf("tenant %s, %s: %w", t.Name, w.From.Format(time.DateOnly), err))
				break
			}
		}
	}
	return errors.Join(errs...)
}

// ScheduledDeadline is when a scheduled run that starts at now ends (every
// day it catches up included): when the next one is due, at next, so runs
// never overlap. It gets at least a minute, cron's own granularity: only an
// "@every" of seconds fires sooner, and a tick that comes while a run is
// going is skipped anyway. A run's own timeout still ends it if earlier.
func ScheduledDeadline(now, next time.Time) config.Deadline {
	if earliest := now.Add(time.Minute); next.Before(earliest) {
		next = earliest
	}
	return config.Deadline{At: next, Reason: "the next scheduled run"}
}
