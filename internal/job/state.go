package job

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"time"

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
}

func statePath(tenant string) string { return path.Join(pack.TenantFolder(tenant), "state.json") }

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
	latest := Latest{Schema: "evidence-latest/v1", PackID: m.PackID, Path: r.pw.Prefix(), GeneratedAt: m.GeneratedAt,
		Complete: len(m.Failures) == 0, Failures: len(m.Failures)}
	if err := put(path.Join(path.Dir(r.pw.Prefix()), "latest.json"), latest); err != nil {
		return fmt.Errorf("latest.json: %w", err)
	}
	if r.cfg.Shard.Count > 1 {
		return nil // one shard's pack does not complete the period
	}
	st, err := ReadState(ctx, r.deps.Store, r.tenant.Name)
	if err != nil {
		return err
	}
	st.Schema, st.UpdatedAt, st.LastPackID = "evidence-state/v1", r.deps.Now().UTC(), m.PackID
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
