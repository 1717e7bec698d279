package xlsx

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/xuri/excelize/v2"
)

var testTable = dataset.Table{
	Name:  "Evaluations",
	Title: "Evaluations",
	Columns: []dataset.Column{
		{Name: "resource_id", Title: "Resource", Kind: dataset.String},
		{Name: "count", Kind: dataset.Int},
		{Name: "score", Kind: dataset.Float},
		{Name: "passed", Kind: dataset.Bool},
		{Name: "evaluated_at", Title: "Evaluated at (UTC)", Kind: dataset.Time},
		{Name: "account", Kind: dataset.String},
	},
}

var (
	base    = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	created = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	long    = strings.Repeat("x", 40_000)
)

// tricky strings; testRow cycles through them in column 0.
var tricky = []string{
	"東京", "مرحبا", `=HYPERLINK("x")`, "+1", "-2", "@SUM(A1)", "\tTab", "\rCR",
	"ctl\x00\x01\x1fend", long, "", "plain",
}

const (
	ctlIndex  = 8 // tricky[ctlIndex] loses characters
	longIndex = 9 // tricky[longIndex] is truncated
)

// testRow is row i of the test data: every kind and nils.
func testRow(i int) dataset.Row {
	r := dataset.Row{
		tricky[i%len(tricky)],
		int64(i*1000) - 3,
		float64(i) / 8,
		i%2 == 0,
		base.Add(time.Duration(i)*time.Hour + time.Duration(i%1000)*time.Millisecond + 456*time.Microsecond),
		"acct-" + strconv.Itoa(i),
	}
	switch i % 5 {
	case 1:
		r[2] = nil
	case 2:
		r[1], r[3] = nil, nil
	case 3:
		r[4] = time.Time{} // zero time: no value
	case 4:
		r[4], r[5] = nil, nil
	}
	if i == 7 {
		r[1], r[2] = int64(math.MaxInt64), math.Inf(-1) // beyond 2^53: text; -Inf: text
	}
	return r
}

// expected cell content of testRow(i)[c] as the workbook stores it.
type cellWant struct {
	kind  string // "", "s", "n", "b", "d"
	s     string
	n     float64
	b     bool
	t     time.Time
	isInt bool
}

func want(i, c int) cellWant {
	v := testRow(i)[c]
	switch v := v.(type) {
	case nil:
		return cellWant{}
	case string:
		out, _, _ := SanitiseCell(v)
		if out == "" {
			return cellWant{}
		}
		return cellWant{kind: "s", s: out}
	case int64:
		if v > maxExactInt || v < -maxExactInt {
			return cellWant{kind: "s", s: strconv.FormatInt(v, 10)}
		}
		return cellWant{kind: "n", n: float64(v), isInt: true}
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return cellWant{kind: "s", s: fmt.Sprint(v)}
		}
		return cellWant{kind: "n", n: v}
	case bool:
		return cellWant{kind: "b", b: v}
	case time.Time:
		if v.IsZero() {
			return cellWant{}
		}
		return cellWant{kind: "d", t: v.Truncate(time.Millisecond)}
	}
	panic(fmt.Sprintf("type %T", v))
}

const (
	testRows    = 25
	testPerPage = 10
)

var summary = [][2]any{
	{"Tenant", "acme"},
	{"Rows", int64(testRows)},
	{"Coverage", 0.875},
	{"Generated", created},
	{"Complete", true},
	{"Note", `=cmd|' /C calc'!A0`},
	{"Missing", nil},
}

// writeWorkbook writes a Summary sheet and the test table (25 rows, 10 per
// sheet) in batches of batch rows.
func writeWorkbook(t testing.TB, batch int) ([]byte, Stats) {
	t.Helper()
	var buf bytes.Buffer
	wb := NewWorkbook(&buf, Options{
		Created: created, Title: "Evidence pack", Subject: "SOC 2", Creator: "evidence",
		MaxRowsPerSheet: testPerPage,
	})
	if err := wb.AddKeyValueSheet("Summary", summary); err != nil {
		t.Fatal(err)
	}
	s, err := wb.Begin(testTable)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]dataset.Row, 0, batch)
	for i := 0; i < testRows; i++ {
		rows = append(rows, testRow(i))
		if len(rows) == batch || i == testRows-1 {
			if err := s.Write(rows); err != nil {
				t.Fatal(err)
			}
			for j := range rows { // the caller may reuse rows
				rows[j] = dataset.Row{"garbage", int64(-1), 0.0, false, time.Time{}, "garbage"}
			}
			rows = rows[:0]
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st := wb.Stats()
	if err := wb.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), st
}

var wantSheets = []string{"Summary", "Evaluations", "Evaluations (2)", "Evaluations (3)"}

// dataRow maps (sheet index among data sheets, row on sheet) to the input row.
func dataRow(part, r int) int { return part*testPerPage + r }

func TestWorkbookExcelize(t *testing.T) {
	b, st := writeWorkbook(t, 4)
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	if got := f.GetSheetList(); strings.Join(got, "|") != strings.Join(wantSheets, "|") {
		t.Fatalf("sheets %q, want %q", got, wantSheets)
	}

	wantTrunc, wantSan := int64(0), int64(0)
	for i := 0; i < testRows; i++ {
		switch i % len(tricky) {
		case longIndex:
			wantTrunc++
		case ctlIndex:
			wantSan++
		}
	}
	if st.Rows != testRows || st.Sheets != 4 || st.Truncated != wantTrunc || st.Sanitised != wantSan || st.BigInts != 1 {
		t.Errorf("stats %+v, want rows %d, sheets 4, truncated %d, sanitised %d, bigints 1", st, testRows, wantTrunc, wantSan)
	}

	props, err := f.GetDocProps()
	if err != nil {
		t.Fatal(err)
	}
	if props.Created != "2025-01-02T03:04:05Z" || props.Modified != props.Created || props.Title != "Evidence pack" || props.Creator != "evidence" {
		t.Errorf("doc props %+v", props)
	}

	for p, sheet := range wantSheets[1:] {
		t.Run(sheet, func(t *testing.T) {
			rows, err := f.GetRows(sheet)
			if err != nil {
				t.Fatal(err)
			}
			wantData := min(testPerPage, testRows-p*testPerPage)
			if len(rows) != wantData+1 {
				t.Fatalf("%d rows, want header + %d", len(rows), wantData)
			}
			for c, col := range testTable.Columns {
				cell, _ := excelize.CoordinatesToCellName(c+1, 1)
				if v, _ := f.GetCellValue(sheet, cell); v != col.Header() {
					t.Errorf("header %s = %q, want %q", cell, v, col.Header())
				}
				sid, _ := f.GetCellStyle(sheet, cell)
				style, err := f.GetStyle(sid)
				if err != nil || style.Font == nil || !style.Font.Bold || style.Fill.Pattern != 1 {
					t.Errorf("header %s style %+v: want bold with a solid fill", cell, style)
				}
			}
			panes, err := f.GetPanes(sheet)
			if err != nil || !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
				t.Errorf("panes %+v, %v: want the header row frozen", panes, err)
			}
			// Column A holds long text (not wrapped, not a key column):
			// as wide as its cap; column D (booleans) fits its header.
			if w, _ := f.GetColWidth(sheet, "A"); w != maxTextWidth {
				t.Errorf("column A width %v, want the cap %v", w, maxTextWidth)
			}
			if w, _ := f.GetColWidth(sheet, "D"); w != float64(len("passed"))+filterButton {
				t.Errorf("column D width %v, want %v", w, float64(len("passed"))+filterButton)
			}

			for r := 0; r < wantData; r++ {
				in := dataRow(p, r)
				for c := range testTable.Columns {
					cell, _ := excelize.CoordinatesToCellName(c+1, r+2)
					checkExcelizeCell(t, f, sheet, cell, want(in, c))
				}
			}
		})
	}

	// Summary: two columns, typed values.
	rows, err := f.GetRows("Summary")
	if err != nil || len(rows) != len(summary)+1 || rows[0][0] != "Field" || rows[0][1] != "Value" {
		t.Fatalf("summary rows %q, %v", rows, err)
	}
	if typ, _ := f.GetCellType("Summary", "B3"); typ != excelize.CellTypeUnset { // a number
		t.Errorf("Summary B3 type %v, want a number", typ)
	}
	if fm, _ := f.GetCellFormula("Summary", "B7"); fm != "" {
		t.Errorf("Summary B7 has formula %q", fm)
	}
	checkExcelizeCell(t, f, "Summary", "B5", cellWant{kind: "d", t: created})

	// Raw XML: autofilter over header and data, no stale dimension.
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	wantFilter := map[string]string{
		"xl/worksheets/sheet2.xml": `<autoFilter ref="A1:F11">`,
		"xl/worksheets/sheet3.xml": `<autoFilter ref="A1:F11">`,
		"xl/worksheets/sheet4.xml": `<autoFilter ref="A1:F6">`,
	}
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, "xl/worksheets/") {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		x, _ := io.ReadAll(rc)
		rc.Close()
		if strings.Contains(string(x), "<dimension") {
			t.Errorf("%s has a <dimension>", zf.Name)
		}
		if strings.Contains(string(x), "<f>") {
			t.Errorf("%s holds a formula", zf.Name)
		}
		if w, ok := wantFilter[zf.Name]; ok && !strings.Contains(string(x), w) {
			t.Errorf("%s lacks %s", zf.Name, w)
		}
	}
}

func checkExcelizeCell(t *testing.T, f *excelize.File, sheet, cell string, w cellWant) {
	t.Helper()
	raw, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	typ, _ := f.GetCellType(sheet, cell)
	if fm, _ := f.GetCellFormula(sheet, cell); fm != "" {
		t.Errorf("%s!%s has formula %q", sheet, cell, fm)
	}
	switch w.kind {
	case "":
		if raw != "" {
			t.Errorf("%s!%s = %q, want empty", sheet, cell, raw)
		}
	case "s":
		if typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
			t.Errorf("%s!%s type %v, want a string", sheet, cell, typ)
		}
		if raw != w.s {
			t.Errorf("%s!%s = %.50q, want %.50q", sheet, cell, raw, w.s)
		}
	case "n":
		n, err := strconv.ParseFloat(raw, 64)
		if typ != excelize.CellTypeUnset || err != nil || n != w.n {
			t.Errorf("%s!%s = %q (type %v), want number %v", sheet, cell, raw, typ, w.n)
		}
	case "b":
		if typ != excelize.CellTypeBool || raw != map[bool]string{true: "1", false: "0"}[w.b] {
			t.Errorf("%s!%s = %q (type %v), want bool %v", sheet, cell, raw, typ, w.b)
		}
	case "d":
		n, err := strconv.ParseFloat(raw, 64)
		if typ != excelize.CellTypeUnset || err != nil {
			t.Fatalf("%s!%s = %q (type %v), want a date number", sheet, cell, raw, typ)
		}
		got := serialToTime(n)
		if d := got.Sub(w.t); d > 500*time.Microsecond || d < -500*time.Microsecond {
			t.Errorf("%s!%s = %v, want %v", sheet, cell, got, w.t)
		}
		sid, _ := f.GetCellStyle(sheet, cell)
		style, _ := f.GetStyle(sid)
		if style == nil || style.CustomNumFmt == nil || *style.CustomNumFmt != DateTimeFormat {
			t.Errorf("%s!%s style %+v, want number format %q", sheet, cell, style, DateTimeFormat)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, _ := writeWorkbook(t, 4)
	// Several sheets go through excelize's map of streams: repeat to catch
	// an order that changes between runs.
	for i := 0; i < 5; i++ {
		b, _ := writeWorkbook(t, 3+i) // batching must not matter either
		if !bytes.Equal(a, b) {
			t.Fatalf("write %d differs from the first (%d vs %d bytes)", i+2, len(b), len(a))
		}
	}
	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	if zr.File[0].Name != "[Content_Types].xml" {
		t.Errorf("first part is %s", zr.File[0].Name)
	}
	for _, zf := range zr.File {
		if zf.Name == "docProps/core.xml" {
			rc, _ := zf.Open()
			x, _ := io.ReadAll(rc)
			rc.Close()
			if strings.Count(string(x), "2025-01-02T03:04:05Z") != 2 {
				t.Errorf("core.xml: %s", x)
			}
		}
	}
}

func TestDefaultCreated(t *testing.T) {
	var buf bytes.Buffer
	wb := NewWorkbook(&buf, Options{})
	if err := wb.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, _ := f.GetDocProps()
	if p.Created != "2000-01-01T00:00:00Z" || p.Modified != p.Created {
		t.Errorf("created %q modified %q", p.Created, p.Modified)
	}
	if got := f.GetSheetList(); len(got) != 1 {
		t.Errorf("empty workbook sheets %q", got)
	}
}

type closeRecorder struct {
	bytes.Buffer
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestFormat(t *testing.T) {
	ft := New(Options{MaxRowsPerSheet: 2, Created: created})
	if ft.Ext() != ".xlsx" || ft.MediaType() != MediaType {
		t.Fatalf("Ext/MediaType %q %q", ft.Ext(), ft.MediaType())
	}
	for _, tc := range []struct {
		rows   int
		sheets []string
	}{
		{0, []string{"Evaluations"}},
		{2, []string{"Evaluations"}},
		{5, []string{"Evaluations", "Evaluations (2)", "Evaluations (3)"}},
	} {
		t.Run(strconv.Itoa(tc.rows), func(t *testing.T) {
			w := &closeRecorder{}
			s, err := ft.Begin(w, testTable)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < tc.rows; i++ {
				if err := s.Write([]dataset.Row{testRow(i)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if w.closed {
				t.Error("Close closed the writer")
			}
			f, err := excelize.OpenReader(bytes.NewReader(w.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got := f.GetSheetList(); strings.Join(got, "|") != strings.Join(tc.sheets, "|") {
				t.Fatalf("sheets %q, want %q", got, tc.sheets)
			}
			total := 0
			for _, sh := range tc.sheets {
				rows, _ := f.GetRows(sh)
				total += len(rows) - 1
				if len(rows) == 0 || rows[0][0] != "Resource" {
					t.Errorf("%s: no header: %q", sh, rows)
				}
			}
			if total != tc.rows {
				t.Errorf("%d data rows, want %d", total, tc.rows)
			}
		})
	}
}

func TestMisuse(t *testing.T) {
	newWB := func() *Workbook { return NewWorkbook(io.Discard, Options{}) }
	for _, tc := range []struct {
		name string
		run  func(t *testing.T) error
	}{
		{"begin while a sheet is open", func(t *testing.T) error {
			wb := newWB()
			defer wb.Abort()
			if _, err := wb.Begin(testTable); err != nil {
				t.Fatal(err)
			}
			_, err := wb.Begin(testTable)
			return err
		}},
		{"key/value sheet while a sheet is open", func(t *testing.T) error {
			wb := newWB()
			defer wb.Abort()
			if _, err := wb.Begin(testTable); err != nil {
				t.Fatal(err)
			}
			return wb.AddKeyValueSheet("Summary", nil)
		}},
		{"close with a sheet open", func(t *testing.T) error {
			wb := newWB()
			if _, err := wb.Begin(testTable); err != nil {
				t.Fatal(err)
			}
			return wb.Close()
		}},
		{"wrong value type", func(t *testing.T) error {
			wb := newWB()
			defer wb.Abort()
			s, err := wb.Begin(testTable)
			if err != nil {
				t.Fatal(err)
			}
			return s.Write([]dataset.Row{{"a", 1, nil, nil, nil, nil}})
		}},
		{"close after a failed write", func(t *testing.T) error {
			wb := newWB()
			s, err := wb.Begin(testTable)
			if err != nil {
				t.Fatal(err)
			}
			_ = s.Write([]dataset.Row{{"short"}})
			_ = s.Close()
			return wb.Close()
		}},
		{"write after close", func(t *testing.T) error {
			wb := newWB()
			defer wb.Abort()
			s, err := wb.Begin(testTable)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return s.Write([]dataset.Row{testRow(0)})
		}},
		{"unsupported key/value type", func(t *testing.T) error {
			wb := newWB()
			defer wb.Abort()
			err := wb.AddKeyValueSheet("S", [][2]any{{"k", []int{1}}})
			// Nothing was started: the workbook is still usable.
			if len(wb.Sheets()) != 0 {
				t.Errorf("a sheet was added: %q", wb.Sheets())
			}
			if err2 := wb.AddKeyValueSheet("S", [][2]any{{"k", 1}}); err2 != nil {
				t.Errorf("workbook unusable after a rejected sheet: %v", err2)
			}
			return err
		}},
		{"no columns", func(t *testing.T) error {
			wb := newWB()
			defer wb.Abort()
			_, err := wb.Begin(dataset.Table{Name: "x"})
			return err
		}},
		{"close twice", func(t *testing.T) error {
			wb := newWB()
			if err := wb.Close(); err != nil {
				t.Fatal(err)
			}
			return wb.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(t); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestSheetNamesUnique(t *testing.T) {
	var buf bytes.Buffer
	wb := NewWorkbook(&buf, Options{MaxRowsPerSheet: 1})
	if err := wb.AddKeyValueSheet("evaluations", nil); err != nil {
		t.Fatal(err)
	}
	tbl := testTable
	tbl.Name = "Evaluations: all/some [x]" // illegal characters
	s, err := wb.Begin(tbl)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write([]dataset.Row{testRow(0), testRow(1)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	tbl.Name = "evaluations" // clashes with the first sheet
	if s, err = wb.Begin(tbl); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{"evaluations", "Evaluations_ all_some _x_", "Evaluations_ all_some _x_ (2)", "evaluations (2)"}
	if got := wb.Sheets(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("sheets %q, want %q", got, want)
	}
	if err := wb.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("file sheets %q, want %q", got, want)
	}
}

// benchRows are realistic rows: short strings, every kind.
func benchRows(n int) []dataset.Row {
	rows := make([]dataset.Row, n)
	for i := range rows {
		rows[i] = dataset.Row{
			"arn:aws:s3:::bucket-" + strconv.Itoa(i),
			int64(i),
			float64(i) / 3,
			i%3 == 0,
			base.Add(time.Duration(i) * time.Second),
			"acct-" + strconv.Itoa(i%50),
		}
	}
	return rows
}

// BenchmarkWrite100k writes 100,000 rows in batches of 500 and reports
// rows/s and the file size.
func BenchmarkWrite100k(b *testing.B) {
	const n = 100_000
	rows := benchRows(500)
	b.ReportAllocs()
	var size int64
	for b.Loop() {
		cw := &countWriter{}
		wb := NewWorkbook(cw, Options{})
		s, err := wb.Begin(testTable)
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
		if err := wb.Close(); err != nil {
			b.Fatal(err)
		}
		size = cw.n
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(size), "file-bytes")
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// serialToTime converts an Excel serial date (1900 system, after
// 1900-03-01) to a time, to the nanosecond: excelize's ExcelDateToTime
// rounds to the second.
func serialToTime(n float64) time.Time {
	days := math.Floor(n)
	frac := n - days
	return time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(days)).Add(time.Duration(math.Round(frac * 86400e9)))
}
