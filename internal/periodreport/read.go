package periodreport

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/drift"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage"
)

const day = 24 * time.Hour

// Request is the report asked for.
type Request struct {
	Tenant string    // as configured (its folder is pack.TenantFolder(Tenant))
	From   time.Time // the first UTC day, at 00:00
	To     time.Time // the day after the last, at 00:00 (exclusive)
	// Sample is how many days with a pack to draw (0: none), with Seed.
	Sample int
	Seed   uint64
}

// Days is the number of days of the range.
func (r Request) Days() int { return int(r.To.Sub(r.From) / day) }

// Label is the range's label, pack.PeriodLabel.
func (r Request) Label() string { return pack.PeriodLabel(r.From, r.To) }

// Day is one UTC day of the range.
type Day struct {
	Day  time.Time
	Pack *DayPack // nil: a gap
	Gap  string   // why there is no pack ("" when there is one)
	// SampleOrder is the day's position in the sample's draw (1, 2, …);
	// 0 when it was not drawn.
	SampleOrder int
}

// DayPack is the pack a day's figures come from.
type DayPack struct {
	ID             string
	Path           string // its key under the output read
	ManifestSHA256 string
	GeneratedAt    time.Time
	Source         string // manifest source.system
	SignedBy       string // manifest signature.key_fingerprint
	Replaces       string // the pack id it supersedes
	Failures       int    // units that failed in its run
}

// Counts are a framework's controls on one day by status, and whether
// the day's figures are partial (some of its reports failed).
type Counts struct {
	Compliant, NonCompliant, Other int64
	Partial                        bool
	Present                        bool // the day's pack holds the framework
	// FailingOnly: the day's platform reports failing rules only (its
	// manifest's source.failing_only), so there is no percentage.
	FailingOnly bool
}

// Compliance is dataset.Compliance of the counts; none for a platform
// that reports failing rules only, as the daily pack has none.
func (c Counts) Compliance() (float64, bool) {
	if c.FailingOnly {
		return 0, false
	}
	return dataset.Compliance(map[dataset.Status]int64{dataset.Compliant: c.Compliant, dataset.NonCompliant: c.NonCompliant})
}

// Control is a control that failed on at least one day.
type Control struct {
	SubAccount, Framework, AccountID, ControlID string
	Title, Severity                             string
	FirstFailed, LastFailed                     time.Time
	DaysFailing, DaysAssessed                   int
	// WholePeriod: NonCompliant in every day's pack of the range.
	WholePeriod bool
}

type controlKey struct{ sub, framework, account, control string }

// runState is a control's run-length state as the days are folded in.
type runState struct {
	title, severity           string
	first, last               time.Time
	daysFailing, daysAssessed int
}

// Report is the period report's content.
type Report struct {
	Request
	Location    string // the packs' output, as the user named it
	Days        []Day  // every day of the range, in order
	Frameworks  []string
	Daily       map[string][]Counts // by framework: one entry per day of Days
	Controls    []Control           // that failed on some day, most days failing first
	Sources     []string            // the systems the packs came from
	SampleDrawn []int               // indexes into Days, in draw order
	// SampleAsked is the sample size asked for; SampleDrawn has fewer when
	// fewer days have a pack.
	SampleAsked int
}

// PackDays is the number of days with a pack.
func (r *Report) PackDays() int {
	n := 0
	for _, d := range r.Days {
		if d.Pack != nil {
			n++
		}
	}
	return n
}

// Read reads the tenant's daily packs of the range from packs (a store
// rooted at the output that holds the tenants' folders) and makes the
// report. A day's pack that is missing or does not match its manifest is
// a gap; the error is for packs that could not be read at all (the
// store, the context).
func Read(ctx context.Context, packs pack.Reader, location string, req Request, log *slog.Logger) (*Report, error) {
	rep := &Report{Request: req, Location: location, Daily: map[string][]Counts{}, SampleAsked: req.Sample}
	n := req.Days()
	runs := map[controlKey]*runState{}
	sources := map[string]bool{}
	for i := range n {
		d := Day{Day: req.From.Add(time.Duration(i) * day)}
		dp, data, err := readDay(ctx, packs, req.Tenant, d.Day)
		var gap gapError
		switch {
		case errors.As(err, &gap):
			d.Gap = gap.why
			log.Info("period report: a day without a pack", "day", d.Day.Format(time.DateOnly), "gap", gap.why)
		case err != nil:
			return nil, fmt.Errorf("period report: %s: %w", d.Day.Format(time.DateOnly), err)
		default:
			d.Pack = &dp
			sources[dp.Source] = true
			rep.fold(i, n, d.Day, data, runs)
		}
		rep.Days = append(rep.Days, d)
	}
	rep.Frameworks = slices.Sorted(maps.Keys(rep.Daily))
	rep.Sources = slices.Sorted(maps.Keys(sources))
	packDays := rep.PackDays()
	for k, s := range runs {
		if s.daysFailing == 0 {
			continue
		}
		rep.Controls = append(rep.Controls, Control{SubAccount: k.sub, Framework: k.framework, AccountID: k.account, ControlID: k.control,
			Title: s.title, Severity: s.severity, FirstFailed: s.first, LastFailed: s.last, DaysFailing: s.daysFailing,
			DaysAssessed: s.daysAssessed, WholePeriod: s.daysFailing == packDays})
	}
	slices.SortFunc(rep.Controls, func(a, b Control) int {
		return cmp.Or(cmp.Compare(b.DaysFailing, a.DaysFailing), strings.Compare(a.Framework, b.Framework), strings.Compare(a.SubAccount, b.SubAccount),
			strings.Compare(a.AccountID, b.AccountID), strings.Compare(a.ControlID, b.ControlID))
	})
	if req.Sample > 0 {
		var withPack []int
		for i, d := range rep.Days {
			if d.Pack != nil {
				withPack = append(withPack, i)
			}
		}
		rep.SampleDrawn = Sample(withPack, req.Sample, req.Seed)
		for k, i := range rep.SampleDrawn {
			rep.Days[i].SampleOrder = k + 1
		}
	}
	return rep, nil
}

// dayData is what a day's pack says, folded into the report and dropped.
type dayData struct {
	counts   map[string]*Counts // by framework
	controls map[controlKey]dayControl
}

type dayControl struct {
	title, severity string
	failing         bool
}

func (rep *Report) fold(i, n int, d time.Time, data dayData, runs map[controlKey]*runState) {
	for fw, c := range data.counts {
		series, ok := rep.Daily[fw]
		if !ok {
			series = make([]Counts, n)
			rep.Daily[fw] = series
		}
		series[i] = *c
	}
	for k, c := range data.controls {
		s, ok := runs[k]
		if !ok {
			s = &runState{}
			runs[k] = s
		}
		s.title, s.severity = c.title, c.severity
		s.daysAssessed++
		if c.failing {
			if s.daysFailing == 0 {
				s.first = d
			}
			s.last = d
			s.daysFailing++
		}
	}
}

// gapError is a day without a pack the report can read: the reason.
type gapError struct{ why string }

func (g gapError) Error() string { return g.why }

func gapf(format string, a ...any) error { return gapError{fmt.Sprintf(format, a...)} }

// readDay finds the day's pack and reads its manifest and controls.
func readDay(ctx context.Context, packs pack.Reader, tenant string, d time.Time) (DayPack, dayData, error) {
	label := pack.PeriodLabel(d, d.Add(day))
	var dp DayPack
	var wantSHA string
	l, err := job.ReadLatest(ctx, packs, tenant, label)
	switch {
	case err == nil:
		dp.Path, wantSHA = l.Path, l.ManifestSHA256
	case errors.Is(err, storage.ErrNotExist):
		// A store that keeps no latest.json: the newest pack of the day.
		found, err := pack.Packs(ctx, packs, path.Join(pack.TenantFolder(tenant), storage.SafePart(label)))
		if err != nil {
			return dp, dayData{}, err
		}
		if len(found) == 0 {
			return dp, dayData{}, gapf("no pack")
		}
		dp.Path = found[0]
	default:
		return dp, dayData{}, err
	}
	mb, err := readCapped(ctx, packs, dp.Path+"/"+pack.ManifestName)
	if errors.Is(err, storage.ErrNotExist) {
		return dp, dayData{}, gapf("latest.json names pack %s, which is gone (no manifest.json)", dp.Path)
	}
	if err != nil {
		return dp, dayData{}, err
	}
	sum := sha256.Sum256(mb)
	dp.ManifestSHA256 = hex.EncodeToString(sum[:])
	if wantSHA != "" && wantSHA != dp.ManifestSHA256 {
		return dp, dayData{}, gapf("pack %s: its manifest.json has SHA-256 %s, latest.json recorded %s: it was changed after it was published", dp.Path, dp.ManifestSHA256, wantSHA)
	}
	m, err := pack.DecodeManifest(strings.NewReader(string(mb)))
	if err != nil {
		return dp, dayData{}, gapf("pack %s: %v", dp.Path, err)
	}
	if !m.Period.From.Equal(d) || !m.Period.To.Equal(d.Add(day)) {
		return dp, dayData{}, gapf("pack %s covers %s, not the day", dp.Path, m.Period.Label)
	}
	dp.ID, dp.GeneratedAt, dp.Source, dp.Failures = m.PackID, m.GeneratedAt, m.Source.System, len(m.Failures)
	if m.Signature != nil {
		dp.SignedBy = m.Signature.KeyFingerprint
	}
	if m.Replaces != nil {
		dp.Replaces = m.Replaces.PackID
	}
	data := dayData{counts: map[string]*Counts{}, controls: map[controlKey]dayControl{}}
	for _, fw := range m.Scope.Frameworks {
		data.counts[fw] = &Counts{FailingOnly: m.Source.FailingOnly}
	}
	err = drift.EachRow(ctx, pack.Listed(packs, dp.Path, m), "", dataset.Controls, func(row drift.ControlRow) {
		r := row.Control()
		fw := r.Framework
		c, ok := data.counts[fw]
		if !ok {
			c = &Counts{FailingOnly: m.Source.FailingOnly}
			data.counts[fw] = c
		}
		st := r.Status
		switch st {
		case dataset.Compliant:
			c.Compliant++
		case dataset.NonCompliant:
			c.NonCompliant++
		default:
			c.Other++
		}
		data.controls[controlKey{r.SubAccount, fw, r.AccountID, r.ControlID}] = dayControl{
			title: r.Title, severity: r.Severity, failing: st == dataset.NonCompliant}
	})
	if errors.Is(err, pack.ErrChanged) || errors.Is(err, storage.ErrNotExist) {
		return dp, dayData{}, gapf("pack %s does not verify: %v", dp.Path, err)
	}
	if err != nil {
		return dp, dayData{}, fmt.Errorf("pack %s: %w", dp.Path, err)
	}
	for fw, c := range data.counts {
		c.Present = true
		for _, f := range m.Failures {
			if f.Framework == fw && f.Dataset == dataset.Reports {
				c.Partial = true
			}
		}
	}
	return dp, data, nil
}

func readCapped(ctx context.Context, s pack.Reader, key string) ([]byte, error) {
	rc, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, pack.MaxManifestSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > pack.MaxManifestSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", key, pack.MaxManifestSize)
	}
	return b, nil
}
