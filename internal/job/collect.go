package job

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/reportgen"
	"github.com/evidence-pack/evidence/internal/reportgen/parquet"
	"github.com/evidence-pack/evidence/internal/reportgen/xlsx"
	"github.com/evidence-pack/evidence/internal/source"
)

const batchRows = 1000

type writeRows func([]dataset.Row) error

// stream drains seq into every sink in batches. Each sink runs in its own
// goroutine, so the formats are written side by side while the next rows
// are decoded; a batch is never changed once handed over. An error from seq
// (the API) ends the unit early and comes back as apiErr: the rows before
// it are kept, and the unit is recorded as failed. An error from a sink
// (writing the pack) is fatal and comes back as sinkErr.
func stream(seq iter.Seq2[dataset.Record, error], scope dataset.Scope, sinks ...writeRows) (n int64, apiErr, sinkErr error) {
	fan := newFanout(sinks)
	batch := make([]dataset.Row, 0, batchRows)
	for v, err := range seq {
		if err != nil {
			apiErr = err
			break
		}
		batch = append(batch, v.Row(scope))
		if len(batch) == cap(batch) {
			if fan.send(batch) != nil {
				return n, nil, fan.close()
			}
			n += int64(len(batch))
			batch = make([]dataset.Row, 0, batchRows)
		}
	}
	if len(batch) > 0 {
		if fan.send(batch) != nil {
			return n, apiErr, fan.close()
		}
		n += int64(len(batch))
	}
	return n, apiErr, fan.close()
}

// fanout hands batches to sinks that each write in their own goroutine.
type fanout struct {
	chans []chan []dataset.Row
	wg    sync.WaitGroup
	mu    sync.Mutex
	err   error
}

func newFanout(sinks []writeRows) *fanout {
	f := &fanout{}
	for _, w := range sinks {
		ch := make(chan []dataset.Row, 4)
		f.chans = append(f.chans, ch)
		f.wg.Go(func() {
			for b := range ch {
				if f.failed() != nil {
					continue // drain: the run is failing
				}
				if err := w(b); err != nil {
					f.mu.Lock()
					f.err = cmp.Or(f.err, err)
					f.mu.Unlock()
				}
			}
		})
	}
	return f
}

func (f *fanout) failed() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// send queues a batch for every sink; it returns a sink's earlier error.
func (f *fanout) send(b []dataset.Row) error {
	if err := f.failed(); err != nil {
		return err
	}
	for _, ch := range f.chans {
		ch <- b
	}
	return nil
}

// close waits for the sinks to write what they were given.
func (f *fanout) close() error {
	for _, ch := range f.chans {
		close(ch)
	}
	f.wg.Wait()
	return f.failed()
}

func (r *run) xlsxOptions(title string) xlsx.Options {
	return xlsx.Options{Created: r.generatedAt(), Title: title, Subject: r.tenant.Name + " " + r.periodLabel(), Creator: "evidence " + r.deps.Build.Version}
}

func (r *run) parquetFormat(table string) reportgen.Format {
	return parquet.New(parquet.Options{CreatedBy: "evidence version " + r.deps.Build.Version, Metadata: map[string]string{
		"evidence.pack_id": r.id, "evidence.tenant": r.tenant.Name, "evidence.table": table, "evidence.source": r.info.System,
		"evidence.period_from": r.period.From.Format(time.RFC3339), "evidence.period_to": r.period.To.Format(time.RFC3339),
	}})
}

func (r *run) generatedAt() time.Time { return r.startedAt }

func (r *run) periodLabel() string { return pack.PeriodLabel(r.period.From, r.period.To) }

func (r *run) scope(sub string) dataset.Scope {
	return dataset.Scope{Source: r.info.System, Tenant: r.tenant.Name, SubAccount: sub}
}

// workbook is an XLSX file of the pack being written sheet by sheet.
type workbook struct {
	file *packFile
	wb   *xlsx.Workbook
}

func (r *run) newWorkbook(ctx context.Context, path, title string) (*workbook, error) {
	f := r.create(ctx, path, xlsx.MediaType, true)
	wb := xlsx.NewWorkbook(f, r.xlsxOptions(title))
	if err := wb.AddKeyValueSheet("About", r.aboutPairs(title)); err != nil {
		wb.Abort()
		f.Fail(err)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &workbook{file: f, wb: wb}, nil
}

func (w *workbook) finish(rows int64) (pack.File, error) {
	*w.file.rows = rows
	if err := w.wb.Close(); err != nil {
		w.file.Fail(err)
		return pack.File{}, fmt.Errorf("%s: %w", w.file.path, err)
	}
	return w.file.Finish()
}

func (w *workbook) abort(err error) {
	w.wb.Abort()
	w.file.Fail(err)
}

// aboutPairs is the first sheet of every workbook: what the file is.
func (r *run) aboutPairs(title string) [][2]any {
	return [][2]any{
		{"Evidence", title},
		{"Tenant", r.tenant.Name},
		{"Source", r.info.API + " (" + r.info.BaseURL + ")"},
		{"Period from (UTC)", r.period.From},
		{"Period to (UTC, exclusive)", r.period.To},
		{"Generated at (UTC)", r.generatedAt()},
		{"Pack id", r.id},
		{"Generator", "evidence " + r.deps.Build.Version},
		{"Integrity", "every file of the pack is listed with its SHA-256 in manifest.json and SHA256SUMS"},
	}
}

// unitResult ends a unit: the query goes into the manifest, a failure into
// the failures.
func (r *run) unitResult(unit string, q pack.Query, st httpx.QueryStats, rows int64, apiErr error) {
	q.Pages, q.Queries, q.Splits = int64(st.Pages), int64(st.Queries), int64(st.Splits)
	q.Rows = rows
	for _, p := range st.Parts {
		qp := pack.QueryPart{Window: period.Window{From: p.From, To: p.To}, Filter: p.Filter, Rows: int64(p.Rows)}
		if p.HasAnnounced {
			n := int64(p.Announced)
			qp.AnnouncedRows = &n
		}
		q.Parts = append(q.Parts, qp)
	}
	if st.HasAnnounced {
		n := int64(st.Announced)
		q.AnnouncedRows = &n
		if apiErr == nil && n != rows {
			// Paging ended without an error, yet short of (or beyond)
			// what the API said it holds: rows are missing or doubled.
			apiErr = fmt.Errorf("incomplete: the API announced %d rows, %d were received", n, rows)
		}
	}
	q.Complete = apiErr == nil
	r.deps.Progress.Rows(r.tenant.Name, rows)
	r.query(q)
	if apiErr != nil {
		r.fail(pack.Failure{Unit: unit, SubAccount: q.SubAccount, Account: q.Account, Framework: q.Framework, Dataset: q.Dataset,
			Error: apiErr.Error(), RowsBeforeError: rows})
		return
	}
	r.summary.okUnit.Add(1)
	r.log.Info("unit done", "unit", unit, "subaccount", q.SubAccount, "account", q.Account, "framework", q.Framework,
		"dataset", q.Dataset, "rows", rows, "pages", q.Pages)
	r.deps.Progress.UnitDone(r.tenant.Name, unit, true)
}

// failLate fails a unit that unitResult recorded as complete: a later pass
// over its data (the framework workbook) could not read all of it again.
func (r *run) failLate(unit string, q pack.Query, err error) {
	r.mu.Lock()
	found := false
	for i, old := range r.queries {
		if old.Dataset == q.Dataset && old.Framework == q.Framework && old.SubAccount == q.SubAccount && old.Account == q.Account {
			if !old.Complete {
				r.mu.Unlock()
				return // already failed: its failure says why
			}
			r.queries[i].Complete = false
			q.Rows, found = old.Rows, true
		}
	}
	r.mu.Unlock()
	if found {
		r.summary.okUnit.Add(-1)
	}
	// Not r.fail: the unit was already counted done in the progress.
	r.record(pack.Failure{Unit: unit, SubAccount: q.SubAccount, Account: q.Account, Framework: q.Framework, Dataset: q.Dataset,
		Error: err.Error(), RowsBeforeError: q.Rows})
}

// tableTitles are the titles of the tables that have a workbook of their
// own (pack.TableWorkbook): the table units' tables.
var tableTitles = map[string]string{
	dataset.Evaluations: "Compliance evaluations",
	dataset.Inventory:   "Resource inventory",
	dataset.AuditLogs:   "Platform audit logs",
}

// collectTable writes one table: a workbook with one sheet per run of units
// sharing a Sheet, and one Parquet file per unit under
// parquet/<table>/[<partition>/]account=<sub-account>/.
func (r *run) collectTable(ctx, api context.Context, table string, units []source.TableUnit) (err error) {
	file := pack.TableWorkbook(table)
	wb, err := r.newWorkbook(ctx, file, tableTitles[table])
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			wb.abort(err)
		}
	}()
	// discover checks that every unit names a table of tableTitles.
	base, _ := dataset.ByName(table)
	var total int64
	complete := true
	for i := 0; i < len(units); {
		t := base
		if s := units[i].Sheet; s != "" {
			t.Name, t.Title = s, s
		} else {
			t.Name = t.Title
		}
		sheet, err := wb.wb.Begin(t)
		if err != nil {
			return fmt.Errorf("%s sheet %s: %w", file, t.Name, err)
		}
		for sheetName := units[i].Sheet; i < len(units) && units[i].Sheet == sheetName; i++ {
			u := units[i]
			n, apiErr, err := r.tableUnit(ctx, api, base, u, sheet)
			if err != nil {
				return err
			}
			total += n
			complete = complete && apiErr == nil
		}
		if err := sheet.Close(); err != nil {
			return fmt.Errorf("%s sheet %s: %w", file, t.Name, err)
		}
	}
	if table == dataset.AuditLogs {
		// The watermark moves only over a log collected whole: a shard
		// sees part of the tenant.
		r.auditComplete = complete && r.cfg.Shard.Count <= 1
	}
	_, err = wb.finish(total)
	return err
}

// tableUnit streams one unit into its sheet and its own Parquet file. The
// API is read under api (the run's deadline), the pack written under ctx.
func (r *run) tableUnit(ctx, api context.Context, t dataset.Table, u source.TableUnit, sheet reportgen.Sink) (int64, error, error) {
	pq, err := r.createTable(ctx, r.folders.partPath(t.Name, u.Partition, u.SubAccount, u.Account), r.parquetFormat(t.Name), t)
	if err != nil {
		return 0, nil, err
	}
	var st httpx.QueryStats
	n, apiErr, sinkErr := stream(u.Rows(api, &st), r.scope(u.SubAccount), sheet.Write, pq.WriteRows)
	apiErr = notCollected(api, apiErr)
	if sinkErr == nil && errors.Is(apiErr, httpx.ErrAuth) {
		// Credentials refused mid-run: no unit of the tenant can succeed.
		sinkErr = apiErr
	}
	if sinkErr != nil {
		pq.Fail(sinkErr)
		return n, apiErr, sinkErr
	}
	if _, err := pq.Finish(); err != nil {
		return n, apiErr, err
	}
	if err := ctx.Err(); err != nil {
		return n, apiErr, err
	}
	ds := t.Name
	if u.Sheet != "" {
		ds += "/" + u.Sheet
	}
	r.summary.addRows(t.Name, n)
	unit := strings.Join(nonEmpty(strings.ReplaceAll(t.Name, "_", " "), u.Sheet, u.SubAccount, u.Account), " ")
	r.unitResult(unit, pack.Query{Dataset: ds, SubAccount: u.SubAccount, Account: u.Account,
		Window: period.Window{From: u.Window.From, To: u.Window.To}, Request: callRecord(u.Call)}, st, n, apiErr)
	return n, apiErr, nil
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// folders are the pack's folders of the run's sub-accounts, cloud accounts
// and frameworks: distinct for distinct names (pack.Folders), assigned in
// the plan's order so that they do not depend on which collector runs first.
type folders struct{ subs, accts, frameworks pack.Folders }

func (fo *folders) assign(p *source.Plan) {
	for _, s := range p.SubAccounts {
		fo.subs.Folder(s)
	}
	for _, u := range p.Tables {
		fo.subs.Folder(u.SubAccount)
		if u.Account != "" {
			fo.accts.Folder(u.Account)
		}
	}
	for _, f := range p.Frameworks {
		for _, u := range f.Units {
			fo.subs.Folder(u.SubAccount)
			fo.accts.Folder(u.Account)
		}
	}
}

// partPath is the path of a unit's Parquet file (pack.ParquetFile): its
// partition ("framework=CIS 1.4") and cloud account name the file.
func (fo *folders) partPath(table, partition, sub, account string) string {
	var acct string
	if account != "" {
		acct = fo.accts.Folder(account)
	}
	return pack.ParquetFile{Table: table, SubAccount: fo.subs.Folder(sub), Name: pack.ParquetName(partition, acct)}.Path()
}

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
func (r *run) collectFrameworks(ctx, api context.Context) error {
	for _, f := range r.frameworks() {
		if err := r.collectFramework(ctx, api, f); err != nil {
			return err
		}
	}
	return nil
}

type fetchedReport struct {
	unit source.ReportUnit
	rep  source.Report
	// What the first read (pass 1) found: the controls and violations
	// before the end or the error, and the error. A report whose data is
	// malformed fails its own unit there; the later passes read the same
	// rows and meet the same error.
	nCtl, nVio int64
	err        error
}

func (f framework) unitName(u source.ReportUnit) string {
	return fmt.Sprintf("report %s %s %s:%s", f.Name, u.SubAccount, u.Cloud, u.Account)
}

func (r *run) reportQuery(f framework, u source.ReportUnit) pack.Query {
	return pack.Query{Dataset: dataset.Reports, SubAccount: u.SubAccount, Account: u.Account, Framework: f.Name,
		Window: period.Window{From: r.period.From, To: r.period.To}, Request: callRecord(u.Call)}
}

// callRecord is a unit's call as the manifest records it (nil when the source
// does not say).
func callRecord(c source.Call) *pack.Request {
	if c.Method == "" && c.Path == "" {
		return nil
	}
	return &pack.Request{Method: c.Method, Path: c.Path, Params: maps.Clone(c.Params)}
}

func (r *run) collectFramework(ctx, api context.Context, f framework) (err error) {
	var reps []fetchedReport
	defer func() {
		for _, fr := range reps {
			_ = fr.rep.Close()
		}
	}()
	for _, u := range f.Units {
		rep, err := fetchReport(api, u, r.deps.SpoolDir)
		if err == nil {
			err = r.storeVendor(ctx, api, f.slug, u, rep)
			if err != nil && ctx.Err() == nil && !isStoreErr(err) {
				err = fmt.Errorf("vendor report: %w", err)
			}
		}
		if err != nil {
			if rep != nil {
				_ = rep.Close()
			}
			if ctx.Err() != nil || isStoreErr(err) || errors.Is(err, httpx.ErrAuth) {
				return err
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
	}
	if len(reps) == 0 {
		return nil
	}
	fs := r.summary.framework(f.slug, f.Name, f.Cloud)
	fs.Planned = len(f.Units)
	// Pass 1: Parquet (one controls and one violations file per sub-account)
	// and the summary counts, which the workbook's first sheet needs.
	if err := r.reportParquet(ctx, f, reps, fs); err != nil {
		return err
	}
	// Pass 2 and 3: the workbook's Controls and Resources sheets.
	if err := r.reportWorkbook(ctx, f, reps, fs); err != nil {
		return err
	}
	return r.writeFrameworkPDF(ctx, f, fs)
}

// storeErr marks errors of writing the pack (fatal), as opposed to the API.
type storeErr struct{ error }

func (e storeErr) Unwrap() error { return e.error }

func isStoreErr(err error) bool {
	var s storeErr
	return errors.As(err, &s)
}

func (r *run) storeVendor(ctx, api context.Context, slug string, u source.ReportUnit, rep source.Report) error {
	body, ext, err := rep.Vendor(api)
	if err != nil || body == nil {
		return err
	}
	defer body.Close()
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

func (r *run) reportParquet(ctx context.Context, f framework, reps []fetchedReport, fs *fwSummary) error {
	for i := 0; i < len(reps); {
		sub := reps[i].unit.SubAccount
		ctl, err := r.createTable(ctx, r.folders.partPath(dataset.Controls, "framework="+f.slug, sub, ""), r.parquetFormat(dataset.Controls), dataset.ControlsTable())
		if err != nil {
			return err
		}
		vio, err := r.createTable(ctx, r.folders.partPath(dataset.Violations, "framework="+f.slug, sub, ""), r.parquetFormat(dataset.Violations), dataset.ViolationsTable())
		if err != nil {
			ctl.Fail(err)
			return err
		}
		for ; i < len(reps) && reps[i].unit.SubAccount == sub; i++ {
			fr := reps[i]
			nCtl, nVio, apiErr, sinkErr := r.reportRows(fr, f, ctl.WriteRows, vio.WriteRows, fs)
			reps[i].nCtl, reps[i].nVio, reps[i].err = nCtl, nVio, apiErr
			if sinkErr != nil {
				ctl.Fail(sinkErr)
				vio.Fail(sinkErr)
				return sinkErr
			}
			r.summary.addRows(dataset.Controls, nCtl)
			r.summary.addRows(dataset.Violations, nVio)
			r.unitResult(f.unitName(fr.unit), r.reportQuery(f, fr.unit), httpx.QueryStats{Pages: 1, Queries: 1}, nCtl, apiErr)
		}
		if _, err := ctl.Finish(); err != nil {
			vio.Fail(err)
			return err
		}
		if _, err := vio.Finish(); err != nil {
			return err
		}
	}
	return nil
}

// reportRows writes one report's controls and violations; fs, when not nil,
// receives the counts.
func (r *run) reportRows(fr fetchedReport, f framework, ctl, vio writeRows, fs *fwSummary) (nCtl, nVio int64, apiErr, sinkErr error) {
	u := fr.unit
	alias, at := fr.rep.AccountAlias(), fr.rep.ReportTime()
	sc := r.scope(u.SubAccount)
	var ctlBatch, vioBatch []dataset.Row
	flush := func(force bool) error {
		if ctl != nil && (force || len(ctlBatch) >= batchRows) && len(ctlBatch) > 0 {
			if err := ctl(ctlBatch); err != nil {
				return err
			}
			ctlBatch = ctlBatch[:0]
		}
		if vio != nil && (force || len(vioBatch) >= batchRows) && len(vioBatch) > 0 {
			if err := vio(vioBatch); err != nil {
				return err
			}
			vioBatch = vioBatch[:0]
		}
		return nil
	}
	for c, err := range fr.rep.Controls() {
		if err != nil {
			apiErr = err
			break
		}
		if fs != nil {
			fs.control(u.SubAccount, u.Account, alias, at, c.ID, c.Title, c.Severity, c.SeverityRank, c.Status, c.Violations)
		}
		nCtl++
		if ctl != nil {
			ctlBatch = append(ctlBatch, dataset.Control{Framework: f.Name, Cloud: u.Cloud, AccountID: u.Account, AccountAlias: alias, ReportTime: at,
				ControlID: c.ID, Title: c.Title, Category: c.Category, Service: c.Service, Severity: c.Severity, SeverityLevel: c.SeverityRank,
				Status: c.Status, Assessed: c.Assessed, Violating: int64(len(c.Violations)), Suppressions: c.Suppressions, InfoLink: c.InfoLink}.Row(sc))
		}
		for _, v := range c.Violations {
			nVio++
			if vio != nil {
				vioBatch = append(vioBatch, dataset.Violation{Framework: f.Name, Cloud: u.Cloud, AccountID: u.Account, ControlID: c.ID,
					ControlTitle: c.Title, Severity: c.Severity, Region: v.Region, Resource: v.Resource, Reasons: v.Reasons}.Row(sc))
			}
		}
		if err := flush(false); err != nil {
			return nCtl, nVio, apiErr, err
		}
	}
	if err := flush(true); err != nil {
		return nCtl, nVio, apiErr, err
	}
	return nCtl, nVio, apiErr, nil
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
	if err := wb.AddKeyValueSheet("Summary", r.frameworkSummaryPairs(f, fs)); err != nil {
		return err
	}
	var total int64
	for _, pass := range []dataset.Table{dataset.ControlsTable(), dataset.ViolationsTable()} {
		sheet, err := wb.Begin(sheetTable(pass))
		if err != nil {
			return err
		}
		for _, fr := range reps {
			var nc, nv int64
			var sinkErr error
			var apiErr error
			if pass.Name == dataset.Controls {
				nc, _, apiErr, sinkErr = r.reportRows(fr, f, sheet.Write, nil, nil)
			} else {
				_, nv, apiErr, sinkErr = r.reportRows(fr, f, nil, sheet.Write, nil)
			}
			if sinkErr != nil {
				return sinkErr
			}
			want := fr.nCtl
			if pass.Name != dataset.Controls {
				want = fr.nVio
			}
			switch got := nc + nv; {
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
			total += nc + nv
		}
		if err := sheet.Close(); err != nil {
			return err
		}
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
		pairs = append(pairs, [2]any{"Compliance % (compliant / (compliant + non-compliant))", round2(pct)})
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

// sheetTable names a table's sheet by its human title.
func sheetTable(t dataset.Table) dataset.Table {
	t.Name = t.Title
	return t
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// writeDuckDBViews writes pack.duckdb.sql: a view per Parquet table of the
// pack, reading its files as they are (hive_partitioning off, so the
// account= folder adds no column and every value is the file's own).
func (r *run) writeDuckDBViews(ctx context.Context) error {
	var tables []string
	for _, f := range r.pw.Files() {
		if pf, err := pack.ParseParquet(f.Path); err == nil && !slices.Contains(tables, pf.Table) {
			tables = append(tables, pf.Table)
		}
	}
	if len(tables) == 0 {
		return nil
	}
	slices.Sort(tables)
	var b strings.Builder
	b.WriteString("-- Views over this evidence pack's Parquet tables, for DuckDB.\n")
	b.WriteString("-- Run DuckDB in the pack's folder:  duckdb -init pack.duckdb.sql\n")
	b.WriteString("-- (or .read pack.duckdb.sql). Every column comes from the files: the\n")
	b.WriteString("-- account=<sub-account> folders are not read as partitions.\n")
	for _, t := range tables {
		fmt.Fprintf(&b, "CREATE OR REPLACE VIEW %s AS SELECT * FROM read_parquet('%s', hive_partitioning = false);\n", t, pack.ParquetGlob(t))
	}
	_, err := r.pw.Put(ctx, pack.DuckDBViews, strings.NewReader(b.String()), "application/sql", nil)
	return err
}
