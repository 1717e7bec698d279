package job

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/source"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
)

// The writing a run does after its last request, for the plan. A
// framework's workbook and PDF start once its last report is in (their
// first pages hold its totals); its first pass and its OSCAL result are
// done as its reports come (takeFramework, oscalDone). After every
// collector: the OSCAL document (the results copied, the back-matter),
// the summary PDF, the manifest. None of it waits for the API, so it is
// the machine's: the plan times it here, on a scratch pack in memory of
// copies of one report, at two sizes. A scratch pack's heap is smaller
// than a large run's, whose collector then works more: the timing is a
// floor of the same kind as the requests' latency.

// WriteCost is what writing costs on this machine, as the plan timed it.
type WriteCost struct {
	// FrameworkFixed and PerReport: a framework's workbook and PDF, and
	// its OSCAL result beside them, take FrameworkFixed + PerReport × its
	// reports.
	FrameworkFixed, PerReport time.Duration
	// EndFixed and EndPerReport: the pack's end (OSCAL document, summary
	// PDF, manifest) takes EndFixed + EndPerReport × the pack's reports.
	EndFixed, EndPerReport time.Duration
	Sample                 int // reports of the larger scratch pack
}

// The scratch packs' sizes, and how many times each is timed (the least
// time counts: what the machine's other work adds to a timing is noise,
// never less than nothing): large enough that a report's cost shows over
// the fixed costs (a PDF's fonts, a workbook's styles), small enough that
// timing them takes a second or two of the plan, whose run takes hours.
const (
	tailSmall  = 20
	tailLarge  = 100
	tailRounds = 3
)

// timeWriting times the writing of scratch packs of tailSmall and
// tailLarge copies of the plan's first report (fetched once more: one
// request), and fits a line through the two: fixed cost and cost per
// report. ok is false when there is no report to time (no framework, or
// its fetch failed: the plan then stands without).
func (r *run) timeWriting(ctx context.Context) (WriteCost, bool, error) {
	var f source.Framework
	for _, fw := range r.plan.Frameworks {
		if len(fw.Units) > 0 {
			f = fw
			break
		}
	}
	if len(f.Units) == 0 {
		return WriteCost{}, false, nil
	}
	rep, err := fetchReport(ctx, f.Units[0], r.deps.SpoolDir)
	if err != nil {
		if rep != nil {
			_ = rep.Close()
		}
		return WriteCost{}, false, ctx.Err()
	}
	defer rep.Close()
	var fw, end [2]time.Duration
	for range tailRounds {
		for i, n := range []int{tailSmall, tailLarge} {
			f, e, err := r.scratchPack(ctx, f, rep, n)
			if err != nil {
				return WriteCost{}, false, err
			}
			if fw[i] == 0 || f < fw[i] {
				fw[i] = f
			}
			if end[i] == 0 || e < end[i] {
				end[i] = e
			}
		}
	}
	c := WriteCost{Sample: tailLarge}
	c.FrameworkFixed, c.PerReport = fitLine(fw[0], fw[1])
	c.EndFixed, c.EndPerReport = fitLine(end[0], end[1])
	return c, true, nil
}

// fitLine is the line through (tailSmall, a) and (tailLarge, b): its
// value at 0 and its slope, neither below 0 (the timings are noisy; a
// negative slope is noise, and then the larger pack's mean is the cost).
func fitLine(a, b time.Duration) (fixed, per time.Duration) {
	per = (b - a) / (tailLarge - tailSmall)
	if per <= 0 {
		return 0, b / tailLarge
	}
	return max(0, b-per*tailLarge), per
}

// sameReport is one report read again as another account's: Close is the
// caller's.
type sameReport struct{ source.Report }

func (sameReport) Close() error { return nil }

// scratchPack writes n copies of rep, each another cloud account's, as
// one framework of a pack in memory, as a run does: the first pass, then
// (timed) the workbook and PDF, then (timed) the pack's end.
func (r *run) scratchPack(ctx context.Context, f source.Framework, rep source.Report, n int) (fw, end time.Duration, err error) {
	units := make([]source.ReportUnit, n)
	for i := range units {
		units[i] = f.Units[0]
		units[i].Account = fmt.Sprintf("%s-%d", f.Units[0].Account, i)
	}
	plan := &source.Plan{SubAccounts: []string{units[0].SubAccount}, Frameworks: []source.Framework{{Name: f.Name, Cloud: f.Cloud, Units: units}}}
	for _, u := range units {
		plan.Accounts = append(plan.Accounts, u.Account)
	}
	deps := r.deps
	deps.Logger, deps.Progress = slog.New(slog.DiscardHandler), nopProgress{}
	s := &run{startedAt: r.deps.Now().UTC().Truncate(time.Second), cfg: r.cfg, tenant: r.tenant, deps: deps, id: "plan-scratch",
		period: r.period, audit: r.audit, summary: newSummary(), red: r.red, src: r.src, info: r.info, plan: plan,
		log: slog.New(slog.DiscardHandler)}
	s.folders.assign(plan)
	if err := s.newOSCAL(); err != nil {
		return 0, 0, err
	}
	defer s.oscal.close()
	if s.pw, err = pack.NewWriter(ctx, memstore.New(), "scratch"); err != nil {
		return 0, 0, fmt.Errorf("scratch pack: %w", err)
	}
	defer s.pw.Abort(ctx)
	pf := newPrefetcher(ctx, n, func(int) string { return "" }, prefetchPerLane, prefetchAhead,
		func(context.Context, int) prefetched { return prefetched{rep: sameReport{rep}} }, prefetched.close)
	defer pf.Stop()
	fr := s.frameworks()[0]
	start := time.Now()
	reps, fs, err := s.takeFramework(ctx, ctx, fr, pf)
	if err != nil {
		return 0, 0, err
	}
	// The framework's OSCAL result is being sealed (takeFramework), on a
	// goroutine, while its workbook and PDF are written: the last
	// framework's writing is done when both are.
	t := time.Now()
	if err := s.writeFramework(ctx, fr, reps, fs); err != nil {
		return 0, 0, err
	}
	s.oscal.seals.Wait()
	fw = time.Since(t)
	t = time.Now()
	if err := s.writeOSCAL(ctx); err != nil {
		return 0, 0, err
	}
	if err := s.writeSummaryPDF(ctx, s.manifest(start)); err != nil {
		return 0, 0, err
	}
	if err := s.pw.Publish(ctx, s.manifest(start)); err != nil {
		return 0, 0, fmt.Errorf("scratch pack: %w", err)
	}
	return fw, time.Since(t), nil
}
