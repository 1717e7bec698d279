package job

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/reportgen/xlsx"
	"github.com/evidence-pack/evidence/internal/source"
)

// The frameworks: each unit's report is fetched and spooled, its vendor
// rendering stored verbatim, then the framework's controls and violations
// are written to Parquet (one file per sub-account), its workbook and its
// PDF, each a pass over the spooled reports.

// framework is a planned framework with its folder in the pack.
type framework struct {
	source.Framework
	slug string
}

// frameworks gives each framework a folder; two whose names sanitise alike
// do not share one.
func (r *run) frameworks() []framework {
	var out []framework
	for _, f := range r.plan.Frameworks {
		out = append(out, framework{Framework: f, slug: r.folders.frameworks.New(f.Name)})
	}
	return out
}

// collectFrameworks fetches, per framework, every unit's report (the source
// keeps it re-readable) and the vendor's own rendering (stored verbatim),
// then writes the framework's Parquet, workbook and PDF from the reports.
// The reports are fetched ahead of the one being written (prefetcher), in
// one stream over every framework, so that the requests of the next
// framework go on while one framework's files are written; they are
// written in the plan's order all the same.
func (r *run) collectFrameworks(ctx, api context.Context) error {
	fws := r.frameworks()
	var units []source.ReportUnit
	for _, f := range fws {
		units = append(units, f.Units...)
	}
	lanes := map[string]bool{}
	for _, u := range units {
		lanes[u.Lane] = true
	}
	dir := r.deps.SpoolDir
	pf := newPrefetcher(api, len(units), func(i int) string { return units[i].Lane }, prefetchPerLane, prefetchAhead*len(lanes),
		func(ctx context.Context, i int) prefetched { return prefetchReport(ctx, units[i], dir) },
		prefetched.close)
	defer pf.Stop()
	for _, f := range fws {
		if err := r.collectFramework(ctx, api, f, pf); err != nil {
			return err
		}
	}
	return nil
}

// prefetched is a unit's report as the prefetcher leaves it: spooled, with
// the vendor's rendering asked for; or the error that ended its fetch.
type prefetched struct {
	rep       source.Report
	err       error // of the fetch: rep is nil
	vendor    io.ReadCloser
	ext       string
	vendorErr error // of the vendor's rendering: rep is kept, for Close
}

// prefetchReport fetches and spools the unit's report, then asks for the
// vendor's rendering (a request of the same budget, so on the same lane).
func prefetchReport(ctx context.Context, u source.ReportUnit, dir string) prefetched {
	rep, err := fetchReport(ctx, u, dir)
	if err != nil {
		if rep != nil {
			_ = rep.Close()
		}
		return prefetched{err: err}
	}
	body, ext, err := rep.Vendor(ctx)
	return prefetched{rep: rep, vendor: body, ext: ext, vendorErr: err}
}

func (p prefetched) close() {
	if p.vendor != nil {
		_ = p.vendor.Close()
	}
	if p.rep != nil {
		_ = p.rep.Close()
	}
}

type fetchedReport struct {
	unit source.ReportUnit
	rep  source.Report
	// What the first read (pass 1) found: the controls and violations
	// before the end or the error, and the error. A report whose data is
	// malformed fails its own unit there; the later passes read the same
	// rows and meet the same error.
	rows map[string]int64 // by table: controls, violations, exceptions
	err  error
}

// reportTables are the tables a framework report's controls make, in
// the order of the workbook's sheets.
func reportTables() []dataset.Table {
	return []dataset.Table{dataset.ControlsTable(), dataset.ViolationsTable(), dataset.ExceptionsTable()}
}

func (f framework) unitName(u source.ReportUnit) string {
	return fmt.Sprintf("report %s %s %s:%s", f.Name, u.SubAccount, u.Cloud, u.Account)
}

func (r *run) reportQuery(f framework, u source.ReportUnit) pack.Query {
	return pack.Query{Dataset: dataset.Reports, SubAccount: u.SubAccount, Account: u.Account, Framework: f.Name,
		Window: period.Window{From: r.period.From, To: r.period.To}, Request: callRecord(u.Call)}
}

// collectFramework takes the framework's reports from pf, in the order of
// its units, stores their vendor renderings, and writes its files. The
// first pass (Parquet, the summary's counts, the OSCAL document's records)
// takes each report as it comes, while the next ones are fetched; the
// workbook and the PDF, whose first pages hold the framework's totals,
// wait for the last. So once the last report is in, what is left of the
// framework is its workbook and PDF.
func (r *run) collectFramework(ctx, api context.Context, f framework, pf *prefetcher[prefetched]) error {
	reps, fs, err := r.takeFramework(ctx, api, f, pf)
	defer func() {
		for _, fr := range reps {
			_ = fr.rep.Close()
		}
	}()
	if err != nil || len(reps) == 0 {
		return err
	}
	return r.writeFramework(ctx, f, reps, fs)
}

// takeFramework takes the framework's reports from pf and makes its first
// pass over them as they come: what it returns is the reports it got (the
// caller closes them) and the framework's summary.
func (r *run) takeFramework(ctx, api context.Context, f framework, pf *prefetcher[prefetched]) (reps []fetchedReport, _ *fwSummary, err error) {
	p1 := &reportPass1{r: r, f: f}
	defer func() {
		if err != nil {
			p1.fail(err)
		}
	}()
	for _, u := range f.Units {
		got, ok := pf.Next()
		if !ok {
			return reps, nil, errors.New("the prefetcher ended before the framework's reports") // a bug: it yields one per unit
		}
		rep, err := got.rep, got.err
		if err == nil {
			err = r.storeVendor(ctx, api, f.slug, u, got)
			if err != nil && ctx.Err() == nil && !isStoreErr(err) {
				err = fmt.Errorf("vendor report: %w", err)
			}
		}
		if got.vendor != nil {
			_ = got.vendor.Close()
		}
		if err != nil {
			if rep != nil {
				_ = rep.Close()
			}
			if ctx.Err() != nil || isStoreErr(err) || errors.Is(err, httpx.ErrAuth) {
				return reps, nil, err
			}
			r.unitResult(f.unitName(u), r.reportQuery(f, u), httpx.QueryStats{Queries: 1}, 0, notCollected(api, err))
			continue
		}
		if c, ok := rep.(source.Caveats); ok {
			for _, w := range c.Caveats() {
				r.warn("%s: %s", f.unitName(u), w)
			}
		}
		reps = append(reps, fetchedReport{unit: u, rep: rep})
		if err := p1.add(ctx, &reps[len(reps)-1]); err != nil {
			return reps, nil, err
		}
	}
	if err := p1.finish(); err != nil {
		return reps, nil, err
	}
	r.oscalDone(f.Name)
	return reps, p1.fs, nil
}

// writeFramework writes the framework's workbook (its other passes over
// the reports) and PDF, which need the first pass's totals.
func (r *run) writeFramework(ctx context.Context, f framework, reps []fetchedReport, fs *fwSummary) error {
	if err := r.reportWorkbook(ctx, f, reps, fs); err != nil {
		return err
	}
	return r.writeFrameworkPDF(ctx, f, fs)
}

// reportPass1 is a framework's first pass over its reports, one report at
// a time: Parquet (one controls, violations and exceptions file per
// sub-account, the reports of a sub-account coming one after another),
// the summary's counts, which the workbook's first sheet needs, and the
// OSCAL document's records.
type reportPass1 struct {
	r     *run
	f     framework
	fs    *fwSummary // nil until the first report
	sub   string     // the sub-account of the files open
	files map[string]*tableFile
	sinks map[string]writeRows
	feed  *oscalFeed
}

// add writes one report's rows, recording what the read found in fr.
func (p *reportPass1) add(ctx context.Context, fr *fetchedReport) error {
	r, f := p.r, p.f
	if p.fs == nil {
		p.fs = r.summary.framework(f.slug, f.Name, f.Cloud)
		p.fs.Planned = len(f.Units)
		r.oscalFramework(f.Name)
	}
	if p.files == nil || fr.unit.SubAccount != p.sub {
		if err := p.finish(); err != nil {
			return err
		}
		if err := p.open(ctx, fr.unit.SubAccount); err != nil {
			return err
		}
	}
	var apiErr error
	rows, err := r.reportRows(untilErr(fr.rep.Controls(), &apiErr), *fr, f, p.sinks, p.fs, p.feed)
	fr.rows, fr.err = rows, apiErr
	if err != nil {
		return err
	}
	for table, n := range rows {
		r.summary.addRows(table, n)
	}
	r.unitResult(f.unitName(fr.unit), r.reportQuery(f, fr.unit), httpx.QueryStats{Pages: 1, Queries: 1}, rows[dataset.Controls], apiErr)
	return nil
}

// open creates the sub-account's files.
func (p *reportPass1) open(ctx context.Context, sub string) error {
	p.sub, p.files, p.sinks = sub, map[string]*tableFile{}, map[string]writeRows{}
	for _, t := range reportTables() {
		tf, err := p.r.createTable(ctx, p.r.folders.partPath(t.Name, "framework="+p.f.slug, sub, ""), p.r.parquetFormat(t.Name), t)
		if err != nil {
			return err
		}
		p.files[t.Name], p.sinks[t.Name] = tf, tf.WriteRows
	}
	p.feed = &oscalFeed{doc: p.r.oscal, controls: p.files[dataset.Controls].path, violations: p.files[dataset.Violations].path}
	return nil
}

// finish finishes the open files, in the order of the tables.
func (p *reportPass1) finish() error {
	for _, t := range reportTables() {
		tf := p.files[t.Name]
		if tf == nil {
			continue
		}
		delete(p.files, t.Name)
		if _, err := tf.Finish(); err != nil {
			return err
		}
	}
	p.files = nil
	return nil
}

// fail fails the files still open (after an error).
func (p *reportPass1) fail(err error) {
	for _, tf := range p.files {
		tf.Fail(err)
	}
	p.files = nil
}

// storeErr marks errors of writing the pack (fatal), as opposed to the API.
type storeErr struct{ error }

func (e storeErr) Unwrap() error { return e.error }

func isStoreErr(err error) bool {
	var s storeErr
	return errors.As(err, &s)
}

// storeVendor stores the vendor's rendering of a prefetched report, if
// the source gave one; the caller closes it.
func (r *run) storeVendor(ctx, api context.Context, slug string, u source.ReportUnit, got prefetched) error {
	body, ext, err := got.vendor, got.ext, got.vendorErr
	if err != nil || body == nil {
		return err
	}
	name := pack.VendorReport(slug, r.folders.subs.Folder(u.SubAccount), r.folders.accts.Folder(u.Account), ext)
	media := "application/octet-stream"
	if ext == "pdf" {
		media = "application/pdf"
	}
	if _, err := r.pw.Put(ctx, name, body, media, nil); err != nil {
		if api.Err() != nil && ctx.Err() == nil {
			// The body stopped at the run's deadline, not the store.
			return fmt.Errorf("vendor report %s: %w", name, err)
		}
		return storeErr{fmt.Errorf("store %s: %w", name, err)}
	}
	return nil
}

// reportRows writes the rows of one report's controls (read from
// controls: the caller keeps the source's error, untilErr) to the sinks
// it is given, by table: controls, their violations and their exceptions;
// it counts the rows of every table, records the controls in fs and feeds
// the OSCAL document (the first pass: fs and feed not nil). The error is a
// writer's (fatal).
func (r *run) reportRows(controls iter.Seq[source.Control], fr fetchedReport, f framework, sinks map[string]writeRows, fs *fwSummary, feed *oscalFeed) (map[string]int64, error) {
	u := fr.unit
	alias, at := fr.rep.AccountAlias(), fr.rep.ReportTime()
	sc := r.scope(u.SubAccount)
	rows := map[string]int64{}
	batches := map[string][]dataset.Row{}
	emit := func(rec dataset.Record) {
		t := rec.Table()
		rows[t]++
		if sinks[t] != nil {
			batches[t] = append(batches[t], rec.Row(sc))
		}
	}
	flush := func(force bool) error {
		for t, b := range batches {
			if len(b) > 0 && (force || len(b) >= batchRows) {
				if err := sinks[t](b); err != nil {
					return err
				}
				batches[t] = b[:0]
			}
		}
		return nil
	}
	for c := range controls {
		if fs != nil {
			fs.control(u.SubAccount, u.Account, alias, at, c)
			fs.exceptions(u.Account, c.ID, c.Exceptions, r.lapsed)
		}
		dc := dataset.Control{Framework: f.Name, Cloud: u.Cloud, AccountID: u.Account, AccountAlias: alias, ReportTime: at,
			ControlID: c.ID, Title: c.Title, Category: c.Category, Requirement: c.Requirement, Service: c.Service, Severity: c.Severity, SeverityLevel: c.SeverityRank,
			Status: c.Status, Assessed: c.Assessed, Violating: int64(len(c.Violations)), Suppressions: c.Suppressions, InfoLink: c.InfoLink}
		emit(dc)
		if feed != nil {
			feed.control(sc, dc, c.Exceptions, r.lapsed)
		}
		for _, v := range c.Violations {
			dv := dataset.Violation{Framework: f.Name, Cloud: u.Cloud, AccountID: u.Account, ControlID: c.ID,
				ControlTitle: c.Title, Severity: c.Severity, Region: v.Region, Resource: v.Resource, Reasons: v.Reasons}
			emit(dv)
			if feed != nil {
				feed.violation(sc, dv)
			}
		}
		for _, e := range c.Exceptions {
			emit(dataset.Exception{Framework: f.Name, Cloud: u.Cloud, AccountID: u.Account, ControlID: c.ID, ControlTitle: c.Title,
				Kind: e.Kind, Resource: e.Resource, Reason: e.Reason, Description: e.Description, By: e.By,
				Created: e.Created, Expires: e.Expires, Expired: r.lapsed(e)})
		}
		if err := flush(false); err != nil {
			return rows, err
		}
	}
	return rows, flush(true)
}

// lapsed reports whether exception e expired before the pack's period
// ended.
func (r *run) lapsed(e source.Exception) bool {
	return !e.Expires.IsZero() && e.Expires.Before(r.period.To)
}

func (r *run) reportWorkbook(ctx context.Context, f framework, reps []fetchedReport, fs *fwSummary) (err error) {
	f2 := r.create(ctx, pack.FrameworkWorkbook(f.slug), xlsx.MediaType, true)
	wb := xlsx.NewWorkbook(f2, r.xlsxOptions(f.Name))
	defer func() {
		if err != nil {
			wb.Abort()
			f2.Fail(err)
		}
	}()
	if err := wb.AddKeyValueSheet(xlsx.SummarySheet, r.frameworkSummaryPairs(f, fs)); err != nil {
		return err
	}
	var total int64
	for _, pass := range reportTables() {
		first := len(wb.Sheets())
		sheet, err := wb.Begin(sheetTable(pass))
		if err != nil {
			return err
		}
		for _, fr := range reps {
			var apiErr error
			rows, err := r.reportRows(untilErr(fr.rep.Controls(), &apiErr), fr, f, map[string]writeRows{pass.Name: sheet.Write}, nil, nil)
			if err != nil {
				return err
			}
			got, want := rows[pass.Name], fr.rows[pass.Name]
			switch {
			case apiErr == nil && fr.err == nil:
			case fr.err != nil && got == want:
				// The unit failed on its first read (malformed data): the
				// workbook holds the same rows before the same error.
			default:
				// The first read went further (the spool file gone or
				// unreadable since): the workbook is short of the Parquet
				// files, so the unit is no longer complete.
				r.failLate(f.unitName(fr.unit), r.reportQuery(f, fr.unit), fmt.Errorf("%s %s sheet: re-reading the report gave %d rows of %d: %w",
					pack.FrameworkWorkbook(f.slug), pass.Title, got, want, cmp.Or(apiErr, errors.New("a different row count"))))
			}
			total += got
		}
		if err := sheet.Close(); err != nil {
			return err
		}
		fs.sheets[pass.Name] = wb.Sheets()[first:]
	}
	*f2.rows = total
	if err := wb.Close(); err != nil {
		return err
	}
	_, err = f2.Finish()
	return err
}

func (r *run) frameworkSummaryPairs(f framework, fs *fwSummary) [][2]any {
	pairs := r.aboutPairs(f.Name)
	pairs = append(pairs,
		[2]any{"Framework", f.Name},
		[2]any{"Cloud", f.Cloud},
		[2]any{"Assessed", fs.assessment(r.period.From, r.period.To)},
		[2]any{"Scope of these figures", cmp.Or(r.partial(fs), "complete: every report of the framework was collected")},
		[2]any{"Cloud accounts", int64(len(fs.Accounts))},
		[2]any{"Controls assessed (all accounts)", fs.total()},
	)
	if pct, text, ok := r.compliance(fs.Status); ok {
		// A number in a percent format: 87.5 shows as 87.50%.
		pairs = append(pairs, [2]any{"Compliance % (compliant / (compliant + non-compliant))", xlsx.Percent(round2(pct) / 100)})
	} else if text == notApplicable {
		pairs = append(pairs, [2]any{"Compliance %", text})
	}
	for _, st := range dataset.Statuses() {
		pairs = append(pairs, [2]any{"Controls " + st.Label(), fs.Status[st]})
	}
	for _, sev := range severities() {
		pairs = append(pairs,
			[2]any{sev + ": compliant (pass)", fs.SevStat[sevStatus{sev, dataset.Compliant}]},
			[2]any{sev + ": non-compliant (fail)", fs.SevStat[sevStatus{sev, dataset.NonCompliant}]})
	}
	pairs = append(pairs,
		[2]any{"Violations (distinct resource × control pairs, all accounts)", fs.Violated},
		[2]any{"Distinct violating resources (all accounts)", fs.Distinct()})
	for _, a := range fs.accounts() {
		pairs = append(pairs, [2]any{"Distinct violating resources: " + a.SubAccount + "/" + a.Account, a.Distinct()})
	}
	for _, a := range fs.accounts() {
		if !a.AssessedAt.IsZero() {
			pairs = append(pairs, [2]any{"Assessed at (UTC): " + a.SubAccount + "/" + a.Account, a.AssessedAt.UTC()})
		}
	}
	return pairs
}

// sheetsOf names the framework workbook's sheets of table t, as a reader
// looks for them: "sheet Resources", or "sheets Resources and Resources
// (2)" when the table continued on more sheets.
func (f *fwSummary) sheetsOf(t dataset.Table) string {
	names := f.sheets[t.Name]
	switch len(names) {
	case 0: // not written (yet): the name its first sheet takes
		return "sheet " + sheetTable(t).Name
	case 1:
		return "sheet " + names[0]
	}
	return "sheets " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// sheetTable names a table's sheet by its human title.
func sheetTable(t dataset.Table) dataset.Table {
	t.Name = t.Title
	return t
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }
