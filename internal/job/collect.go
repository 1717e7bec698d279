package job

import (
	"fmt"
	"maps"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/source"
)

// What every collector shares: a unit's outcome in the manifest, and the
// pack's folders of the run's names.

func (r *run) generatedAt() time.Time { return r.startedAt }

func (r *run) periodLabel() string { return pack.PeriodLabel(r.period.From, r.period.To) }

func (r *run) scope(sub string) dataset.Scope {
	return dataset.Scope{Source: r.info.System, Tenant: r.tenant.Name, SubAccount: sub}
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

// callRecord is a unit's call as the manifest records it (nil when the source
// does not say).
func callRecord(c source.Call) *pack.Request {
	if c.Method == "" && c.Path == "" {
		return nil
	}
	return &pack.Request{Method: c.Method, Path: c.Path, Params: maps.Clone(c.Params)}
}
