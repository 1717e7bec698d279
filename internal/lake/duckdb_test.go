package lake

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
)

// TestDuckDBReadsLake: DuckDB, an independent reader, runs the duckdb.sql
// that Export wrote into the lake. Its views then give each run's row
// counts per partition and every value written, with dt, tenant, account
// and run_id filled in. The view schemas are the dataset's.
func TestDuckDBReadsLake(t *testing.T) {
	ctx := context.Background()
	packs := memstore.New()
	lake := localLake(t)
	lake.Prefix = "lake"
	runs := []testPack{
		samplePack("acme", "20261121T010101Z-aaaaaa", day, 1),
		samplePack("acme", "20261121T020202Z-bbbbbb", day, 2), // same day: side by side
		samplePack("globex", "20261122T010101Z-cccccc", day.Add(24*time.Hour), 3),
	}
	for _, p := range runs {
		if _, err := Export(ctx, packs, publish(t, packs, p), lake); err != nil {
			t.Fatal(err)
		}
	}

	type want struct {
		counts map[string]int64          // run|dt|tenant|account → rows
		rows   map[string]map[string]any // run|account|id → column → DuckDB JSON value
		idCol  string
	}
	wants := map[string]*want{}
	for _, tb := range dataset.All() {
		wants[tb.Name] = &want{counts: map[string]int64{}, rows: map[string]map[string]any{}}
	}
	for _, p := range runs {
		dt := p.day.Format(time.DateOnly)
		for _, f := range p.files {
			w := wants[f.table.Name]
			w.idCol = f.table.Columns[f.idCol].Name
			if len(f.rows) > 0 {
				w.counts[strings.Join([]string{p.runID, dt, p.tenant, f.sub}, "|")] += int64(len(f.rows))
			}
			for _, r := range f.rows {
				row := map[string]any{"dt": dt, "tenant": p.tenant, "account": f.sub, "run_id": p.runID}
				for j, c := range f.table.Columns {
					row[c.Name] = duckJSON(r[j])
				}
				w.rows[p.runID+"|"+f.sub+"|"+fmt.Sprint(r[f.idCol])] = row
			}
		}
	}

	queries := map[string]string{}
	for _, tb := range dataset.All() {
		q := `"` + tb.Name + `"`
		queries["describe "+tb.Name] = "DESCRIBE " + q
		queries["counts "+tb.Name] = "SELECT run_id, CAST(dt AS VARCHAR) AS dt, tenant, account, count(*) AS n FROM " + q + " GROUP BY ALL"
		queries["filled "+tb.Name] = "SELECT count(*) AS n, count(dt) AS dt, count(tenant) AS tenant, count(account) AS account, count(run_id) AS run_id FROM " + q
		queries["rows "+tb.Name] = "SELECT * FROM " + q
	}
	got := duckdb(t, filepath.Join(lake.Location, "lake", DDLDir, DuckDBFile), queries)

	for _, tb := range dataset.All() {
		t.Run(tb.Name, func(t *testing.T) {
			w := wants[tb.Name]
			cols, err := Columns(tb)
			if err != nil {
				t.Fatal(err)
			}
			var wantDesc, gotDesc []string
			for _, c := range cols {
				wantDesc = append(wantDesc, c.Name+" "+strings.Replace(c.DuckDB, "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE", 1))
			}
			wantDesc = append(wantDesc, "run_id VARCHAR")
			for _, r := range got["describe "+tb.Name] {
				gotDesc = append(gotDesc, fmt.Sprint(r["column_name"], " ", r["column_type"]))
			}
			if strings.Join(gotDesc, ", ") != strings.Join(wantDesc, ", ") {
				t.Errorf("view schema\n%v\nwant\n%v", gotDesc, wantDesc)
			}

			seen := 0
			for _, r := range got["counts "+tb.Name] {
				k := fmt.Sprint(r["run_id"], "|", r["dt"], "|", r["tenant"], "|", r["account"])
				if n, _ := strconv.ParseInt(fmt.Sprint(r["n"]), 10, 64); n != w.counts[k] {
					t.Errorf("%s: DuckDB counts %v rows, the packs hold %d", k, r["n"], w.counts[k])
				}
				seen++
			}
			if seen != len(w.counts) {
				t.Errorf("DuckDB sees %d partitions×runs, want %d: %v", seen, len(w.counts), got["counts "+tb.Name])
			}

			var total int64
			for _, n := range w.counts {
				total += n
			}
			f := got["filled "+tb.Name][0]
			for _, c := range []string{"n", "dt", "tenant", "account", "run_id"} {
				if fmt.Sprint(f[c]) != strconv.FormatInt(total, 10) {
					t.Errorf("count(%s) = %v, want %d", c, f[c], total)
				}
			}

			rows := got["rows "+tb.Name]
			if len(rows) != len(w.rows) {
				t.Errorf("%d rows, want %d", len(rows), len(w.rows))
			}
			for _, r := range rows {
				k := fmt.Sprint(r["run_id"], "|", r["account"], "|", r[w.idCol])
				want, ok := w.rows[k]
				if !ok {
					t.Errorf("unexpected row %v", r)
					continue
				}
				if len(r) != len(want) {
					t.Errorf("%s: %d columns, want %d", k, len(r), len(want))
				}
				for c, v := range want {
					if r[c] != v {
						t.Errorf("%s: %s = %#v, want %#v", k, c, r[c], v)
					}
				}
			}
		})
	}
}

// duckJSON is how @duckdb/node-api's getRowObjectsJson renders a value.
func duckJSON(v any) any {
	switch v := v.(type) {
	case nil:
		return nil
	case int64:
		return strconv.FormatInt(v, 10)
	case time.Time:
		return v.UTC().Format(time.DateTime) + "+00"
	case string:
		return v
	case bool:
		return v
	}
	panic(fmt.Sprintf("no DuckDB JSON for %T", v))
}
