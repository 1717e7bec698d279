package periodreport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/reportgen"
	"github.com/evidence-pack/evidence/internal/reportgen/parquet"
	"github.com/evidence-pack/evidence/internal/reportgen/xlsx"
	"github.com/evidence-pack/evidence/internal/storage"
)

// Options are how the report pack is made and what it says of its maker.
type Options struct {
	Now             time.Time // the report's time (generated_at, the documents' dates)
	RunID           string    // the report pack's id; pack.RunID(Now, nil) when ""
	Version, Commit string    // the program's
	CommandLine     []string  // secrets removed
	Signer          *pack.Signer
	Location        string // where the report is written, as the user named it (for the verify commands)
	// Paper is the paper the report's PDF and workbook are laid out for;
	// the zero value is reportgen.DefaultPaper.
	Paper reportgen.Paper
}

// Write publishes rep as a report pack in store (rooted at the output)
// under pack.ReportPrefix and returns its prefix.
func Write(ctx context.Context, store storage.Store, rep *Report, o Options) (string, error) {
	if o.RunID == "" {
		o.RunID = pack.RunID(o.Now, nil)
	}
	prefix := pack.ReportPrefix("", rep.Tenant, rep.Label(), o.RunID)
	var opts []pack.Option
	if o.Signer != nil {
		opts = append(opts, pack.WithSigner(*o.Signer))
	}
	opts = append(opts, pack.WithMetadata(map[string]string{"evidence-pack-id": o.RunID}))
	w, err := pack.NewWriter(ctx, store, prefix, opts...)
	if err != nil {
		return "", fmt.Errorf("period report: %w", err)
	}
	if err := writeFiles(ctx, w, rep, o, prefix); err != nil {
		return "", errors.Join(fmt.Errorf("period report %s: %w", prefix, err), w.Abort(ctx))
	}
	m := pack.Manifest{
		PackID: o.RunID, Tenant: rep.Tenant,
		Source:      pack.Source{System: strings.Join(rep.Sources, ","), BaseURL: rep.Location, API: "the tenant's daily evidence packs (evidence-pack/v1)"},
		Period:      pack.Period{From: rep.From, To: rep.To, Label: rep.Label()},
		GeneratedAt: o.Now.UTC(),
		Generator:   pack.Generator{Name: "evidence", Version: o.Version, Commit: o.Commit},
		Scope:       pack.Scope{Frameworks: rep.frameworkLabels(), Datasets: []string{dataset.ReportDaily, dataset.ReportControls, dataset.ReportDays}},
		Warnings:    rep.Warnings(),
	}
	if len(o.CommandLine) > 0 {
		m.Invocation = &pack.Invocation{CommandLine: o.CommandLine}
	}
	if err := w.Publish(ctx, m); err != nil {
		return "", fmt.Errorf("period report %s: %w", prefix, err)
	}
	return prefix, nil
}

// Warnings are what the report's reader must not miss: gaps, partial days,
// a sample smaller than asked.
func (r *Report) Warnings() []string {
	var out []string
	if g := r.Days; len(g) > 0 {
		gaps := 0
		for _, d := range g {
			if d.Pack == nil {
				gaps++
			}
		}
		if gaps > 0 {
			out = append(out, fmt.Sprintf("%d of %d days have no pack the report could read (gaps): nothing is known of them; the days table says why for each", gaps, len(g)))
		}
	}
	partial := 0
	for _, d := range r.Days {
		if d.Pack != nil && d.Pack.Failures > 0 {
			partial++
		}
	}
	if partial > 0 {
		out = append(out, fmt.Sprintf("%d days' packs had failed units: their figures cover what was collected (the packs list the failures)", partial))
	}
	if n := r.SharedDays(); n > 0 {
		out = append(out, fmt.Sprintf("%d days have no pack of their own and take the figures of a pack whose period covers several days: that pack's single assessment stands for each of them (the days table gives its period and assessment times); no daily assessment was made on those days", n))
	}
	if r.SampleAsked > len(r.SampleDrawn) {
		out = append(out, fmt.Sprintf("a sample of %d days was asked for; only %d days have a pack, and the sample is all of them", r.SampleAsked, len(r.SampleDrawn)))
	}
	return out
}

func writeFiles(ctx context.Context, w *pack.Writer, rep *Report, o Options, prefix string) error {
	tables := []struct {
		t    dataset.Table
		rows []dataset.Row
	}{
		{dataset.ReportDailyTable(), rep.dailyRows()},
		{dataset.ReportControlsTable(), rep.controlRows()},
		{dataset.ReportDaysTable(), rep.dayRows()},
	}
	for _, tb := range tables {
		for _, r := range tb.rows {
			if err := tb.t.Check(r); err != nil {
				return err
			}
		}
		var buf bytes.Buffer
		format := parquet.New(parquet.Options{CreatedBy: "evidence version " + o.Version, Metadata: map[string]string{
			"evidence.pack_id": o.RunID, "evidence.tenant": rep.Tenant, "evidence.table": tb.t.Name,
			"evidence.period_from": rep.From.Format(time.RFC3339), "evidence.period_to": rep.To.Format(time.RFC3339)}})
		if err := writeTable(&buf, format, tb.t, tb.rows); err != nil {
			return err
		}
		n := int64(len(tb.rows))
		if _, err := w.Put(ctx, pack.ReportTable(tb.t.Name), &buf, format.MediaType(), &n); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	wb := xlsx.NewWorkbook(&buf, xlsx.Options{Created: o.Now, Title: "Period report", Subject: rep.Tenant + " " + rep.Label(), Creator: "evidence " + o.Version,
		Paper: o.Paper})
	if err := wb.AddKeyValueSheet(xlsx.SummarySheet, rep.about(o)); err != nil {
		wb.Abort()
		return err
	}
	var rows int64
	for _, tb := range tables {
		s, err := wb.Begin(tb.t)
		if err == nil {
			err = s.Write(tb.rows)
		}
		if err == nil {
			err = s.Close()
		}
		if err != nil {
			wb.Abort()
			return fmt.Errorf("%s: %w", pack.ReportWorkbook, err)
		}
		rows += int64(len(tb.rows))
	}
	if err := wb.Close(); err != nil {
		return fmt.Errorf("%s: %w", pack.ReportWorkbook, err)
	}
	if _, err := w.Put(ctx, pack.ReportWorkbook, &buf, xlsx.MediaType, &rows); err != nil {
		return err
	}
	buf.Reset()
	if err := rep.writePDF(&buf, o, prefix); err != nil {
		return fmt.Errorf("%s: %w", pack.ReportPDF, err)
	}
	_, err := w.Put(ctx, pack.ReportPDF, &buf, pack.MediaTypePDF, nil)
	return err
}

func writeTable(w io.Writer, f reportgen.Format, t dataset.Table, rows []dataset.Row) error {
	s, err := f.Begin(w, t)
	if err != nil {
		return err
	}
	if err := s.Write(rows); err != nil {
		return err
	}
	return s.Close()
}

func (r *Report) about(o Options) [][2]any {
	return [][2]any{
		{"Evidence", "Period report: compliance per framework per day, controls that failed, the daily packs read (the population)"},
		{"Tenant", r.Tenant},
		{"Period from (UTC)", r.From},
		{"Period to (UTC, exclusive)", r.To},
		{"Daily packs read from", r.Location},
		{"Days", fmt.Sprintf("%d, %d with a pack (%d of them by a pack of several days), %d gaps", len(r.Days), r.PackDays(), r.SharedDays(), len(r.Days)-r.PackDays())},
		{"Generated at (UTC)", o.Now.UTC()},
		{"Report id", o.RunID},
		{"Generator", "evidence " + o.Version},
		{"Compliance %", "compliant / (compliant + non-compliant) controls of the day's pack, over every cloud account: the daily pack's own figure"},
		{"Days and packs", "a day's pack is its own newest pack; a day without one takes the pack of a longer period that covers it whole (shortest period first, then the latest start), whose one assessment then stands for each day it covers"},
		{"Frameworks", "a framework is its name and, for a platform that defines each framework for one cloud (Lacework), its cloud (column Framework cloud): two frameworks of one name are two series"},
		{"Integrity", "every file of this report is listed with its SHA-256 in manifest.json and SHA256SUMS; every daily pack read is listed with the SHA-256 of its manifest.json (sheet Daily packs)"},
		{"Printing", xlsx.PrintNote(o.Paper)},
	}
}

func nullInt(n int64, ok bool) any {
	if !ok {
		return nil
	}
	return n
}

func (r *Report) frameworkLabels() []string {
	out := make([]string, len(r.Frameworks))
	for i, k := range r.Frameworks {
		out[i] = r.FrameworkLabel(k)
	}
	return out
}

func (r *Report) dailyRows() []dataset.Row {
	var rows []dataset.Row
	for _, fw := range r.Frameworks {
		for i, d := range r.Days {
			c := r.Daily[fw][i]
			var src, packID, packDays any
			if d.Pack != nil {
				src, packID, packDays = dataset.NullString(d.Pack.Source), d.Pack.ID, int64(d.Pack.Days())
			}
			present := d.Pack != nil && c.Present
			var pct any
			if p, ok := c.Compliance(); ok && present {
				pct = p
			}
			rows = append(rows, dataset.Row{src, r.Tenant, fw.Name, dataset.NullString(fw.Cloud), d.Day, packID, packDays,
				nullInt(c.Compliant, present), nullInt(c.NonCompliant, present), nullInt(c.Other, present), pct,
				c.Partial, d.Pack == nil, dataset.RowID(r.Tenant, fw.Name, fw.Cloud, d.Day.Format(time.DateOnly))})
		}
	}
	return rows
}

func (r *Report) controlRows() []dataset.Row {
	rows := make([]dataset.Row, 0, len(r.Controls))
	src := dataset.NullString(strings.Join(r.Sources, ","))
	for _, c := range r.Controls {
		rows = append(rows, dataset.Row{src, r.Tenant, c.SubAccount, c.Framework.Name, dataset.NullString(c.Framework.Cloud), c.AccountID, c.ControlID,
			dataset.NullString(c.Title), dataset.NullString(c.Severity), c.FirstFailed, c.LastFailed,
			int64(c.DaysFailing), int64(c.DaysAssessed), c.WholePeriod,
			dataset.RowID(r.Tenant, c.SubAccount, c.Framework.Name, c.Framework.Cloud, c.AccountID, c.ControlID)})
	}
	return rows
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func (r *Report) dayRows() []dataset.Row {
	rows := make([]dataset.Row, 0, len(r.Days))
	for _, d := range r.Days {
		v := map[string]any{"tenant": r.Tenant, "day": d.Day, "gap": dataset.NullString(d.Gap),
			"passed_over":  dataset.NullString(strings.Join(d.PassedOver, "; ")),
			"sample_order": nullInt(int64(d.SampleOrder), d.SampleOrder > 0), "row_id": dataset.RowID(r.Tenant, d.Day.Format(time.DateOnly))}
		if p := d.Pack; p != nil {
			v["source"], v["pack_id"], v["pack_path"], v["manifest_sha256"], v["generated_at"] = dataset.NullString(p.Source), p.ID, p.Path, p.ManifestSHA256, p.GeneratedAt
			v["period_from"], v["period_to"], v["pack_days"] = p.Period.From, p.Period.To, int64(p.Days())
			v["assessed_first"], v["assessed_last"] = nullTime(p.AssessedFirst), nullTime(p.AssessedLast)
			v["signed_by"], v["replaces"], v["failed_units"] = dataset.NullString(p.SignedBy), dataset.NullString(p.Replaces), int64(p.Failures)
		}
		rows = append(rows, byColumn(dataset.ReportDaysTable(), v))
	}
	return rows
}

// byColumn is the row of t with the values v names by column (nil for the
// others).
func byColumn(t dataset.Table, v map[string]any) dataset.Row {
	row := make(dataset.Row, len(t.Columns))
	for i, c := range t.Columns {
		row[i] = v[c.Name]
	}
	return row
}
