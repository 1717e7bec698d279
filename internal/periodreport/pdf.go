package periodreport

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/reportgen/pdf"
)

// maxListedControls bounds the controls the PDF lists; the workbook and
// the report_controls table have every one.
const maxListedControls = 200

func pct(c Counts, present bool) string {
	if !present {
		return "—"
	}
	p, ok := c.Compliance()
	switch {
	case c.FailingOnly:
		return "not applicable"
	case !ok:
		return "n/a"
	}
	s := fmt.Sprintf("%.1f%%", p)
	if c.Partial {
		s += " (partial)"
	}
	return s
}

func date(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func (r *Report) writePDF(w io.Writer, o Options, prefix string) error {
	d, err := pdf.New(pdf.Options{Title: "Period report", Subject: r.Tenant + " " + r.Label(), Author: "evidence " + o.Version,
		Created: o.Now, Footer: "evidence period report " + o.RunID, Paper: o.Paper})
	if err != nil {
		return err
	}
	gaps := len(r.Days) - r.PackDays()
	d.Cover("Period report", r.Tenant+", "+date(r.From)+" to "+date(r.To.Add(-day)), [][2]string{
		{"Tenant", r.Tenant},
		{"Period (UTC)", fmt.Sprintf("%s to %s (exclusive): %d days", r.From.Format(time.RFC3339), r.To.Format(time.RFC3339), len(r.Days))},
		{"Daily packs", fmt.Sprintf("%d days with a pack (%d of them by a pack of several days), %s", r.PackDays(), r.SharedDays(), plural(gaps, "gap"))},
		{"Read from", r.Location + " (the packs' manifests and controls tables only; no API was called)"},
		{"Frameworks", fmt.Sprint(len(r.Frameworks))},
		{"Generated at (UTC)", o.Now.UTC().Format(time.RFC3339)},
		{"Report id", o.RunID},
		{"Generator", fmt.Sprintf("evidence %s (commit %s)", o.Version, orUnknown(o.Commit))},
	})
	if ws := r.Warnings(); len(ws) > 0 {
		d.Notice(strings.Join(ws, ".\n")+".", true)
	}
	d.Heading("How to read this report", 1)
	d.Paragraph(`Every figure comes from the tenant's evidence packs listed under "Daily packs (the population)", each with the SHA-256 of its manifest.json, which lists the SHA-256 of every file of that pack. A day's pack is the newest of its day (the one its latest.json names: a rerun supersedes the pack it replaces). A day without a pack of its own takes a pack whose period covers the whole day among others (a weekly run, a run over several days, a catch-up): the shortest such period, then the one that starts latest. That pack was assessed once, at the times shown beside it: its figures stand for each day it covers, and no daily assessment was made on those days. A day's own pack always comes first; the other packs that also cover a day are named under it. A chosen pack that is gone or does not verify makes the day a gap: no other pack is put in its place. The report read only each pack's manifest.json and its controls tables, and checked each file it read against the SHA-256 and size its manifest lists.

Compliance % of a framework on a day = compliant / (compliant + non-compliant) controls in that day's pack, over every cloud account and sub-account: the figure the daily pack itself shows. Suppressed, manual and not-assessable controls are counted as Other and left out. "(partial)": some of the framework's reports failed in that day's pack, and the figure covers the others (a pack's manifest names a failed report by its framework's name only: of two frameworks of one name, both are marked). "—": a gap, a day with no pack the report could read: nothing is known of it, and it counts in no figure. "n/a": no control was assessed compliant or non-compliant. "not applicable": the platform reports failing rules only (the manifest's source.failing_only, Sophos Cloud Optix), so no percentage exists, as in the daily pack.

A framework is its name and, for a platform that defines each framework for one cloud (Lacework report definitions), its cloud: two frameworks of one name are reported apart, each named with its cloud.

A control is one framework's control on one cloud account of one sub-account. It failed on a day when that day's pack has it NonCompliant. "Days failing" counts such days (a pack of several days counts on each day it covers); "days in a pack" counts the days whose pack has the control at all. "Failed every day" means NonCompliant in the pack of every day of the period that has one; days without a pack are unknown.`)

	d.Heading("Compliance per framework", 1)
	rows := make([][]string, 0, len(r.Frameworks))
	for _, fw := range r.Frameworks {
		s := r.Daily[fw]
		var first, last, low string
		lowV, n := 101.0, 0
		for i, c := range s {
			present := r.Days[i].Pack != nil && c.Present
			p, ok := c.Compliance()
			if !present || !ok {
				continue
			}
			n++
			if first == "" {
				first = pct(c, true) + " on " + date(r.Days[i].Day)
			}
			last = pct(c, true) + " on " + date(r.Days[i].Day)
			if p < lowV {
				lowV, low = p, pct(c, true)+" on "+date(r.Days[i].Day)
			}
		}
		rows = append(rows, []string{r.FrameworkLabel(fw), fmt.Sprint(n), orDash(first), orDash(low), orDash(last)})
	}
	d.Table([]pdf.Column{{Title: "Framework", Width: 2.2}, {Title: "Days with a figure", Width: 0.8, Align: "R"}, {Title: "First", Width: 1.3},
		{Title: "Lowest", Width: 1.3}, {Title: "Last", Width: 1.3}}, rows)

	for _, fw := range r.Frameworks {
		d.KeepTogether(100) // the heading, the chart and the table's first rows
		d.Heading(r.FrameworkLabel(fw), 1)
		s := r.Daily[fw]
		points := make([]pdf.Point, len(r.Days))
		rows := make([][]string, 0, len(r.Days))
		for i, day := range r.Days {
			c := s[i]
			present := day.Pack != nil && c.Present
			p, ok := c.Compliance()
			points[i] = pdf.Point{Label: day.Day.Format("01-02"), Value: p, Has: present && ok, Gap: day.Pack == nil}
			row := []string{date(day.Day), "no pack (gap)", "", "", "", "—"}
			switch {
			case day.Pack != nil && !c.Present:
				row = []string{date(day.Day), packName(day.Pack), "", "", "", "not in the pack"}
			case day.Pack != nil:
				row = []string{date(day.Day), packName(day.Pack), fmt.Sprint(c.Compliant), fmt.Sprint(c.NonCompliant), fmt.Sprint(c.Other), pct(c, true)}
			}
			rows = append(rows, row)
		}
		d.LineChart("Compliance % per day (UTC)", 100, "%", points)
		if n := sharedDays(r.Days, s); n > 0 {
			d.Paragraph(fmt.Sprintf("%s take the figures of a pack whose period covers several days (its period is beside its id): that pack's one assessment stands for each of them.", plural(n, "day")))
		}
		d.Table([]pdf.Column{{Title: "Day (UTC)", Width: 0.9}, {Title: "Pack", Width: 1.9, Mono: true}, {Title: "Compliant", Width: 0.8, Align: "R"},
			{Title: "Non-compliant", Width: 1.2, Align: "R"}, {Title: "Other", Width: 0.6, Align: "R"}, {Title: "Compliance %", Width: 1.1, Align: "R"}}, rows)
	}

	d.Page()
	var whole, some [][]string
	nWhole := 0
	for _, c := range r.Controls {
		row := []string{r.FrameworkLabel(c.Framework), c.SubAccount + " · " + c.AccountID, c.ControlID + " " + c.Title, c.Severity, date(c.FirstFailed), date(c.LastFailed),
			fmt.Sprintf("%d of %d", c.DaysFailing, c.DaysAssessed)}
		switch {
		case c.WholePeriod:
			nWhole++
			if len(whole) < maxListedControls {
				whole = append(whole, row)
			}
		case len(some) < maxListedControls:
			some = append(some, row)
		}
	}
	cols := []pdf.Column{{Title: "Framework", Width: 1}, {Title: "Sub-account · cloud account", Width: 1.1}, {Title: "Control", Width: 2},
		{Title: "Severity", Width: 0.8}, {Title: "First failed", Width: 1}, {Title: "Last failed", Width: 1}, {Title: "Days failing / in a pack", Width: 0.7, Align: "R"}}
	listed := func(n, shown int) string {
		if n > shown {
			return fmt.Sprintf(" The first %d are listed; report.xlsx and tables/report_controls.parquet have every one.", shown)
		}
		return ""
	}
	d.Heading("Controls that failed for the whole period", 1)
	d.Paragraph(fmt.Sprintf("%d controls were NonCompliant in the pack of every one of the %d days with a pack.%s", nWhole, r.PackDays(), listed(nWhole, len(whole))))
	if len(whole) > 0 {
		d.Table(cols, whole)
	}
	d.Heading("Controls that failed on some days", 1)
	nSome := len(r.Controls) - nWhole
	d.Paragraph(fmt.Sprintf("%d more controls were NonCompliant on some of the days with a pack, not all: %d controls failed at some time in the period. Most days failing first.%s",
		nSome, len(r.Controls), listed(nSome, len(some))))
	if len(some) > 0 {
		d.Table(cols, some)
	}

	d.Page()
	d.Heading("Daily packs (the population)", 1)
	d.Paragraph(fmt.Sprintf("One row per day of the period: the pack the report read, with the SHA-256 of its manifest.json (sha256sum manifest.json in the pack's folder gives it), its period and when the platform assessed the accounts in it, or why the day has none. A pack of several days is listed on each day it covers. A pack's folder is <output>/%s/<period>/<pack id>, and it verifies on its own: evidence verify <that folder>.", pack.TenantFolder(r.Tenant)))
	var prows []pdf.Row
	for _, day := range r.Days {
		var row pdf.Row
		if day.Pack == nil {
			row.Cells = []string{date(day.Day), "gap: " + day.Gap, "", ""}
		} else {
			p := day.Pack
			row.Cells = []string{date(day.Day), p.ID, periodText(p) + "\nassessed " + assessedText(p), p.ManifestSHA256}
		}
		if len(day.PassedOver) > 0 {
			row.Detail = "Also covering the day, not read (the pack above comes first): " + strings.Join(day.PassedOver, ", ")
		}
		prows = append(prows, row)
	}
	d.TableRows([]pdf.Column{{Title: "Day (UTC)", Width: 0.7}, {Title: "Pack id", Width: 1.2, Mono: true}, {Title: "Pack period, assessed (UTC)", Width: 1.3},
		{Title: "manifest.json SHA-256", Width: 1.9, Mono: true}}, prows)

	if r.SampleAsked > 0 {
		d.Heading("Sample of days", 1)
		d.KeyValues([][2]string{
			{"Seed", fmt.Sprint(r.Seed)},
			{"Asked", fmt.Sprintf("%d days", r.SampleAsked)},
			{"Drawn", fmt.Sprintf("%d of the %d days with a pack", len(r.SampleDrawn), r.PackDays())},
		})
		d.Paragraph("Method: " + strings.ReplaceAll(SampleMethod, "\n", " ") + "\n\nIn Go:\n\n" + SampleCode + "\n\nThe same seed and the same days with a pack give the same sample; anyone can draw it again with evidence report --sample N --seed S over the same packs, or with the method above.")
		rows = rows[:0]
		for k, i := range r.SampleDrawn {
			day := r.Days[i]
			rows = append(rows, []string{fmt.Sprint(k + 1), date(day.Day), day.Pack.ManifestSHA256})
		}
		d.Paragraph("The days drawn, in draw order, with the SHA-256 of the manifest.json of the pack each names (its pack id is in the population above):")
		d.Table([]pdf.Column{{Title: "Draw", Width: 0.45, Align: "R"}, {Title: "Day (UTC)", Width: 0.9}, {Title: "manifest.json SHA-256", Width: 2.75, Mono: true}}, rows)
	}

	d.Heading("Verify this report", 1)
	loc := strings.TrimRight(orDot(o.Location), "/") + "/" + prefix
	d.Paragraph("Every file of this report is listed with its SHA-256 in manifest.json and SHA256SUMS:\n\n  evidence verify " + loc + "\n  cd " + loc + " && sha256sum -c SHA256SUMS")
	_, err = d.WriteTo(w)
	return err
}

// sharedDays counts the days of a framework's series whose figures come
// from a pack of several days.
func sharedDays(days []Day, s []Counts) int {
	n := 0
	for i, d := range days {
		if d.Pack != nil && d.Pack.Days() > 1 && s[i].Present {
			n++
		}
	}
	return n
}

// packName is a pack as a day's row names it: its id, and the period of
// a pack of several days.
func packName(p *DayPack) string {
	if p.Days() == 1 {
		return p.ID
	}
	return p.ID + " (" + periodText(p) + ")"
}

// periodText is the pack's period: its day, or its first and last days.
func periodText(p *DayPack) string {
	from, to := p.Period.From.UTC(), p.Period.To.UTC()
	if from.Equal(from.Truncate(day)) && to.Equal(to.Truncate(day)) {
		if p.Days() == 1 {
			return "the day"
		}
		return fmt.Sprintf("%d days, %s to %s", p.Days(), date(from), date(to.Add(-day)))
	}
	return from.Format(time.RFC3339) + " to " + to.Format(time.RFC3339)
}

// assessedText is when the platform assessed the pack's accounts.
func assessedText(p *DayPack) string {
	switch {
	case p.AssessedFirst.IsZero():
		return "at no recorded time"
	case p.AssessedFirst.Equal(p.AssessedLast):
		return p.AssessedFirst.UTC().Format("2006-01-02 15:04")
	}
	return p.AssessedFirst.UTC().Format("2006-01-02 15:04") + " to " + p.AssessedLast.UTC().Format("2006-01-02 15:04")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func orDot(s string) string {
	if s == "" {
		return "."
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// plural is "1 gap", "2 gaps".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
