package periodreport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/reportgen/parquet"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
)

// fwRows are a framework's controls in a test pack: its name, its cloud
// and, per control, whether it fails.
type fwRows struct {
	name, cloud, account string
	failing              []bool // control i fails
}

// testPack is a pack to publish for tenant acme.
type testPack struct {
	source   string
	from, to string // days, to inclusive
	run      int    // orders the run ids: a later run is newer
	fws      []fwRows
}

func (tp testPack) period() (time.Time, time.Time) {
	from, _ := time.Parse(time.DateOnly, tp.from)
	to, _ := time.Parse(time.DateOnly, tp.to)
	return from, to.Add(day)
}

// publish writes tp into store as a run would: controls Parquet, a
// manifest, and its period's latest.json. It returns the pack's prefix.
func publish(t *testing.T, store storage.Store, tp testPack) string {
	t.Helper()
	ctx := context.Background()
	from, to := tp.period()
	label := pack.PeriodLabel(from, to)
	at := to.Add(time.Duration(tp.run) * time.Hour)
	id := pack.RunID(at, strings.NewReader(fmt.Sprintf("%08d", tp.run)))
	prefix := pack.PackPrefix("", "acme", label, id)
	w, err := pack.NewWriter(ctx, store, prefix)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var folders pack.Folders
	for _, f := range tp.fws {
		names = append(names, f.name)
		var rows []dataset.Row
		for i, fails := range f.failing {
			st := dataset.Compliant
			if fails {
				st = dataset.NonCompliant
			}
			c := dataset.Control{Framework: f.name, Cloud: f.cloud, AccountID: f.account, ReportTime: from.Add(3 * time.Hour),
				ControlID: fmt.Sprintf("c-%d", i), Title: fmt.Sprintf("control %d", i), Severity: "High", Status: st}
			rows = append(rows, c.Row(dataset.Scope{Source: tp.source, Tenant: "acme", SubAccount: "acme-prod"}))
		}
		var buf bytes.Buffer
		sink, err := parquet.New(parquet.Options{}).Begin(&buf, dataset.ControlsTable())
		if err == nil {
			err = sink.Write(rows)
		}
		if err == nil {
			err = sink.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		n := int64(len(rows))
		p := pack.ParquetFile{Table: dataset.Controls, SubAccount: "acme-prod", Name: pack.ParquetName("framework="+folders.New(f.name), "")}.Path()
		if _, err := w.Put(ctx, p, &buf, parquet.MediaType, &n); err != nil {
			t.Fatal(err)
		}
	}
	m := pack.Manifest{PackID: id, Tenant: "acme", Source: pack.Source{System: tp.source, BaseURL: "https://acme.example"},
		Period: pack.Period{From: from, To: to, Label: label}, GeneratedAt: at,
		Generator: pack.Generator{Name: "evidence", Version: "test"}, Scope: pack.Scope{Frameworks: names, Datasets: []string{dataset.Reports}}}
	if err := w.Publish(ctx, m); err != nil {
		t.Fatal(err)
	}
	l, err := json.Marshal(job.Latest{Schema: "evidence-latest/v1", PackID: id, Path: prefix, GeneratedAt: at, Complete: true,
		ManifestSHA256: w.Link().ManifestSHA256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Put(ctx, pack.LatestPath("", "acme", label), bytes.NewReader(l), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	return prefix
}

func aws(failing ...bool) []fwRows {
	return []fwRows{{name: "SOC 2", cloud: "AWS", account: "111111111111", failing: failing}}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// A pack whose period covers several days is the evidence of each day it
// covers that has no pack of its own: a day's own pack comes first, then
// the shortest period, then the latest start; the packs passed over are
// named. A chosen pack that does not verify makes a gap, and no other
// pack takes its place.
func TestPacksOfSeveralDays(t *testing.T) {
	t.Parallel()
	packs := map[string]testPack{
		"day1":    {source: "lacework", from: "2026-03-01", to: "2026-03-01", run: 1, fws: aws(true, false, false, false)},
		"day2":    {source: "lacework", from: "2026-03-02", to: "2026-03-02", run: 1, fws: aws(true, true, false, false)},
		"week":    {source: "lacework", from: "2026-03-01", to: "2026-03-07", run: 2, fws: aws(false, false, false, true)},
		"catchup": {source: "lacework", from: "2026-03-05", to: "2026-03-07", run: 3, fws: aws(false, true, true, true)},
		"beyond":  {source: "lacework", from: "2026-03-09", to: "2026-03-12", run: 4, fws: aws(false, false, false, false)},
		// Starts before the range, as long as the catch-up, but earlier:
		// the catch-up comes first.
		"before": {source: "lacework", from: "2026-02-27", to: "2026-03-05", run: 5, fws: aws(true, true, true, true)},
		// After the range: no day's.
		"after":  {source: "lacework", from: "2026-03-11", to: "2026-03-11", run: 6, fws: aws(true, true, true, true)},
		"after2": {source: "lacework", from: "2026-03-11", to: "2026-03-13", run: 6, fws: aws(true, true, true, true)},
	}
	// want is, per day of 2026-03-01..10, the pack read ("" for a gap)
	// and the packs passed over.
	type dayWant struct {
		pack   string
		passed []string
		gap    string // for a gap, part of its reason
	}
	base := []dayWant{
		{"day1", []string{"week", "before"}, ""}, {"day2", []string{"week", "before"}, ""}, {"week", []string{"before"}, ""}, {"week", []string{"before"}, ""},
		{"catchup", []string{"week", "before"}, ""}, {"catchup", []string{"week"}, ""}, {"catchup", []string{"week"}, ""},
		{"", nil, "no pack"}, {"beyond", nil, ""}, {"beyond", nil, ""},
	}
	for _, tc := range []struct {
		name   string
		tamper string // the pack whose controls file is changed after publishing
		want   []dayWant
	}{
		{"as published", "", base},
		{"the catch-up changed", "catchup", func() []dayWant {
			w := slices.Clone(base)
			for i := 4; i < 7; i++ {
				w[i].pack, w[i].gap = "", "does not verify"
			}
			return w
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := memstore.New()
			prefixes := map[string]string{}
			for name, tp := range packs {
				prefixes[name] = publish(t, store, tp)
			}
			if tc.tamper != "" {
				var key string
				_ = store.List(ctx, prefixes[tc.tamper]+"/parquet/", func(o storage.Object) error { key = o.Key; return nil })
				if err := store.Delete(ctx, key); err != nil {
					t.Fatal(err)
				}
				if _, err := store.Put(ctx, key, strings.NewReader("not the file"), storage.PutOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			from, _ := time.Parse(time.DateOnly, "2026-03-01")
			rep, err := Read(ctx, store, "mem", Request{Tenant: "acme", From: from, To: from.AddDate(0, 0, 10)}, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			name := map[string]string{}
			for n, p := range prefixes {
				name[p] = n
			}
			names := func(paths []string) []string {
				var out []string
				for _, p := range paths {
					out = append(out, name[p])
				}
				return out
			}
			fw := dataset.FrameworkKey{Name: "SOC 2", Cloud: "AWS"}
			failing := map[string]int{} // control → days failing
			for i, d := range rep.Days {
				w := tc.want[i]
				got := ""
				if d.Pack != nil {
					got = name[d.Pack.Path]
				}
				if got != w.pack || (w.pack != "" && !slices.Equal(names(d.PassedOver), w.passed)) {
					t.Errorf("%s: pack %q passing over %v, want %q passing over %v (gap %q)", date(d.Day), got, names(d.PassedOver), w.pack, w.passed, d.Gap)
				}
				if w.pack == "" {
					if !strings.Contains(d.Gap, w.gap) {
						t.Errorf("%s: gap %q, want %q", date(d.Day), d.Gap, w.gap)
					}
					if c := rep.Daily[fw][i]; c.Present {
						t.Errorf("%s: a gap with figures %+v", date(d.Day), c)
					}
					continue
				}
				// The day's figures are its pack's, whatever the pack's length.
				tp := packs[w.pack]
				var c, n int64
				for k, f := range tp.fws[0].failing {
					if f {
						n++
						failing[fmt.Sprintf("c-%d", k)]++
					} else {
						c++
					}
				}
				if got := rep.Daily[fw][i]; got.Compliant != c || got.NonCompliant != n || !got.Present {
					t.Errorf("%s: %+v, the pack %s has %d compliant, %d non-compliant", date(d.Day), got, w.pack, c, n)
				}
				pf, pt := tp.period()
				if !d.Pack.Period.From.Equal(pf) || !d.Pack.Period.To.Equal(pt) || d.Pack.Days() != int(pt.Sub(pf)/day) {
					t.Errorf("%s: pack period %v, %d days; want %s to %s", date(d.Day), d.Pack.Period, d.Pack.Days(), tp.from, tp.to)
				}
				if !d.Pack.AssessedFirst.Equal(pf.Add(3 * time.Hour)) {
					t.Errorf("%s: assessed %v, the pack's report_time is %v", date(d.Day), d.Pack.AssessedFirst, pf.Add(3*time.Hour))
				}
			}
			for _, ctl := range rep.Controls {
				if ctl.DaysFailing != failing[ctl.ControlID] {
					t.Errorf("%s: %d days failing, the packs of the days give %d", ctl.ControlID, ctl.DaysFailing, failing[ctl.ControlID])
				}
			}
			if len(rep.Controls) != len(failing) {
				t.Errorf("%d controls failed, the packs give %d", len(rep.Controls), len(failing))
			}
			// The report pack writes (every row checked against its table).
			if _, err := Write(ctx, memstore.New(), rep, Options{Now: from.AddDate(0, 1, 0), Version: "test"}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Frameworks are keyed by what identifies them in the rows: two Lacework
// report definitions of one name (one per cloud) are two series, each
// with its own figures and named with its cloud; a Sophos policy tag
// spans clouds, and its accounts on two clouds are one framework.
func TestFrameworksOfOneName(t *testing.T) {
	t.Parallel()
	two := []fwRows{
		{name: "SOC 2", cloud: "AWS", account: "111111111111", failing: []bool{true, false, false}},
		{name: "SOC 2", cloud: "Azure", account: "0000-azure-sub", failing: []bool{true, true, true, false, false}},
	}
	for _, tc := range []struct {
		source string
		want   map[dataset.FrameworkKey][2]int64 // compliant, non-compliant
		labels []string
	}{
		{"lacework", map[dataset.FrameworkKey][2]int64{{Name: "SOC 2", Cloud: "AWS"}: {2, 1}, {Name: "SOC 2", Cloud: "Azure"}: {2, 3}},
			[]string{"SOC 2 (AWS)", "SOC 2 (Azure)"}},
		{"sophos", map[dataset.FrameworkKey][2]int64{{Name: "SOC 2"}: {4, 4}}, []string{"SOC 2"}},
	} {
		t.Run(tc.source, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := memstore.New()
			publish(t, store, testPack{source: tc.source, from: "2026-03-01", to: "2026-03-01", run: 1, fws: two})
			from, _ := time.Parse(time.DateOnly, "2026-03-01")
			rep, err := Read(ctx, store, "mem", Request{Tenant: "acme", From: from, To: from.Add(day)}, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Frameworks) != len(tc.want) {
				t.Fatalf("frameworks %v, want %v", rep.Frameworks, tc.want)
			}
			var labels []string
			for _, k := range rep.Frameworks {
				w, ok := tc.want[k]
				got := rep.Daily[k][0]
				if !ok || got.Compliant != w[0] || got.NonCompliant != w[1] {
					t.Errorf("%+v: %+v, want %v", k, got, w)
				}
				labels = append(labels, rep.FrameworkLabel(k))
			}
			if !slices.Equal(labels, tc.labels) {
				t.Errorf("labels %q, want %q", labels, tc.labels)
			}
			// Control c-0 fails in both: two controls of two frameworks.
			n := 0
			for _, c := range rep.Controls {
				if c.ControlID == "c-0" {
					n++
				}
			}
			if n != 2 {
				t.Errorf("control c-0 failed in %d controls, want 2 (one per cloud account)", n)
			}
			if _, err := Write(ctx, memstore.New(), rep, Options{Now: from.AddDate(0, 1, 0), Version: "test"}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
