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
	Pack *DayPack // nil: a gap; a pack of several days is shared by each of them
	Gap  string   // why there is no pack ("" when there is one)
	// PassedOver are the other packs whose period's folder covers the day
	// and that were not read for it (the order of preference, chosen):
	// their keys under the output read.
	PassedOver []string
	// SampleOrder is the day's position in the sample's draw (1, 2, …);
	// 0 when it was not drawn.
	SampleOrder int
}

// DayPack is the pack a day's figures come from: the day's own pack, or a
// pack whose period covers the day among others (a weekly run, a run over
// several days, a catch-up), which is then the evidence of each of them.
type DayPack struct {
	ID             string
	Path           string // its key under the output read
	ManifestSHA256 string
	GeneratedAt    time.Time
	Period         pack.Period // the pack's own period (manifest period)
	// AssessedFirst and AssessedLast are the earliest and latest time the
	// platform assessed an account in the pack (its controls' report_time):
	// a pack of several days holds one assessment per account, not one
	// per day. Zero when no control has one.
	AssessedFirst, AssessedLast time.Time
	Source                      string // manifest source.system
	SignedBy                    string // manifest signature.key_fingerprint
	Replaces                    string // the pack id it supersedes
	Failures                    int    // units that failed in its run
	failingOnly                 bool   // manifest source.failing_only
	// scoped counts the frameworks of each name in the manifest's scope;
	// failed names the frameworks with a failed report unit (the manifest
	// names frameworks by name only).
	scoped map[string]int
	failed map[string]bool
}

// Days is the number of whole UTC days the pack's period covers (1 for a
// daily pack).
func (p *DayPack) Days() int {
	first := p.Period.From.UTC().Truncate(day)
	if first.Before(p.Period.From) {
		first = first.Add(day)
	}
	return max(0, int(p.Period.To.UTC().Truncate(day).Sub(first)/day))
}

// Counts are a framework's controls on one day by status, and whether
// the day's figures are partial (some of its reports failed).
type Counts struct {
	Compliant, NonCompliant, Other int64
	// Partial: a report unit of a framework of this name failed in the
	// day's pack (its manifest names a failed unit's framework by name
	// only: of two frameworks of one name, both are marked).
	Partial bool
	Present bool // the day's pack holds the framework
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
	SubAccount                string
	Framework                 dataset.FrameworkKey
	AccountID, ControlID      string
	Title, Severity           string
	FirstFailed, LastFailed   time.Time
	DaysFailing, DaysAssessed int
	// WholePeriod: NonCompliant in every day's pack of the range.
	WholePeriod bool
}

type controlKey struct {
	sub       string
	framework dataset.FrameworkKey
	account   string
	control   string
}

// runState is a control's run-length state as the days are folded in.
type runState struct {
	title, severity           string
	first, last               time.Time
	daysFailing, daysAssessed int
}

// Report is the period report's content.
type Report struct {
	Request
	Location string // the packs' output, as the user named it
	Days     []Day  // every day of the range, in order
	// Frameworks are every framework of the days' packs, by name, then
	// cloud; FrameworkLabel names each in the report.
	Frameworks  []dataset.FrameworkKey
	Daily       map[dataset.FrameworkKey][]Counts // one entry per day of Days
	Controls    []Control                         // that failed on some day, most days failing first
	Sources     []string                          // the systems the packs came from
	SampleDrawn []int                             // indexes into Days, in draw order
	// SampleAsked is the sample size asked for; SampleDrawn has fewer when
	// fewer days have a pack.
	SampleAsked int
}

// FrameworkLabel is how the report names framework k: its name, and where
// another framework of the report has the same name, its cloud too.
func (r *Report) FrameworkLabel(k dataset.FrameworkKey) string {
	for _, o := range r.Frameworks {
		if o.Name == k.Name && o != k {
			return k.Name + " (" + cmp.Or(k.Cloud, "every cloud") + ")"
		}
	}
	return k.Name
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

// SharedDays is the number of days whose pack's period spans more than
// that day.
func (r *Report) SharedDays() int {
	n := 0
	for _, d := range r.Days {
		if d.Pack != nil && d.Pack.Days() > 1 {
			n++
		}
	}
	return n
}

// Read reads the tenant's packs of the range from packs (a store rooted at
// the output that holds the tenants' folders) and makes the report. Each
// day's evidence is the day's own pack or, for a day without one, a pack
// whose period covers the day whole (candidates says which first). A
// day's chosen pack that is gone or does not match its manifest is a gap;
// the error is for packs that could not be read at all (the store, the
// context).
func Read(ctx context.Context, packs pack.Reader, location string, req Request, log *slog.Logger) (*Report, error) {
	rep := &Report{Request: req, Location: location, Daily: map[dataset.FrameworkKey][]Counts{}, SampleAsked: req.Sample}
	n := req.Days()
	runs := map[controlKey]*runState{}
	sources := map[string]bool{}
	longer, err := longerPeriods(ctx, packs, req)
	if err != nil {
		return nil, fmt.Errorf("period report: %w", err)
	}
	// The packs of several days read so far, until the days pass their end:
	// each is read once, and folded into every day it covers.
	read := map[string]readResult{}
	for i := range n {
		d := Day{Day: req.From.Add(time.Duration(i) * day)}
		for p := range read {
			if !read[p].until.After(d.Day) {
				delete(read, p)
			}
		}
		dp, data, passed, err := readDay(ctx, packs, req.Tenant, d.Day, longer, read)
		d.PassedOver = passed
		var gap gapError
		switch {
		case errors.As(err, &gap):
			d.Gap = gap.why
			log.Info("period report: a day without a pack", "day", d.Day.Format(time.DateOnly), "gap", gap.why)
		case err != nil:
			return nil, fmt.Errorf("period report: %s: %w", d.Day.Format(time.DateOnly), err)
		default:
			d.Pack = dp
			sources[dp.Source] = true
			rep.fold(i, n, d.Day, data, runs)
		}
		rep.Days = append(rep.Days, d)
	}
	rep.present(n)
	rep.Frameworks = slices.SortedFunc(maps.Keys(rep.Daily), compareFrameworks)
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
		return cmp.Or(cmp.Compare(b.DaysFailing, a.DaysFailing), compareFrameworks(a.Framework, b.Framework), strings.Compare(a.SubAccount, b.SubAccount),
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

func compareFrameworks(a, b dataset.FrameworkKey) int {
	return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Cloud, b.Cloud))
}

// present marks, for each day with a pack, the frameworks its manifest's
// scope names as in the pack even where it has no controls row of them
// (every report of the framework failed), and those with a failed report
// unit as partial. The manifest names frameworks by name only: a name with
// fewer frameworks holding rows that day than the scope lists marks every
// framework of that name without rows as present.
func (rep *Report) present(n int) {
	for i, d := range rep.Days {
		p := d.Pack
		if p == nil {
			continue
		}
		withRows := map[string]int{}
		for k, s := range rep.Daily {
			if s[i].Present {
				withRows[k.Name]++
			}
		}
		for name, listed := range p.scoped {
			if withRows[name] >= listed {
				continue
			}
			found := false
			for k, s := range rep.Daily {
				if k.Name == name {
					found = true
					if !s[i].Present {
						s[i] = Counts{Present: true, FailingOnly: p.failingOnly}
					}
				}
			}
			if !found {
				s := make([]Counts, n)
				s[i] = Counts{Present: true, FailingOnly: p.failingOnly}
				rep.Daily[dataset.FrameworkKey{Name: name}] = s
			}
		}
		for k, s := range rep.Daily {
			if s[i].Present && p.failed[k.Name] {
				s[i].Partial = true
			}
		}
	}
}

// dayData is what a pack says, folded into the report (for each day it
// covers) and dropped.
type dayData struct {
	counts   map[dataset.FrameworkKey]*Counts
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

// period is a period folder of the tenant whose label names several days.
type period struct {
	label    string
	from, to time.Time // its days, as the label names them: [from, to)
}

// longerPeriods lists the tenant's period folders whose label names
// several days (a run over several days, a weekly run, a catch-up) that
// overlap the range: shortest first, then the latest start. Listing the
// tenant's folder is the only way the store interface offers to find its
// folders (no delimiter): one pass, keeping the labels only.
func longerPeriods(ctx context.Context, packs pack.Reader, req Request) ([]period, error) {
	dir := pack.TenantFolder(req.Tenant) + "/"
	seen := map[string]bool{}
	var out []period
	// Keys come in order, and a period folder's name starts with its first
	// day: the folders after the range's last day cover none of it.
	errPast := errors.New("past the range")
	last := req.To.Add(-day).Format(time.DateOnly)
	err := packs.List(ctx, dir, func(o storage.Object) error {
		label, _, ok := strings.Cut(strings.TrimPrefix(o.Key, dir), "/")
		if !ok || seen[label] {
			return nil
		}
		seen[label] = true
		if len(label) >= len(last) && label[:len(last)] > last && label[0] >= '0' && label[0] <= '9' {
			return errPast
		}
		a, b, ok := strings.Cut(label, "_")
		if !ok {
			return nil
		}
		from, err1 := time.Parse(time.DateOnly, a)
		last, err2 := time.Parse(time.DateOnly, b)
		if err1 != nil || err2 != nil || !last.After(from) || storage.SafePart(pack.PeriodLabel(from, last.Add(day))) != label {
			return nil
		}
		if p := (period{label: label, from: from, to: last.Add(day)}); p.from.Before(req.To) && p.to.After(req.From) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errPast) {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	slices.SortFunc(out, func(a, b period) int {
		return cmp.Or(cmp.Compare(a.to.Sub(a.from), b.to.Sub(b.from)), b.from.Compare(a.from), strings.Compare(a.label, b.label))
	})
	return out, nil
}

// readResult is a pack read: its figures, or the gap it makes.
type readResult struct {
	dp    *DayPack
	data  dayData
	err   error
	until time.Time // the end of its folder's period: dropped once the days reach it
}

// readDay finds the day's pack and reads its manifest and controls. The
// candidates, in order: the day's own folder (its latest.json, or its
// newest pack), then the folders of longer periods that name the day
// (longer: shortest period first, then the latest start). The first
// candidate whose manifest's period covers the whole day is the day's
// pack, whether or not it then reads: one that does not is a gap with the
// reason, never replaced by another. passed are the candidates after it.
// read caches the packs of several days.
func readDay(ctx context.Context, packs pack.Reader, tenant string, d time.Time, longer []period, read map[string]readResult) (*DayPack, dayData, []string, error) {
	var notWhole []string // candidates whose period does not cover the whole day
	own := pack.PeriodLabel(d, d.Add(day))
	labels := []period{{label: own, from: d, to: d.Add(day)}}
	for _, p := range longer {
		if !p.from.After(d) && p.to.After(d) {
			labels = append(labels, p)
		}
	}
	var chosen *readResult
	var passed []string
	for _, p := range labels {
		if chosen != nil {
			if at, err := locate(ctx, packs, tenant, p.label); err == nil && at.path != "" {
				passed = append(passed, at.path)
			} else if err != nil {
				return nil, dayData{}, nil, err
			}
			continue
		}
		r, ok := read[p.label]
		if !ok {
			at, err := locate(ctx, packs, tenant, p.label)
			if err != nil {
				return nil, dayData{}, nil, err
			}
			if at.path == "" {
				continue // no pack in the folder
			}
			r = readPack(ctx, packs, at)
			r.until = p.to
			if p.label != own {
				read[p.label] = r
			}
		}
		var gap gapError
		if errors.As(r.err, &gap) || r.err == nil {
			if r.dp != nil && (r.dp.Period.From.After(d) || r.dp.Period.To.Before(d.Add(day))) {
				notWhole = append(notWhole, fmt.Sprintf("pack %s covers %s, not the whole day", r.dp.Path, r.dp.Period.Label))
				continue
			}
		}
		if r.err != nil && !errors.As(r.err, &gap) {
			return nil, dayData{}, nil, r.err
		}
		chosen = &r
	}
	switch {
	case chosen != nil:
		return chosen.dp, chosen.data, passed, chosen.err
	case len(notWhole) > 0:
		return nil, dayData{}, nil, gapf("no pack covers the whole day: %s", strings.Join(notWhole, "; "))
	}
	return nil, dayData{}, nil, gapf("no pack")
}

// located is a period folder's pack: its key, and the SHA-256 its
// latest.json recorded of its manifest ("" when no latest.json was kept).
type located struct{ path, wantSHA string }

// locate finds the pack of a period folder: the one its latest.json
// names (the newest; a rerun supersedes), or, in a store that keeps no
// latest.json, the newest in the folder; path "" when there is none.
func locate(ctx context.Context, packs pack.Reader, tenant, label string) (located, error) {
	l, err := job.ReadLatest(ctx, packs, tenant, label)
	switch {
	case err == nil:
		return located{l.Path, l.ManifestSHA256}, nil
	case !errors.Is(err, storage.ErrNotExist):
		return located{}, err
	}
	found, err := pack.Packs(ctx, packs, path.Join(pack.TenantFolder(tenant), storage.SafePart(label)))
	if err != nil || len(found) == 0 {
		return located{}, err
	}
	return located{path: found[0]}, nil
}

// readPack reads a pack's manifest and controls. A pack that is gone or
// does not match its manifest (or its latest.json) is a gapError; r.dp is
// set once the manifest is read.
func readPack(ctx context.Context, packs pack.Reader, at located) (r readResult) {
	dp := &DayPack{Path: at.path}
	mb, err := readCapped(ctx, packs, dp.Path+"/"+pack.ManifestName)
	if errors.Is(err, storage.ErrNotExist) {
		return readResult{err: gapf("latest.json names pack %s, which is gone (no manifest.json)", dp.Path)}
	}
	if err != nil {
		return readResult{err: err}
	}
	sum := sha256.Sum256(mb)
	dp.ManifestSHA256 = hex.EncodeToString(sum[:])
	if at.wantSHA != "" && at.wantSHA != dp.ManifestSHA256 {
		return readResult{err: gapf("pack %s: its manifest.json has SHA-256 %s, latest.json recorded %s: it was changed after it was published", dp.Path, dp.ManifestSHA256, at.wantSHA)}
	}
	m, err := pack.DecodeManifest(strings.NewReader(string(mb)))
	if err != nil {
		return readResult{err: gapf("pack %s: %v", dp.Path, err)}
	}
	dp.ID, dp.GeneratedAt, dp.Source, dp.Failures, dp.Period = m.PackID, m.GeneratedAt, m.Source.System, len(m.Failures), m.Period
	dp.failingOnly = m.Source.FailingOnly
	if m.Signature != nil {
		dp.SignedBy = m.Signature.KeyFingerprint
	}
	if m.Replaces != nil {
		dp.Replaces = m.Replaces.PackID
	}
	dp.scoped, dp.failed = map[string]int{}, map[string]bool{}
	for _, fw := range m.Scope.Frameworks {
		dp.scoped[fw]++
	}
	for _, f := range m.Failures {
		if f.Framework != "" && f.Dataset == dataset.Reports {
			dp.failed[f.Framework] = true
		}
	}
	data := dayData{counts: map[dataset.FrameworkKey]*Counts{}, controls: map[controlKey]dayControl{}}
	err = drift.EachRow(ctx, pack.Listed(packs, dp.Path, m), "", dataset.Controls, func(row drift.ControlRow) {
		r := row.Control()
		fw := row.FrameworkKey()
		c, ok := data.counts[fw]
		if !ok {
			c = &Counts{Present: true, FailingOnly: m.Source.FailingOnly}
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
		if at := row.AssessedAt(); !at.IsZero() {
			if dp.AssessedFirst.IsZero() || at.Before(dp.AssessedFirst) {
				dp.AssessedFirst = at
			}
			if at.After(dp.AssessedLast) {
				dp.AssessedLast = at
			}
		}
		data.controls[controlKey{r.SubAccount, fw, r.AccountID, r.ControlID}] = dayControl{
			title: r.Title, severity: r.Severity, failing: st == dataset.NonCompliant}
	})
	if errors.Is(err, pack.ErrChanged) || errors.Is(err, storage.ErrNotExist) {
		return readResult{dp: dp, err: gapf("pack %s does not verify: %v", dp.Path, err)}
	}
	if err != nil {
		return readResult{err: fmt.Errorf("pack %s: %w", dp.Path, err)}
	}
	return readResult{dp: dp, data: data}
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
