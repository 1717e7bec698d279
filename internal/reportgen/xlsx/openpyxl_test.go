package xlsx

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/testtool"
)

// openpyxlScript loads a workbook twice (normal and read-only mode) and
// prints what it saw as JSON.
const openpyxlScript = `
import json, sys, datetime, openpyxl
path = sys.argv[1]
out = {"sheets": [], "readonly": {}}
wb = openpyxl.load_workbook(path)
p = wb.properties
out["props"] = {"title": p.title, "creator": p.creator,
    "created": p.created.isoformat() if p.created else None,
    "modified": p.modified.isoformat() if p.modified else None}
for ws in wb.worksheets:
    rows = []
    for row in ws.iter_rows():
        cells = []
        for c in row:
            v = c.value
            if isinstance(v, datetime.datetime):
                v = v.isoformat()
            cells.append({"t": c.data_type, "py": type(c.value).__name__, "v": v, "fmt": c.number_format,
                          "bold": bool(c.font and c.font.b), "fill": (c.fill.fgColor.rgb if c.fill and c.fill.fill_type == "solid" else None)})
        rows.append(cells)
    out["sheets"].append({"title": ws.title, "max_row": ws.max_row, "max_column": ws.max_column,
        "freeze": ws.freeze_panes, "filter": ws.auto_filter.ref, "rows": rows})
ro = openpyxl.load_workbook(path, read_only=True)
for ws in ro.worksheets:
    out["readonly"][ws.title] = [len([v for v in r if v is not None]) for r in ws.iter_rows(values_only=True)]
json.dump(out, sys.stdout)
`

type pyCell struct {
	T    string          `json:"t"`
	Py   string          `json:"py"`
	V    json.RawMessage `json:"v"`
	Fmt  string          `json:"fmt"`
	Bold bool            `json:"bold"`
	Fill *string         `json:"fill"`
}

type pyBook struct {
	Props  map[string]*string `json:"props"`
	Sheets []struct {
		Title     string     `json:"title"`
		MaxRow    int        `json:"max_row"`
		MaxColumn int        `json:"max_column"`
		Freeze    *string    `json:"freeze"`
		Filter    *string    `json:"filter"`
		Rows      [][]pyCell `json:"rows"`
	} `json:"sheets"`
	ReadOnly map[string][]int `json:"readonly"`
}

func TestOpenpyxlReadsWorkbook(t *testing.T) {
	py := testtool.Python(t)
	b, _ := writeWorkbook(t, 4)
	path := filepath.Join(t.TempDir(), "pack.xlsx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", openpyxlScript, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openpyxl: %v\n%s", err, stderr.String())
	}
	var book pyBook
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&book); err != nil {
		t.Fatal(err)
	}

	if got := str(book.Props["title"]); got != "Evidence pack" {
		t.Errorf("title %q", got)
	}
	if got := str(book.Props["created"]); !strings.HasPrefix(got, "2025-01-02T03:04:05") {
		t.Errorf("created %q", got)
	}

	if len(book.Sheets) != len(wantSheets) {
		t.Fatalf("%d sheets, want %d", len(book.Sheets), len(wantSheets))
	}
	total := 0
	for i, sh := range book.Sheets {
		if sh.Title != wantSheets[i] {
			t.Errorf("sheet %d is %q, want %q", i, sh.Title, wantSheets[i])
		}
		if str(sh.Freeze) != "A2" {
			t.Errorf("%s: freeze_panes %q, want A2", sh.Title, str(sh.Freeze))
		}
		if len(sh.Rows) != sh.MaxRow {
			t.Errorf("%s: iter_rows gave %d rows, max_row %d", sh.Title, len(sh.Rows), sh.MaxRow)
		}
		for _, h := range sh.Rows[0] {
			if !h.Bold || h.Fill == nil || *h.Fill != "FFD9E1F2" {
				t.Errorf("%s: header cell %s not bold with fill: %+v", sh.Title, h.V, h)
			}
		}
		ro := book.ReadOnly[sh.Title]
		if len(ro) != len(sh.Rows) {
			t.Errorf("%s: read-only mode saw %d rows, normal mode %d", sh.Title, len(ro), len(sh.Rows))
		}
		if i == 0 {
			checkPySummary(t, sh.Rows)
			continue
		}
		wantData := min(testPerPage, testRows-(i-1)*testPerPage)
		if sh.MaxRow != wantData+1 {
			t.Errorf("%s: %d rows, want header + %d", sh.Title, sh.MaxRow, wantData)
		}
		if sh.MaxColumn != len(testTable.Columns) {
			t.Errorf("%s: %d columns", sh.Title, sh.MaxColumn)
		}
		if f := str(sh.Filter); f != "A1:F"+itoa(wantData+1) {
			t.Errorf("%s: auto_filter.ref %q", sh.Title, f)
		}
		for r, row := range sh.Rows[1:] {
			in := dataRow(i-1, r)
			for c, cell := range row {
				checkPyCell(t, sh.Title, in, c, cell, want(in, c))
			}
			total++
		}
	}
	if total != testRows {
		t.Errorf("openpyxl read %d data rows, want %d", total, testRows)
	}
}

func checkPySummary(t *testing.T, rows [][]pyCell) {
	t.Helper()
	if len(rows) != len(summary)+1 {
		t.Fatalf("Summary has %d rows", len(rows))
	}
	for i, p := range summary {
		k, v := rows[i+1][0], rows[i+1][1]
		if k.T != "s" || pyString(k) != p[0] {
			t.Errorf("Summary key %d = %s", i, k.V)
		}
		switch p[1].(type) {
		case string:
			if v.T != "s" || pyString(v) != p[1] {
				t.Errorf("Summary %s = %s (%s), want string", p[0], v.V, v.T)
			}
		case int64:
			if v.Py != "int" {
				t.Errorf("Summary %s is %s, want int", p[0], v.Py)
			}
		case float64:
			if v.Py != "float" {
				t.Errorf("Summary %s is %s, want float", p[0], v.Py)
			}
		case bool:
			if v.Py != "bool" {
				t.Errorf("Summary %s is %s, want bool", p[0], v.Py)
			}
		case time.Time:
			if v.Py != "datetime" {
				t.Errorf("Summary %s is %s, want datetime", p[0], v.Py)
			}
		case nil:
			if v.Py != "NoneType" {
				t.Errorf("Summary %s is %s, want empty", p[0], v.Py)
			}
		}
	}
}

func checkPyCell(t *testing.T, sheet string, row, col int, got pyCell, w cellWant) {
	t.Helper()
	at := sheet + " row " + itoa(row) + " col " + itoa(col)
	switch w.kind {
	case "":
		if got.Py != "NoneType" {
			t.Errorf("%s: %s %s, want empty", at, got.Py, got.V)
		}
	case "s":
		// A formula-looking value must come back as a string, not 'f'.
		if got.T != "s" || got.Py != "str" {
			t.Errorf("%s: data_type %s (%s), want string", at, got.T, got.Py)
		}
		if s := pyString(got); s != w.s {
			t.Errorf("%s: %.50q, want %.50q", at, s, w.s)
		}
	case "n":
		// Spreadsheet numbers are doubles: openpyxl returns int for Int
		// columns and for Float values that happen to be whole.
		wantPy := "float"
		if w.isInt || w.n == math.Trunc(w.n) {
			wantPy = "int"
		}
		var n json.Number
		if err := json.Unmarshal(got.V, &n); err != nil || got.T != "n" || got.Py != wantPy {
			t.Errorf("%s: %s %s (%s), want %s %v", at, got.T, got.V, got.Py, wantPy, w.n)
			return
		}
		if f, _ := n.Float64(); f != w.n {
			t.Errorf("%s: %v, want %v", at, f, w.n)
		}
	case "b":
		if got.T != "b" || got.Py != "bool" || string(got.V) != map[bool]string{true: "true", false: "false"}[w.b] {
			t.Errorf("%s: %s %s (%s), want bool %v", at, got.T, got.V, got.Py, w.b)
		}
	case "d":
		if got.T != "d" || got.Py != "datetime" || got.Fmt != DateTimeFormat {
			t.Errorf("%s: %s %s (%s, %q), want datetime", at, got.T, got.V, got.Py, got.Fmt)
			return
		}
		tm, err := time.Parse("2006-01-02T15:04:05.999999", pyString(got))
		if err != nil {
			t.Errorf("%s: %v", at, err)
			return
		}
		if d := tm.Sub(w.t); d > 500*time.Microsecond || d < -500*time.Microsecond {
			t.Errorf("%s: %v, want %v", at, tm, w.t)
		}
	}
}

func pyString(c pyCell) string {
	var s string
	_ = json.Unmarshal(c.V, &s)
	return s
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func itoa(n int) string { return strconv.Itoa(n) }

// openpyxlLayoutScript prints, per sheet of a workbook, what openpyxl reads
// of its layout and page setup.
const openpyxlLayoutScript = `
import json, sys, openpyxl
from openpyxl.utils import get_column_letter
wb = openpyxl.load_workbook(sys.argv[1])
out = []
for ws in wb.worksheets:
    ps, pr = ws.page_setup, ws.sheet_properties.pageSetUpPr
    cols = []
    for i in range(1, ws.max_column + 1):
        cd = ws.column_dimensions[get_column_letter(i)]
        c2 = ws.cell(row=2, column=i)
        cols.append({"header": ws.cell(row=1, column=i).value, "width": cd.width,
                     "wrap": bool(c2.alignment and c2.alignment.wrap_text), "fmt": c2.number_format,
                     "empty": c2.value is None})
    heights = {str(r): d.height for r, d in ws.row_dimensions.items() if d.height}
    out.append({"title": ws.title, "orientation": ps.orientation, "fitToWidth": ps.fitToWidth,
        "fitToHeight": ps.fitToHeight, "fitToPage": bool(pr and pr.fitToPage),
        "printTitleRows": ws.print_title_rows, "footer": [ws.oddFooter.left.text, ws.oddFooter.right.text],
        "header": [ws.oddHeader.left.text, ws.oddHeader.right.text], "cols": cols, "heights": heights,
        "kv": [[r[0].value, r[1].value, r[1].number_format] for r in ws.iter_rows(min_row=2)] if ws.max_column == 2 else []})
json.dump(out, sys.stdout, default=str)
`

type pyLayout struct {
	Title          string   `json:"title"`
	Orientation    string   `json:"orientation"`
	FitToWidth     *int     `json:"fitToWidth"`
	FitToHeight    *int     `json:"fitToHeight"`
	FitToPage      bool     `json:"fitToPage"`
	PrintTitleRows *string  `json:"printTitleRows"`
	Footer         []string `json:"footer"`
	Header         []string `json:"header"`
	Cols           []struct {
		Header string  `json:"header"`
		Width  float64 `json:"width"`
		Wrap   bool    `json:"wrap"`
		Fmt    string  `json:"fmt"`
		Empty  bool    `json:"empty"`
	} `json:"cols"`
	Heights map[string]float64 `json:"heights"`
	KV      [][]any            `json:"kv"`
}

// TestOpenpyxlReadsLayout reads the framework workbook's layout with
// openpyxl: every sheet prints landscape, one page wide, its header row on
// every page, a footer with the pack id and the page; a data sheet shows
// its columns in sheet order, text columns as wide as the sample needs up
// to their cap, wrapped ones wrapped in rows tall enough; the compliance
// percentage is a number in a percent format.
func TestOpenpyxlReadsLayout(t *testing.T) {
	py := testtool.Python(t)
	path := filepath.Join(t.TempDir(), "evidence.xlsx")
	if err := os.WriteFile(path, writeFrameworkWorkbook(t, ""), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", openpyxlLayoutScript, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openpyxl: %v\n%s", err, stderr.String())
	}
	var sheets []pyLayout
	if err := json.Unmarshal(out, &sheets); err != nil {
		t.Fatal(err)
	}
	if len(sheets) != 1+len(printTables) {
		t.Fatalf("%d sheets", len(sheets))
	}
	for i, sh := range sheets {
		t.Run(sh.Title, func(t *testing.T) {
			if sh.Orientation != "landscape" || sh.FitToWidth == nil || *sh.FitToWidth != 1 || sh.FitToHeight == nil || *sh.FitToHeight != 0 || !sh.FitToPage {
				t.Errorf("page setup %s, fit %v×%v (fitToPage %v): want landscape, 1 page wide, any number tall", sh.Orientation, ip(sh.FitToWidth), ip(sh.FitToHeight), sh.FitToPage)
			}
			if str(sh.PrintTitleRows) != "$1:$1" {
				t.Errorf("print title rows %q, want $1:$1", str(sh.PrintTitleRows))
			}
			if sh.Footer[0] != "Pack "+printPackID || sh.Footer[1] != "Page &P of &N" || sh.Header[0] != "&A" {
				t.Errorf("header %q, footer %q", sh.Header, sh.Footer)
			}
			if i == 0 {
				checkPySummaryLayout(t, sh)
				return
			}
			tb := printTables[i-1].table
			headers := sheetHeaders(tb)
			if len(sh.Cols) != len(headers) {
				t.Fatalf("%d columns, want %d", len(sh.Cols), len(headers))
			}
			wrapped := false
			for j, c := range sh.Cols {
				col := tb.Columns[tb.SheetOrder()[j]]
				if c.Header != headers[j] {
					t.Errorf("column %d headed %q, want %q", j+1, c.Header, headers[j])
				}
				if !c.Empty && c.Wrap != col.Wrap {
					t.Errorf("column %q wraps: %v, want %v", c.Header, c.Wrap, col.Wrap)
				}
				wrapped = wrapped || col.Wrap
				limit := maxWidth
				if col.Kind == dataset.String {
					limit = maxKeyWrapWidth
				}
				if c.Width < minWidth || c.Width > limit {
					t.Errorf("column %q width %v, want %v to %v", c.Header, c.Width, minWidth, limit)
				}
				if col.Kind == dataset.Time && c.Fmt != DateTimeFormat {
					t.Errorf("column %q format %q, want %q", c.Header, c.Fmt, DateTimeFormat)
				}
			}
			// Widths come from the content: a column of short values is
			// narrower than one of long ones.
			width := map[string]float64{}
			for _, c := range sh.Cols {
				width[c.Header] = c.Width
			}
			if width["Tenant"] >= width["Control"] || width["Control"] > maxKeyTextWidth || width["Control"] < float64(len("lacework-global-40")) {
				t.Errorf("widths %v: want Tenant (acme) narrower than Control (lacework-global-NN), Control fitting its ids", width)
			}
			if wrapped && len(sh.Heights) < 2 {
				t.Errorf("row heights %v: want the header and wrapped rows taller than one line", sh.Heights)
			}
		})
	}
}

func checkPySummaryLayout(t *testing.T, sh pyLayout) {
	t.Helper()
	var found bool
	for _, kv := range sh.KV {
		key, _ := kv[0].(string)
		if !strings.HasPrefix(key, "Compliance %") {
			continue
		}
		found = true
		if v, ok := kv[1].(float64); !ok || v != 0.8125 || kv[2] != PercentFormat {
			t.Errorf("%s = %v (%T) in format %v, want the number 0.8125 in %q", key, kv[1], kv[1], kv[2], PercentFormat)
		}
	}
	if !found {
		t.Errorf("no compliance percentage in %v", sh.KV)
	}
	if w := sh.Cols[0].Width; w < 20 || w > maxKeyWrapWidth {
		t.Errorf("key column width %v", w)
	}
}

func ip(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}
