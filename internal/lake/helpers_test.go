package lake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/reportgen/parquet"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/local"

	"github.com/evidence-pack/evidence/internal/testtool"
)

// testFile is one Parquet file of a test pack: rows of a dataset table.
type testFile struct {
	path  string // in the pack
	table dataset.Table
	sub   string // sub-account (the account= folder)
	rows  []dataset.Row
	idCol int // index of a column that is never null and unique per row
}

// testPack is a pack to publish: Parquet files of every dataset table, as
// internal/job lays them out, and a PDF that is not a data set.
type testPack struct {
	tenant string
	runID  string
	day    time.Time // period start; the period is one day
	files  []testFile
}

// samplePack builds a pack whose rows depend on seed: two sub-accounts,
// every table, the framework= / dataset= / csp= folders of a real pack, and
// one empty file.
func samplePack(tenant, runID string, day time.Time, seed int) testPack {
	const fw, fwSlug = "CIS AWS 1.4.0", "CIS_AWS_1.4.0"
	p := testPack{tenant: tenant, runID: runID, day: day}
	add := func(t dataset.Table, folder, sub string, extra map[string]string, n int) {
		parts := []string{"parquet", t.Name}
		if folder != "" {
			parts = append(parts, folder)
		}
		path := strings.Join(append(parts, "account="+sub, "part-00000.parquet"), "/")
		scope := map[string]any{"source": "lacework", "tenant": tenant, "sub_account": sub}
		for k, v := range extra {
			scope[k] = v
		}
		rows, id := genRows(t, scope, folder+"/"+sub, n, seed, day)
		p.files = append(p.files, testFile{path: path, table: t, sub: sub, rows: rows, idCol: id})
	}
	add(dataset.ControlsTable(), "framework="+fwSlug, "acme", map[string]string{"framework": fw}, 4+seed)
	add(dataset.ControlsTable(), "framework="+fwSlug, "acme-prod", map[string]string{"framework": fw}, 6)
	add(dataset.ViolationsTable(), "framework="+fwSlug, "acme-prod", map[string]string{"framework": fw}, 9)
	add(dataset.EvaluationsTable(), "dataset=AwsCompliance", "acme", map[string]string{"dataset": "AwsCompliance"}, 11)
	add(dataset.EvaluationsTable(), "dataset=GcpCompliance", "acme", map[string]string{"dataset": "GcpCompliance"}, 5)
	add(dataset.EvaluationsTable(), "dataset=AwsCompliance", "acme-prod", map[string]string{"dataset": "AwsCompliance"}, 7+seed)
	add(dataset.InventoryTable(), "csp=AWS", "acme-prod", map[string]string{"csp": "AWS"}, 8)
	add(dataset.ExceptionsTable(), "framework="+fwSlug, "acme-prod", map[string]string{"framework": fw}, 3)
	add(dataset.DriftTable(), "", "acme", nil, 2+seed)
	add(dataset.AuditLogsTable(), "", "acme", nil, 0) // an empty file
	add(dataset.AuditLogsTable(), "", "acme-prod", nil, 10)
	// In manifest order.
	slices.SortFunc(p.files, func(a, b testFile) int { return strings.Compare(a.path, b.path) })
	return p
}

// genRows makes n rows of t: scope values where named, else values that
// name the column, the file (tag), the seed and the row, with some nulls
// (never in the id column, the first free string column, whose values are
// unique).
func genRows(t dataset.Table, scope map[string]any, tag string, n, seed int, day time.Time) ([]dataset.Row, int) {
	id := -1
	for j, c := range t.Columns {
		if _, fixed := scope[c.Name]; !fixed && c.Kind == dataset.String {
			id = j
			break
		}
	}
	var rows []dataset.Row
	for i := range n {
		r := make(dataset.Row, len(t.Columns))
		for j, c := range t.Columns {
			if v, ok := scope[c.Name]; ok {
				r[j] = v
				continue
			}
			if j != id && (i+j)%5 == 4 {
				continue // null
			}
			switch c.Kind {
			case dataset.String:
				r[j] = fmt.Sprintf("%s %s/%d #%d, it's \"quoted\"", c.Name, tag, seed, i)
			case dataset.Int:
				r[j] = int64(seed*1000 + i*10 + j)
			case dataset.Float:
				r[j] = float64(i) + 0.5
			case dataset.Bool:
				r[j] = i%2 == 0
			case dataset.Time:
				r[j] = day.Add(time.Duration(seed*100+i)*time.Minute + time.Duration(j)*time.Second)
			}
		}
		rows = append(rows, r)
	}
	return rows, id
}

// parquetBytes writes rows of t with the pack's Parquet writer.
func parquetBytes(t testing.TB, table dataset.Table, rows []dataset.Row) []byte {
	t.Helper()
	var buf bytes.Buffer
	sink, err := parquet.New(parquet.Options{}).Begin(&buf, table)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// publish writes p as a published pack into store and returns its prefix.
func publish(t testing.TB, store storage.Store, p testPack) string {
	t.Helper()
	ctx := context.Background()
	to := p.day.Add(24 * time.Hour)
	label := pack.PeriodLabel(p.day, to)
	prefix := pack.PackPrefix("packs", p.tenant, label, p.runID)
	w, err := pack.NewWriter(ctx, store, prefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.files {
		n := int64(len(f.rows))
		if _, err := w.Put(ctx, f.path, bytes.NewReader(parquetBytes(t, f.table, f.rows)), pack.MediaTypeParquet, &n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Put(ctx, pack.SummaryPDF, strings.NewReader("%PDF-1.4 not a data set"), pack.MediaTypePDF, nil); err != nil {
		t.Fatal(err)
	}
	m := pack.Manifest{PackID: p.runID, Tenant: p.tenant, Source: pack.Source{System: "lacework", BaseURL: "https://acme.lacework.net"},
		Period: pack.Period{From: p.day, To: to, Label: label}, GeneratedAt: to.Add(time.Hour), Generator: pack.Generator{Name: "evidence", Version: "test"}}
	if err := w.Publish(ctx, m); err != nil {
		t.Fatal(err)
	}
	return prefix
}

// lakeKeyOf is where the lake keeps a file of p (an independent
// statement of the layout, for the tests).
func lakeKeyOf(p testPack, f testFile) string {
	name := p.runID
	parts := strings.Split(f.path, "/")
	for _, seg := range parts[2 : len(parts)-2] {
		name += "_" + strings.Replace(seg, "=", "-", 1)
	}
	return fmt.Sprintf("%s/dt=%s/tenant=%s/account=%s/%s.parquet", f.table.Name, p.day.Format("2006-01-02"), p.tenant, f.sub, name)
}

func newLocal(t testing.TB) *local.Store {
	t.Helper()
	s, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func localLake(t testing.TB) Lake {
	s := newLocal(t)
	return Lake{Store: s, Location: s.Root()}
}

// listing is every object of s under prefix with its size.
func listing(t testing.TB, s storage.Store, prefix string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	if err := s.List(context.Background(), prefix, func(o storage.Object) error { out[o.Key] = o.Size; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func read(t testing.TB, s storage.Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replaceObject swaps key's content for mutate(content), behind the pack's back.
func replaceObject(t testing.TB, s storage.Store, key string, mutate func([]byte) []byte) {
	t.Helper()
	b := mutate(slices.Clone(read(t, s, key)))
	ctx := context.Background()
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, key, bytes.NewReader(b), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

// countingStore counts the writes that reach a store.
type countingStore struct {
	storage.Store
	writes atomic.Int64
}

func (c *countingStore) Put(ctx context.Context, key string, r io.Reader, o storage.PutOptions) (storage.Object, error) {
	c.writes.Add(1)
	return c.Store.Put(ctx, key, r, o)
}

func (c *countingStore) Delete(ctx context.Context, key string) error {
	c.writes.Add(1)
	return c.Store.Delete(ctx, key)
}

func (c *countingStore) Replace(ctx context.Context, key string, r io.Reader, o storage.PutOptions) (storage.Object, error) {
	c.writes.Add(1)
	return c.Store.(storage.Replacer).Replace(ctx, key, r, o)
}

// duckdb runs sqlFile (a generated duckdb.sql) with DuckDB, then queries,
// and returns each query's rows as JSON objects (testtool.QueryDuckDB).
func duckdb(t *testing.T, sqlFile string, queries map[string]string) map[string][]map[string]any {
	t.Helper()
	sql, err := os.ReadFile(sqlFile)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string][]map[string]any
	testtool.QueryDuckDB(t, "", string(sql), queries, &got)
	return got
}
