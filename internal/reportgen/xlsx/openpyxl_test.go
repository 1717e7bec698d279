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
