package job

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/reportgen"
	"github.com/evidence-pack/evidence/internal/source"
)

// The tables that belong to no framework (evaluations, inventory, audit
// logs): a workbook per table, a sheet per run of units, a Parquet file per
// unit.

// tableTitles are the titles of the tables that have a workbook of their
// own (pack.TableWorkbook): the table units' tables.
var tableTitles = map[string]string{
	dataset.Evaluations: "Compliance evaluations",
	dataset.Inventory:   "Resource inventory",
	dataset.AuditLogs:   "Platform audit logs",
}

// collectTable writes one table: a workbook with one sheet per run of units
// sharing a Sheet, and one Parquet file per unit (folders.partPath).
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
			n, ok, err := r.tableUnit(ctx, api, base, u, sheet)
			if err != nil {
				return err
			}
			total += n
			complete = complete && ok
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

// tableUnit streams one unit into its sheet and its own Parquet file, and
// records its outcome: the rows written, and whether the source gave them
// all (an error of the source fails the unit only). The error is fatal to
// the pack: writing it failed, or the credentials were refused. The API is
// read under api (the run's deadline), the pack written under ctx.
func (r *run) tableUnit(ctx, api context.Context, t dataset.Table, u source.TableUnit, sheet reportgen.Sink) (rows int64, complete bool, err error) {
	pq, err := r.createTable(ctx, r.folders.partPath(t.Name, u.Partition, u.SubAccount, u.Account), r.parquetFormat(t.Name), t)
	if err != nil {
		return 0, false, err
	}
	var st httpx.QueryStats
	var apiErr error
	n, err := stream(untilErr(u.Rows(api, &st), &apiErr), r.scope(u.SubAccount), sheet.Write, pq.WriteRows)
	apiErr = notCollected(api, apiErr)
	if err == nil && errors.Is(apiErr, httpx.ErrAuth) {
		// Credentials refused mid-run: no unit of the tenant can succeed.
		err = apiErr
	}
	if err != nil {
		pq.Fail(err)
		return n, false, err
	}
	if _, err := pq.Finish(); err != nil {
		return n, false, err
	}
	if err := ctx.Err(); err != nil {
		return n, false, err
	}
	ds := t.Name
	if u.Sheet != "" {
		ds += "/" + u.Sheet
	}
	r.summary.addRows(t.Name, n)
	unit := strings.Join(nonEmpty(strings.ReplaceAll(t.Name, "_", " "), u.Sheet, u.SubAccount, u.Account), " ")
	r.unitResult(unit, pack.Query{Dataset: ds, SubAccount: u.SubAccount, Account: u.Account,
		Window: period.Window{From: u.Window.From, To: u.Window.To}, Request: callRecord(u.Call)}, st, n, apiErr)
	return n, apiErr == nil, nil
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
