package periodreport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage"
)

// Asked is the report as the command line asks for it, before it is
// checked: the days as text, and whether --seed was given at all.
type Asked struct {
	Tenant, From, To string
	Sample           int
	Seed             uint64
	SeedSet          bool
}

// Check turns asked into a Request, or lists every reason it cannot be
// made (joined), before any pack is read. now is the current time: a day
// not yet over has no pack.
func Check(asked Asked, now time.Time) (Request, error) {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	req := Request{Tenant: asked.Tenant, Sample: asked.Sample, Seed: asked.Seed}
	if asked.Tenant == "" {
		add("--tenant: which tenant's packs (its name, as configured)")
	}
	parse := func(flag, s string) (time.Time, bool) {
		if s == "" {
			add("%s: a date (2026-11-21) is required", flag)
			return time.Time{}, false
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			add("%s: %q is not a date (2026-11-21): the report covers whole UTC days", flag, s)
			return time.Time{}, false
		}
		return t, true
	}
	from, okFrom := parse("--from", asked.From)
	to, okTo := parse("--to", asked.To)
	today := now.UTC().Truncate(day)
	if okFrom && okTo {
		req.From, req.To = from, to.Add(day)
		if to.Before(from) {
			add("--from %s is after --to %s", asked.From, asked.To)
		}
	}
	if okTo && !to.Before(today) {
		add("--to %s: the day is not over yet (today is %s UTC), so it has no daily pack; the last day a report can cover is %s", asked.To, date(today), date(today.Add(-day)))
	}
	switch {
	case asked.Sample < 0:
		add("--sample %d: a number of days, at least 1", asked.Sample)
	case asked.Sample > 0 && !asked.SeedSet:
		add("--sample without --seed: give the seed (any number, recorded in the report) so that anyone can draw the same sample again")
	case asked.Sample == 0 && asked.SeedSet:
		add("--seed without --sample: how many days to draw")
	case asked.Sample > 0 && okFrom && okTo && !to.Before(from) && asked.Sample > req.Days():
		add("--sample %d: the period has %d days", asked.Sample, req.Days())
	}
	return req, errors.Join(errs...)
}

// TenantFolder reports whether packs (a store rooted at the output) holds
// the tenant's folder; the error wraps storage.ErrNotExist when it does not.
func TenantFolder(ctx context.Context, packs pack.Reader, tenant string) error {
	dir := pack.TenantFolder(tenant) + "/"
	errFound := errors.New("found")
	err := packs.List(ctx, dir, func(storage.Object) error { return errFound })
	switch {
	case errors.Is(err, errFound):
		return nil
	case err != nil:
		return fmt.Errorf("list %s: %w", dir, err)
	}
	return fmt.Errorf("no folder %s (tenant %q) in it: %w", dir, tenant, storage.ErrNotExist)
}
