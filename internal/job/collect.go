package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"path"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/lacework"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/reportgen"
	"github.com/evidence-pack/evidence/internal/reportgen/parquet"
	"github.com/evidence-pack/evidence/internal/reportgen/xlsx"
	"github.com/evidence-pack/evidence/internal/storage"
)

const batchRows = 1000

type writeRows func([]reportgen.Row) error

// stream drains seq into every sink in batches. An error from seq (the API)
// ends the unit early and comes back as apiErr: the rows before it are
// kept, and the unit is recorded as failed. An error from a sink (writing
// the pack) is fatal and comes back as sinkErr.
func stream[T any](seq iter.Seq2[T, error], conv func(T) reportgen.Row, sinks ...writeRows) (n int64, apiErr, sinkErr error) {
	batch := make([]reportgen.Row, 0, batchRows)
	flush := func() error {
		for _, w := range sinks {
			if err := w(batch); err != nil {
				return err
			}
		}
		n += int64(len(batch))
		batch = batch[:0]
		return nil
	}
	for v, err := range seq {
		if err != nil {
			apiErr = err
			break
		}
		batch = append(batch, conv(v))
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return n, nil, err
			}
		}
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			return n, apiErr, err
		}
	}
	return n, apiErr, nil
}

func (r *run) xlsxOptions(title string) xlsx.Options {
	return xlsx.Options{Created: r.generatedAt(), Title: title, Subject: r.tenant.Name + " " + r.periodLabel(), Creator: "evidence " + r.deps.Build.Version}
}

func (r *run) parquetFormat(table string) reportgen.Format {
	return parquet.New(parquet.Options{Metadata: map[string]string{
		"evidence.pack_id": r.id, "evidence.tenant": r.tenant.Name, "evidence.table": table,
		"evidence.period_from": r.period.From.Format(time.RFC3339), "evidence.period_to": r.period.To.Format(time.RFC3339),
	}})
}

func (r *run) generatedAt() time.Time { return r.startedAt }

func (r *run) periodLabel() string { return pack.PeriodLabel(r.period.From, r.period.To) }

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
		{"Source", "Lacework API v2 (" + r.tenant.Lacework.Credentials.URL() + ")"},
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
func (r *run) unitResult(unit string, q pack.Query, st *lacework.QueryStats, rows int64, apiErr error) {
	if st != nil {
		q.Pages, q.Queries, q.Splits = int64(st.Pages), int64(st.Queries), int64(st.Splits)
	}
	q.Rows = rows
	q.Complete = apiErr == nil
	r.deps.Progress.Rows(rows)
	r.query(q)
	if apiErr != nil {
		r.fail(pack.Failure{Unit: unit, SubAccount: q.SubAccount, Account: q.Account, Framework: q.Framework, Dataset: q.Dataset,
			Error: apiErr.Error(), RowsBeforeError: rows})
		return
	}
	r.summary.okUnit.Add(1)
	r.log.Info("unit done", "unit", unit, "subaccount", q.SubAccount, "account", q.Account, "framework", q.Framework,
		"dataset", q.Dataset, "rows", rows, "pages", q.Pages)
	r.deps.Progress.UnitDone(unit, true)
}

// tableSeries collects one table unit by unit: one XLSX sheet per group
// (dataset, csp) in a workbook, and one Parquet file per unit.
type tableSeries struct {
	r     *run
	table reportgen.Table
	wb    *workbook
	rows  int64
}

func (ts *tableSeries) unit(ctx context.Context, sheet reportgen.Sink, parquetPath string, run func(sinks ...writeRows) (int64, error, error)) (int64, error, error) {
	pq, err := ts.r.createTable(ctx, parquetPath, ts.r.parquetFormat(ts.table.Name), ts.table)
	if err != nil {
		return 0, nil, err
	}
	n, apiErr, sinkErr := run(sheet.Write, pq.WriteRows)
	if sinkErr != nil {
		pq.Fail(sinkErr)
		return n, apiErr, sinkErr
	}
	if _, err := pq.Finish(); err != nil {
		return n, apiErr, err
	}
	ts.rows += n
	return n, apiErr, nil
}

// collectEvaluations: evaluations.xlsx with one sheet per dataset, and
// parquet/evaluations/dataset=<ds>/account=<sub>/part-00000.parquet.
func (s *lwSource) collectEvaluations(ctx context.Context) (err error) {
	r := s.r
	units := s.evaluationUnits()
	if len(units) == 0 {
		return nil
	}
	wb, err := r.newWorkbook(ctx, "evaluations.xlsx", "Compliance evaluations")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			wb.abort(err)
		}
	}()
	ts := &tableSeries{r: r, table: dataset.EvaluationsTable(), wb: wb}
	for i := 0; i < len(units); {
		ds := units[i][0]
		t := ts.table
		t.Name, t.Title = ds, ds
		sheet, err := wb.wb.Begin(t)
		if err != nil {
			return fmt.Errorf("evaluations.xlsx sheet %s: %w", ds, err)
		}
		for ; i < len(units) && units[i][0] == ds; i++ {
			sub := s.sub(units[i][1])
			st := &lacework.QueryStats{}
			q := pack.Query{Dataset: "evaluations/" + ds, SubAccount: sub.name, Window: pack.Window{From: r.period.From, To: r.period.To}}
			seq := sub.client.Evaluations(ctx, lacework.EvaluationQuery{Dataset: ds, Window: r.period, Stats: st})
			n, apiErr, sinkErr := ts.unit(ctx, sheet, partPath(dataset.Evaluations, "dataset="+ds, sub.name),
				func(sinks ...writeRows) (int64, error, error) {
					return stream(seq, func(e lacework.Evaluation) reportgen.Row { return s.evaluationRow(sub.name, ds, e) }, sinks...)
				})
			if sinkErr != nil {
				return sinkErr
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			r.summary.addRows(dataset.Evaluations, ds, n)
			r.unitResult(fmt.Sprintf("evaluations %s %s", ds, sub.name), q, st, n, apiErr)
		}
		if err := sheet.Close(); err != nil {
			return fmt.Errorf("evaluations.xlsx sheet %s: %w", ds, err)
		}
	}
	_, err = wb.finish(ts.rows)
	return err
}

// collectInventory: inventory.xlsx with one sheet per cloud, and
// parquet/inventory/csp=<csp>/account=<sub>/part-00000.parquet.
func (s *lwSource) collectInventory(ctx context.Context) (err error) {
	r := s.r
	units := s.inventoryUnits()
	if len(units) == 0 {
		return nil
	}
	wb, err := r.newWorkbook(ctx, "inventory.xlsx", "Cloud resource inventory")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			wb.abort(err)
		}
	}()
	ts := &tableSeries{r: r, table: dataset.InventoryTable(), wb: wb}
	for i := 0; i < len(units); {
		csp := units[i][0]
		t := ts.table
		t.Name, t.Title = csp, csp+" inventory"
		sheet, err := wb.wb.Begin(t)
		if err != nil {
			return fmt.Errorf("inventory.xlsx sheet %s: %w", csp, err)
		}
		for ; i < len(units) && units[i][0] == csp; i++ {
			sub := s.sub(units[i][1])
			st := &lacework.QueryStats{}
			q := pack.Query{Dataset: "inventory/" + csp, SubAccount: sub.name, Window: pack.Window{From: r.period.From, To: r.period.To}}
			seq := sub.client.Inventory(ctx, lacework.InventoryQuery{CSP: csp, Window: r.period, Accounts: sub.accountsOf(lacework.Cloud(csp)), Stats: st})
			n, apiErr, sinkErr := ts.unit(ctx, sheet, partPath(dataset.Inventory, "csp="+csp, sub.name),
				func(sinks ...writeRows) (int64, error, error) {
					return stream(seq, func(v lacework.Resource) reportgen.Row { return s.inventoryRow(sub.name, v) }, sinks...)
				})
			if sinkErr != nil {
				return sinkErr
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			r.summary.addRows(dataset.Inventory, csp, n)
			r.unitResult(fmt.Sprintf("inventory %s %s", csp, sub.name), q, st, n, apiErr)
		}
		if err := sheet.Close(); err != nil {
			return fmt.Errorf("inventory.xlsx sheet %s: %w", csp, err)
		}
	}
	_, err = wb.finish(ts.rows)
	return err
}

// collectAuditLogs: audit-logs.xlsx and parquet/audit_logs/account=<sub>/.
func (s *lwSource) collectAuditLogs(ctx context.Context) (err error) {
	r := s.r
	subs := s.auditUnits()
	if len(subs) == 0 {
		return nil
	}
	wb, err := r.newWorkbook(ctx, "audit-logs.xlsx", "Platform audit logs")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			wb.abort(err)
		}
	}()
	ts := &tableSeries{r: r, table: dataset.AuditLogsTable(), wb: wb}
	sheet, err := wb.wb.Begin(sheetTable(ts.table))
	if err != nil {
		return fmt.Errorf("audit-logs.xlsx: %w", err)
	}
	r.auditComplete = len(subs) == len(s.subs) // a shard sees only part of the log
	for _, sub := range subs {
		st := &lacework.QueryStats{}
		q := pack.Query{Dataset: dataset.AuditLogs, SubAccount: sub.name, Window: pack.Window{From: r.audit.From, To: r.audit.To}}
		seq := sub.client.AuditLogs(ctx, lacework.AuditLogQuery{Window: r.audit, Stats: st})
		n, apiErr, sinkErr := ts.unit(ctx, sheet, partPath(dataset.AuditLogs, "", sub.name),
			func(sinks ...writeRows) (int64, error, error) {
				return stream(seq, func(v lacework.AuditLog) reportgen.Row { return s.auditRow(sub.name, v) }, sinks...)
			})
		if sinkErr != nil {
			return sinkErr
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		r.summary.addRows(dataset.AuditLogs, "", n)
		r.unitResult("audit logs "+sub.name, q, st, n, apiErr)
		r.auditComplete = r.auditComplete && apiErr == nil
	}
	if err := sheet.Close(); err != nil {
		return fmt.Errorf("audit-logs.xlsx: %w", err)
	}
	_, err = wb.finish(ts.rows)
	return err
}

// partPath is parquet/<table>/[<partition>/]account=<sub>/part-00000.parquet,
// a Hive layout that Athena, Glue and DuckDB read as partitions.
func partPath(table, partition, sub string) string {
	parts := []string{"parquet", table}
	if partition != "" {
		parts = append(parts, storage.SafePart(partition))
	}
	return path.Join(append(parts, "account="+storage.SafePart(sub), "part-00000.parquet")...)
}

// collectReports fetches, per framework, every target's report (JSON, kept
// in temporary files) and the vendor's PDF (stored verbatim), then writes
// the framework's Parquet, workbook and PDF from the kept reports.
func (s *lwSource) collectReports(ctx context.Context) error {
	for _, f := range s.fws {
		if err := s.collectFramework(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

type fetchedReport struct {
	unit reportUnit
	rep  *lacework.Report
}

func (s *lwSource) collectFramework(ctx context.Context, f lwFramework) (err error) {
	r := s.r
	dir := "frameworks/" + f.slug
	var reps []fetchedReport
	defer func() {
		for _, fr := range reps {
			_ = fr.rep.Close()
		}
	}()
	for _, u := range f.units {
		unit := fmt.Sprintf("report %s %s %s", f.fw.Name, u.sub.name, u.target)
		q := pack.Query{Dataset: "reports", SubAccount: u.sub.name, Account: u.target.ID(), Framework: f.fw.Name,
			Window: pack.Window{From: r.period.From, To: r.period.To}}
		rep, err := u.sub.client.Report(ctx, u.query)
		if err == nil {
			err = s.storeVendorPDF(ctx, dir, u)
			if err != nil && ctx.Err() == nil && !isStoreErr(err) {
				err = fmt.Errorf("vendor PDF: %w", err)
			}
		}
		if err != nil {
			if rep != nil {
				_ = rep.Close()
			}
			if ctx.Err() != nil || isStoreErr(err) {
				return err
			}
			r.unitResult(unit, q, &lacework.QueryStats{Queries: 1}, 0, err)
			continue
		}
		reps = append(reps, fetchedReport{unit: u, rep: rep})
	}
	if len(reps) == 0 {
		return nil
	}
	fs := r.summary.framework(f.fw.Name, string(f.fw.Cloud))
	// Pass 1: Parquet (one controls and one violations file per sub-account)
	// and the summary counts, which the workbook's first sheet needs.
	if err := s.reportParquet(ctx, f, reps, fs); err != nil {
		return err
	}
	// Pass 2 and 3: the workbook's Controls and Resources sheets.
	if err := s.reportWorkbook(ctx, dir, f, reps, fs); err != nil {
		return err
	}
	return r.writeFrameworkPDF(ctx, dir, f, fs)
}

// storeErr marks errors of writing the pack (fatal), as opposed to the API.
type storeErr struct{ error }

func (e storeErr) Unwrap() error { return e.error }

func isStoreErr(err error) bool {
	var s storeErr
	return errors.As(err, &s)
}

func (s *lwSource) storeVendorPDF(ctx context.Context, dir string, u reportUnit) error {
	pdf, err := u.sub.client.ReportPDF(ctx, u.query)
	if err != nil {
		return err
	}
	defer pdf.Close()
	name := fmt.Sprintf("%s/vendor/%s_%s.pdf", dir, storage.SafePart(u.sub.name), storage.SafePart(u.target.ID()))
	if _, err := s.r.pw.Put(ctx, name, pdf, "application/pdf", nil); err != nil {
		return storeErr{fmt.Errorf("store %s: %w", name, err)}
	}
	return nil
}

func (s *lwSource) reportParquet(ctx context.Context, f lwFramework, reps []fetchedReport, fs *fwSummary) error {
	r := s.r
	for i := 0; i < len(reps); {
		sub := reps[i].unit.sub.name
		ctl, err := r.createTable(ctx, partPath(dataset.Controls, "framework="+f.slug, sub), r.parquetFormat(dataset.Controls), dataset.ControlsTable())
		if err != nil {
			return err
		}
		vio, err := r.createTable(ctx, partPath(dataset.Violations, "framework="+f.slug, sub), r.parquetFormat(dataset.Violations), dataset.ViolationsTable())
		if err != nil {
			ctl.Fail(err)
			return err
		}
		for ; i < len(reps) && reps[i].unit.sub.name == sub; i++ {
			fr := reps[i]
			nCtl, nVio, apiErr, sinkErr := s.reportRows(fr, f, ctl.WriteRows, vio.WriteRows, fs)
			if sinkErr != nil {
				ctl.Fail(sinkErr)
				vio.Fail(sinkErr)
				return sinkErr
			}
			q := pack.Query{Dataset: "reports", SubAccount: sub, Account: fr.unit.target.ID(), Framework: f.fw.Name,
				Window: pack.Window{From: r.period.From, To: r.period.To}}
			r.summary.addRows(dataset.Controls, f.fw.Name, nCtl)
			r.summary.addRows(dataset.Violations, f.fw.Name, nVio)
			r.unitResult(fmt.Sprintf("report %s %s %s", f.fw.Name, sub, fr.unit.target), q, &lacework.QueryStats{Pages: 1, Queries: 1}, nCtl, apiErr)
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
func (s *lwSource) reportRows(fr fetchedReport, f lwFramework, ctl, vio writeRows, fs *fwSummary) (nCtl, nVio int64, apiErr, sinkErr error) {
	h := fr.rep.Header
	t := fr.unit.target
	alias := t.Alias
	if alias == "" {
		alias = firstNonEmpty(h.AccountAlias, h.SubscriptionName, h.ProjectName)
	}
	var ctlBatch, vioBatch []reportgen.Row
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
	sub := fr.unit.sub.name
	for rec, err := range fr.rep.Recommendations() {
		if err != nil {
			apiErr = err
			break
		}
		sev := lacework.SeverityName(rec.Severity)
		violated := int64(len(rec.Violations))
		if fs != nil {
			fs.control(sub, t.ID(), alias, rec.RecID, rec.Title, sev, rec.Severity, rec.Status, violated)
		}
		nCtl++
		if ctl != nil {
			ctlBatch = append(ctlBatch, reportgen.Row{"lacework", s.r.tenant.Name, sub, f.fw.Name, string(t.Cloud), t.ID(), nilIfEmpty(alias),
				timeOrNil(h.ReportTime.Time), rec.RecID, rec.Title, nilIfEmpty(rec.Category), nilIfEmpty(rec.Service), sev, int64(rec.Severity),
				rec.Status, int64(rec.AssessedResourceCount), violated, nilIfEmpty(strings.Join(rec.Suppressions, "; ")), nilIfEmpty(rec.InfoLink)})
		}
		for _, v := range rec.Violations {
			nVio++
			if vio != nil {
				vioBatch = append(vioBatch, reportgen.Row{"lacework", s.r.tenant.Name, sub, f.fw.Name, string(t.Cloud), t.ID(), rec.RecID,
					rec.Title, sev, nilIfEmpty(v.Region), v.Resource, nilIfEmpty(strings.Join(v.Reasons, "; "))})
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

func (s *lwSource) reportWorkbook(ctx context.Context, dir string, f lwFramework, reps []fetchedReport, fs *fwSummary) (err error) {
	r := s.r
	f2 := r.create(ctx, dir+"/evidence.xlsx", xlsx.MediaType, true)
	wb := xlsx.NewWorkbook(f2, r.xlsxOptions(f.fw.Name))
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
	for _, pass := range []reportgen.Table{dataset.ControlsTable(), dataset.ViolationsTable()} {
		sheet, err := wb.Begin(sheetTable(pass))
		if err != nil {
			return err
		}
		for _, fr := range reps {
			var nc, nv int64
			var sinkErr error
			if pass.Name == dataset.Controls {
				nc, _, _, sinkErr = s.reportRows(fr, f, sheet.Write, nil, nil)
			} else {
				_, nv, _, sinkErr = s.reportRows(fr, f, nil, sheet.Write, nil)
			}
			if sinkErr != nil {
				return sinkErr
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

func (r *run) frameworkSummaryPairs(f lwFramework, fs *fwSummary) [][2]any {
	pairs := r.aboutPairs(f.fw.Name)
	pairs = append(pairs,
		[2]any{"Framework", f.fw.Name},
		[2]any{"Cloud", string(f.fw.Cloud)},
		[2]any{"Cloud accounts", int64(len(fs.Accounts))},
		[2]any{"Controls assessed (all accounts)", fs.total()},
	)
	if pct, ok := compliance(fs.Status); ok {
		pairs = append(pairs, [2]any{"Compliance % (compliant / (compliant + non-compliant))", round2(pct)})
	}
	for _, st := range statuses() {
		pairs = append(pairs, [2]any{"Controls " + statusLabel(st), fs.Status[st]})
	}
	for _, sev := range severities() {
		pairs = append(pairs,
			[2]any{sev + ": compliant (pass)", fs.SevStat[[2]string{sev, "Compliant"}]},
			[2]any{sev + ": non-compliant (fail)", fs.SevStat[[2]string{sev, "NonCompliant"}]})
	}
	pairs = append(pairs, [2]any{"Violating resources", fs.Violated})
	return pairs
}

// sheetTable names a table's sheet by its human title.
func sheetTable(t reportgen.Table) reportgen.Table {
	t.Name = t.Title
	return t
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

func (s *lwSource) evaluationRow(sub, ds string, e lacework.Evaluation) reportgen.Row {
	a := e.Account
	id := firstNonEmpty(a.AccountID, a.SubscriptionID, a.ProjectID, a.ClusterName, a.TenantID, a.OrganizationID)
	return reportgen.Row{"lacework", s.r.tenant.Name, sub, ds, nilIfEmpty(id), nilIfEmpty(a.AccountAlias), timeOrNil(e.ReportTime.Time),
		nilIfEmpty(e.ID), nilIfEmpty(e.Recommendation), nilIfEmpty(e.Section), nilIfEmpty(e.Severity), nilIfEmpty(e.Status),
		nilIfEmpty(e.Resource), nilIfEmpty(e.Reason), nilIfEmpty(e.EvalType)}
}

func (s *lwSource) inventoryRow(sub string, v lacework.Resource) reportgen.Row {
	c := v.CloudDetails
	id := firstNonEmpty(c.AccountID, c.SubscriptionID, c.ProjectID, c.TenantID, c.OrganizationID)
	status := v.Status.Status
	if v.Status.ErrorMessage != "" {
		status = strings.TrimSpace(status + ": " + v.Status.ErrorMessage)
	}
	return reportgen.Row{"lacework", s.r.tenant.Name, sub, v.CSP, nilIfEmpty(id), nilIfEmpty(c.AccountAlias), nilIfEmpty(v.ResourceID),
		nilIfEmpty(v.ResourceType), nilIfEmpty(v.Service), nilIfEmpty(v.ResourceRegion), nilIfEmpty(v.URN),
		timeOrNil(v.StartTime.Time), timeOrNil(v.EndTime.Time), nilIfEmpty(status), rawJSON(v.ResourceTags), rawJSON(v.ResourceConfig)}
}

func (s *lwSource) auditRow(sub string, v lacework.AuditLog) reportgen.Row {
	return reportgen.Row{"lacework", s.r.tenant.Name, sub, timeOrNil(v.CreatedTime.Time), nilIfEmpty(v.AccountName), nilIfEmpty(v.UserName),
		nilIfEmpty(v.EventName), nilIfEmpty(v.UserAction), nilIfEmpty(v.EventDescription)}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func rawJSON(b json.RawMessage) any {
	s := strings.TrimSpace(string(b))
	if s == "" || s == "null" {
		return nil
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
