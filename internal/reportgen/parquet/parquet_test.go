package parquet

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

var testTable = dataset.Table{
	Name:  "evaluations",
	Title: "Evaluations",
	Columns: []dataset.Column{
		// Deliberately not in alphabetical order: the file must keep it.
		{Name: "resource_id", Title: "Resource", Kind: dataset.String, Doc: "cloud resource | ARN"},
		{Name: "count", Kind: dataset.Int, Doc: "findings"},
		{Name: "score", Kind: dataset.Float},
		{Name: "passed", Kind: dataset.Bool},
		{Name: "evaluated_at", Kind: dataset.Time, Doc: "when, UTC"},
		{Name: "account", Kind: dataset.String},
	},
}

var base = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

var tricky = []string{
	"東京", "مرحبا", `=HYPERLINK("x")`, "+1", "-2", "@SUM(A1)", "\tTab", "\rCR",
	"ctl\x00\x01\x1f", strings.Repeat("x", 40_000), "", "emoji 🙂",
}

// testRow is row i of the test data: every kind, nils in every column.
func testRow(i int) dataset.Row {
	r := dataset.Row{
		tricky[i%len(tricky)],
		int64(i*1000) - 3,
		float64(i) / 7,
		i%2 == 0,
		base.Add(time.Duration(i)*time.Hour + time.Duration(i%1000)*time.Millisecond + 123*time.Microsecond),
		fmt.Sprintf("acct-%04d", i),
	}
	switch i % 5 {
	case 1:
		r[0], r[2] = nil, nil
	case 2:
		r[1], r[3] = nil, nil
	case 3:
		r[4] = time.Time{} // zero time means no value
	case 4:
		r[4], r[5] = nil, nil
	}
	if i == 7 {
		r[1], r[2] = int64(math.MinInt64), math.Inf(-1)
	}
	if i == 8 {
		r[1], r[2] = int64(math.MaxInt64), math.Copysign(0, -1)
	}
	return r
}

// writeFile writes rows 0..n-1 in batches of batch rows.
func writeFile(t testing.TB, opts Options, n, batch int) []byte {
	t.Helper()
	var buf bytes.Buffer
	s, err := New(opts).Begin(&buf, testTable)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]dataset.Row, 0, batch)
	for i := 0; i < n; i++ {
		rows = append(rows, testRow(i))
		if len(rows) == batch || i == n-1 {
			if err := s.Write(rows); err != nil {
				t.Fatal(err)
			}
			// The caller may reuse the slice and rows: scribble over them.
			for j := range rows {
				rows[j] = dataset.Row{"garbage", int64(-1), 0.0, false, time.Time{}, "garbage"}
			}
			rows = rows[:0]
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func openFile(t testing.TB, b []byte) *pq.File {
	t.Helper()
	f, err := pq.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func readAll(t testing.TB, f *pq.File) []pq.Row {
	t.Helper()
	r := pq.NewReader(f)
	defer r.Close()
	var out []pq.Row
	buf := make([]pq.Row, 10)
	for {
		n, err := r.ReadRows(buf)
		for _, row := range buf[:n] {
			out = append(out, row.Clone())
		}
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// want is what the file must hold for an input value.
func checkValue(t *testing.T, row, col int, in any, got pq.Value) {
	t.Helper()
	if got.Column() != col {
		t.Errorf("row %d col %d: value is for column %d", row, col, got.Column())
	}
	null := in == nil
	if tm, ok := in.(time.Time); ok && tm.IsZero() {
		null = true
	}
	if null {
		if !got.IsNull() {
			t.Errorf("row %d col %d: want null, got %v", row, col, got)
		}
		return
	}
	if got.IsNull() {
		t.Errorf("row %d col %d: want %v, got null", row, col, in)
		return
	}
	switch v := in.(type) {
	case string:
		if string(got.ByteArray()) != v {
			t.Errorf("row %d col %d: string %.40q, got %.40q", row, col, v, got.ByteArray())
		}
	case int64:
		if got.Int64() != v {
			t.Errorf("row %d col %d: int %d, got %d", row, col, v, got.Int64())
		}
	case float64:
		g := got.Double()
		if math.Float64bits(g) != math.Float64bits(v) {
			t.Errorf("row %d col %d: float %v, got %v", row, col, v, g)
		}
	case bool:
		if got.Boolean() != v {
			t.Errorf("row %d col %d: bool %v, got %v", row, col, v, got.Boolean())
		}
	case time.Time:
		if got.Int64() != v.UnixMilli() {
			t.Errorf("row %d col %d: time %v (ms %d), got %d", row, col, v, v.UnixMilli(), got.Int64())
		}
		if back := time.UnixMilli(got.Int64()).UTC(); !back.Equal(v.Truncate(time.Millisecond)) {
			t.Errorf("row %d col %d: time %v, read back %v", row, col, v, back)
		}
	default:
		t.Fatalf("unexpected input type %T", in)
	}
}

func TestRoundTrip(t *testing.T) {
	meta := map[string]string{"tenant": "acme", "dataset": "evaluations", "pack_id": "p-1", "a_first": "1"}
	for _, tc := range []struct {
		name      string
		rows, rg  int
		batch     int
		wantGroup int
	}{
		{"empty", 0, 10, 5, 0},
		{"one row", 1, 10, 5, 1},
		{"exact multiple", 30, 10, 7, 3},
		{"remainder", 25, 10, 3, 3},
		{"batch larger than group", 95, 10, 64, 10},
		{"default group size", 120, 0, 50, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := writeFile(t, Options{RowGroupRows: tc.rg, Metadata: meta}, tc.rows, tc.batch)
			f := openFile(t, b)
			md := f.Metadata()

			if f.NumRows() != int64(tc.rows) {
				t.Fatalf("NumRows = %d, want %d", f.NumRows(), tc.rows)
			}
			rg := tc.rg
			if rg == 0 {
				rg = DefaultRowGroupRows
			}
			if want := (tc.rows + rg - 1) / rg; len(md.RowGroups) != want || want != tc.wantGroup {
				t.Fatalf("row groups = %d, want %d (ceil(%d/%d))", len(md.RowGroups), want, tc.rows, rg)
			}
			for i, g := range md.RowGroups {
				want := int64(min(rg, tc.rows-i*rg))
				if g.NumRows != want {
					t.Errorf("row group %d has %d rows, want %d", i, g.NumRows, want)
				}
				for _, c := range g.Columns {
					if c.MetaData.Codec != format.Zstd {
						t.Errorf("row group %d column %v: codec %v, want ZSTD", i, c.MetaData.PathInSchema, c.MetaData.Codec)
					}
				}
			}
			if md.CreatedBy != CreatedBy {
				t.Errorf("created_by = %q, want %q", md.CreatedBy, CreatedBy)
			}
			var keys []string
			for _, kv := range md.KeyValueMetadata {
				keys = append(keys, kv.Key)
				if meta[kv.Key] != kv.Value {
					t.Errorf("metadata %s = %q, want %q", kv.Key, kv.Value, meta[kv.Key])
				}
			}
			if !slices.IsSorted(keys) || len(keys) != len(meta) {
				t.Errorf("metadata keys %v: want the %d keys in sorted order", keys, len(meta))
			}
			if v, ok := f.Lookup("tenant"); !ok || v != "acme" {
				t.Errorf("Lookup(tenant) = %q, %v", v, ok)
			}

			rows := readAll(t, f)
			if len(rows) != tc.rows {
				t.Fatalf("read %d rows, want %d", len(rows), tc.rows)
			}
			for i, row := range rows {
				in := testRow(i)
				if len(row) != len(in) {
					t.Fatalf("row %d has %d values, want %d", i, len(row), len(in))
				}
				for c := range in {
					checkValue(t, i, c, in[c], row[c])
				}
			}
		})
	}
}

func TestSchema(t *testing.T) {
	b := writeFile(t, Options{RowGroupRows: 10}, 3, 3)
	f := openFile(t, b)

	// Column order and names follow the table, not the alphabet.
	var names []string
	for _, fl := range f.Schema().Fields() {
		names = append(names, fl.Name())
		if !fl.Optional() {
			t.Errorf("column %s is not optional", fl.Name())
		}
	}
	var want []string
	for _, c := range testTable.Columns {
		want = append(want, c.Name)
	}
	if !slices.Equal(names, want) {
		t.Fatalf("columns %v, want %v", names, want)
	}

	elems := f.Metadata().Schema
	if len(elems) != len(testTable.Columns)+1 || elems[0].Name != testTable.Name {
		t.Fatalf("schema elements: %+v", elems)
	}
	for i, c := range testTable.Columns {
		e := elems[i+1]
		if e.Name != c.Name {
			t.Errorf("element %d is %s, want %s", i+1, e.Name, c.Name)
		}
		if rt, _ := e.RepetitionType.Get(); rt != format.Optional {
			t.Errorf("%s: repetition %v, want OPTIONAL", c.Name, rt)
		}
		typ, _ := e.Type.Get()
		lt := e.LogicalType.Value
		switch c.Kind {
		case dataset.String:
			if _, ok := lt.(*format.StringType); typ != format.ByteArray || !ok {
				t.Errorf("%s: %v %v, want BYTE_ARRAY STRING", c.Name, typ, lt)
			}
		case dataset.Int:
			// parquet-go annotates INT64 as INT(64, signed): the same thing.
			it, ok := lt.(*format.IntType)
			if typ != format.Int64 || (lt != nil && (!ok || it.BitWidth != 64 || !it.IsSigned)) {
				t.Errorf("%s: %v %v, want INT64 (optionally INT(64, signed))", c.Name, typ, lt)
			}
		case dataset.Float:
			if typ != format.Double || lt != nil {
				t.Errorf("%s: %v %v, want DOUBLE", c.Name, typ, lt)
			}
		case dataset.Bool:
			if typ != format.Boolean || lt != nil {
				t.Errorf("%s: %v %v, want BOOLEAN", c.Name, typ, lt)
			}
		case dataset.Time:
			ts, ok := lt.(*format.TimestampType)
			if typ != format.Int64 || !ok {
				t.Fatalf("%s: %v %v, want INT64 TIMESTAMP", c.Name, typ, lt)
			}
			if _, ms := ts.Unit.Value.(*format.MilliSeconds); !ms || !ts.IsAdjustedToUTC {
				t.Errorf("%s: %v, want TIMESTAMP(MILLIS, isAdjustedToUTC=true)", c.Name, ts)
			}
		}
	}

	doc := Schema(testTable)
	for _, s := range []string{"`resource_id`", "BYTE_ARRAY", "STRING", "TIMESTAMP(MILLIS, isAdjustedToUTC=true)", "DOUBLE", "BOOLEAN", `cloud resource \| ARN`, "when, UTC"} {
		if !strings.Contains(doc, s) {
			t.Errorf("Schema() lacks %q:\n%s", s, doc)
		}
	}
	if strings.Index(doc, "resource_id") > strings.Index(doc, "evaluated_at") {
		t.Errorf("Schema() is not in column order:\n%s", doc)
	}
}

func TestDeterministic(t *testing.T) {
	opts := Options{RowGroupRows: 7, Metadata: map[string]string{"z": "1", "a": "2", "m": "3"}}
	a := writeFile(t, opts, 40, 9)
	b := writeFile(t, opts, 40, 13) // different batching, same rows
	if !bytes.Equal(a, b) {
		t.Fatalf("two writes of the same rows differ (%d vs %d bytes)", len(a), len(b))
	}
}

type closeRecorder struct {
	bytes.Buffer
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestSinkContract(t *testing.T) {
	fmtr := New(Options{})
	if fmtr.Ext() != ".parquet" || fmtr.MediaType() != "application/vnd.apache.parquet" {
		t.Fatalf("Ext/MediaType = %q %q", fmtr.Ext(), fmtr.MediaType())
	}

	w := &closeRecorder{}
	s, err := fmtr.Begin(w, testTable)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write([]dataset.Row{testRow(0)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if w.closed {
		t.Error("Close closed the writer")
	}
	if !bytes.HasSuffix(w.Bytes(), []byte("PAR1")) {
		t.Error("file does not end with the PAR1 magic")
	}
	if err := s.Write([]dataset.Row{testRow(0)}); err == nil {
		t.Error("Write after Close succeeded")
	}

	for _, tc := range []struct {
		name  string
		table dataset.Table
		row   dataset.Row
	}{
		{"no columns", dataset.Table{Name: "x"}, nil},
		{"duplicate column", dataset.Table{Name: "x", Columns: []dataset.Column{{Name: "a"}, {Name: "a"}}}, nil},
		{"unnamed column", dataset.Table{Name: "x", Columns: []dataset.Column{{Name: ""}}}, nil},
		{"bad kind", dataset.Table{Name: "x", Columns: []dataset.Column{{Name: "a", Kind: dataset.Kind(99)}}}, nil},
		{"wrong value type", testTable, dataset.Row{"a", 1 /* int, not int64 */, nil, nil, nil, nil}},
		{"short row", testTable, dataset.Row{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := fmtr.Begin(io.Discard, tc.table)
			if tc.row == nil {
				if err == nil {
					t.Fatal("Begin succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Write([]dataset.Row{tc.row}); err == nil {
				t.Fatal("Write succeeded")
			}
			if err := s.Close(); err == nil {
				t.Fatal("Close after a failed Write succeeded")
			}
		})
	}
}

func TestInvalidUTF8(t *testing.T) {
	var buf bytes.Buffer
	tbl := dataset.Table{Name: "t", Columns: []dataset.Column{{Name: "s", Kind: dataset.String}}}
	s, err := New(Options{}).Begin(&buf, tbl)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write([]dataset.Row{{"ok\xffok"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rows := readAll(t, openFile(t, buf.Bytes()))
	if got := string(rows[0][0].ByteArray()); got != "ok\uFFFDok" {
		t.Fatalf("got %q, want the invalid byte replaced by U+FFFD", got)
	}
}

// BenchmarkWrite100k writes 100,000 rows of the test table in batches of
// 500, as the pipeline does, and reports rows/s and the file size.
func BenchmarkWrite100k(b *testing.B) {
	const n = 100_000
	rows := make([]dataset.Row, 500)
	for i := range rows {
		rows[i] = testRow(i)
		if s, ok := rows[i][0].(string); ok && len(s) > 100 {
			rows[i][0] = s[:100] // keep the data realistic
		}
	}
	b.ReportAllocs()
	var size int64
	for b.Loop() {
		cw := &countWriter{}
		s, err := New(Options{}).Begin(cw, testTable)
		if err != nil {
			b.Fatal(err)
		}
		for done := 0; done < n; done += len(rows) {
			if err := s.Write(rows); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		size = cw.n
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(size), "file-bytes")
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// Wide rows flush row groups by size before the row count is reached, so a
// table of large values never buffers RowGroupRows of them.
func TestRowGroupBytes(t *testing.T) {
	const rows = 120 // every 12th row holds a 40,000-byte string
	b := writeFile(t, Options{RowGroupBytes: 50_000}, rows, 7)
	f := openFile(t, b)
	groups := f.Metadata().RowGroups
	if len(groups) < 5 {
		t.Fatalf("%d row groups, want at least 5 (about 320 kB of values in groups of 50 kB)", len(groups))
	}
	var n int64
	for _, g := range groups {
		n += g.NumRows
	}
	if n != rows || len(readAll(t, f)) != rows {
		t.Fatalf("rows in groups = %d, want %d", n, rows)
	}
}
