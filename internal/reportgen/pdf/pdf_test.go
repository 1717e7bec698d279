package pdf

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/reportgen"
	"github.com/evidence-pack/evidence/internal/testtool"
)

func sample(t *testing.T, rows int) []byte {
	t.Helper()
	d, err := New(Options{Title: "Evidence", Created: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), Footer: "pack 20261121T000000Z-abc123"})
	if err != nil {
		t.Fatal(err)
	}
	d.Cover("Compliance evidence — CIS AWS 1.4", "acme · 2026-11-21", [][2]string{{"Tenant", "acme"}, {"Account", "Café résumé — مرحبا بالعالم — Ελληνικά"}})
	d.Heading("Summary", 1)
	d.Notice("2 units failed", true)
	d.Paragraph(strings.Repeat("A long paragraph that must wrap rather than be cut. ", 30))
	d.BarChart("Failed controls by severity", []Bar{{"Critical", 5, [3]int{200, 0, 0}}, {"High", 12, [3]int{230, 120, 0}}, {"Info", 0, [3]int{100, 100, 100}}})
	d.Heading("Controls", 2)
	var body [][]string
	for i := range rows {
		body = append(body, []string{fmt.Sprintf("REC-%04d", i), strings.Repeat("wrapped title ", i%7+1), "High", "NonCompliant"})
	}
	d.Table([]Column{{Title: "Control", Width: 1}, {Title: "Title", Width: 3}, {Title: "Severity", Width: 1}, {Title: "Status", Width: 1.2}}, body)
	var buf bytes.Buffer
	if _, err := d.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// poppler runs a poppler-utils tool (pdftotext, pdftoppm) on the PDF b with
// args before the file name and returns its standard output. A missing tool
// fails the test in CI and skips it, loudly, elsewhere.
func poppler(t *testing.T, tool string, b []byte, args ...string) []byte {
	t.Helper()
	bin := testtool.Poppler(t, tool)
	p := filepath.Join(t.TempDir(), "x.pdf")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	args = append(args, p)
	if tool == "pdftotext" {
		args = append(args, "-") // to standard output, as pdftoppm does by itself
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v: %s", tool, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

func pdftotext(t *testing.T, b []byte) string {
	t.Helper()
	return string(poppler(t, "pdftotext", b, "-layout"))
}

func TestPDFTextSurvives(t *testing.T) {
	b := sample(t, 120)
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatal("not a PDF")
	}
	text := pdftotext(t, b)
	for _, want := range []string{"Café résumé", "Ελληνικά", "page 1 of", "REC-0000", "REC-0119", "must wrap rather than be cut", "Critical"} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext output lacks %q", want)
		}
	}
	// The header row repeats on every page the table spans.
	pages := strings.Split(text, "\f")
	if len(pages) < 3 {
		t.Fatalf("only %d pages", len(pages))
	}
	n := len(pages) - 1 // pdftotext ends with a form feed
	if !strings.Contains(text, fmt.Sprintf("page %d of %d", n, n)) {
		t.Errorf("no 'page %d of %d' footer", n, n)
	}
	headers := strings.Count(text, "Severity")
	if headers < n-1 {
		t.Errorf("table header appears %d times over %d pages", headers, n)
	}
}

func TestPDFDeterministic(t *testing.T) {
	a, b := sample(t, 10), sample(t, 10)
	if !bytes.Equal(a, b) {
		t.Fatal("same input gave different bytes")
	}
}

// A table whose rows carry details spans pages: every page it reaches
// starts with the header, every row and detail is there in order, and a
// detail longer than a page goes on under the repeated header. Started on
// a landscape page, its page breaks stay landscape, and Page returns to
// portrait.
func TestTableRowsDetails(t *testing.T) {
	d, err := New(Options{Title: "Details", Created: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), Footer: "pack x"})
	if err != nil {
		t.Fatal(err)
	}
	d.Paragraph("A portrait page first.")
	d.Landscape()
	d.Heading("Appendix", 1)
	var rows []Row
	for i := range 60 {
		r := Row{Cells: []string{fmt.Sprintf("CTL-%03d", i), "A control title " + strings.Repeat("long ", i%5), "NonCompliant"}}
		if i%3 == 0 {
			r.Detail = fmt.Sprintf("CTL-%03d failing resources: %s", i, strings.Repeat(fmt.Sprintf("arn:aws:s3:::bucket-%03d ", i), 3))
		}
		if i == 40 {
			r.Detail = "CTL-040 failing resources: " + strings.Repeat("arn:aws:iam::123456789012:role/a-very-long-role-name ", 150) + "END-OF-DETAIL"
		}
		rows = append(rows, r)
	}
	d.TableRows([]Column{{Title: "Control id", Width: 1}, {Title: "Title", Width: 3}, {Title: "Status", Width: 1}}, rows)
	d.Page()
	d.Paragraph("A portrait page last.")
	var buf bytes.Buffer
	if _, err := d.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	text := string(poppler(t, "pdftotext", buf.Bytes()))
	pages := strings.Split(strings.TrimSuffix(text, "\f"), "\f")
	if len(pages) < 5 {
		t.Fatalf("%d pages, want the table to span at least 3 between two portrait pages", len(pages))
	}
	info := string(poppler(t, "pdfinfo", buf.Bytes(), "-f", "1", "-l", fmt.Sprint(len(pages))))
	for i, p := range pages {
		landscape := i > 0 && i < len(pages)-1
		want := map[bool]string{false: "595.28 x 841.89 pts", true: "841.89 x 595.28 pts"}[landscape]
		if !strings.Contains(strings.Join(strings.Fields(info), " "), fmt.Sprintf("Page %d size: %s", i+1, want)) {
			t.Errorf("page %d is not %s:\n%s", i+1, want, info)
		}
		if landscape && !strings.Contains(p, "Control id") {
			t.Errorf("page %d has no table header", i+1)
		}
		if landscape && !strings.Contains(p, fmt.Sprintf("page %d of %d", i+1, len(pages))) {
			t.Errorf("page %d has no footer", i+1)
		}
	}
	last := -1
	for i := range 60 {
		at := strings.Index(text, fmt.Sprintf("CTL-%03d", i))
		if at < last {
			t.Errorf("CTL-%03d missing or out of order", i)
		}
		last = max(last, at)
	}
	for _, want := range []string{"CTL-057 failing resources: arn:aws:s3:::bucket-057", "END-OF-DETAIL"} {
		if !strings.Contains(strings.Join(strings.Fields(text), " "), want) {
			t.Errorf("text lacks %q", want)
		}
	}
}

// Every page is on the document's paper, portrait or landscape as asked,
// through page breaks: A4 unless Options.Paper says Letter.
func TestPaper(t *testing.T) {
	for _, tc := range []struct {
		paper reportgen.Paper
		name  string // pdfinfo's name of the page size
	}{
		{"", "A4"},
		{reportgen.A4, "A4"},
		{reportgen.Letter, "letter"},
	} {
		t.Run(tc.paper.Title()+"/"+string(tc.paper), func(t *testing.T) {
			d, err := New(Options{Title: "Paper", Paper: tc.paper})
			if err != nil {
				t.Fatal(err)
			}
			d.Cover("Paper", "", nil)
			d.Landscape()
			rows := make([][]string, 120) // three landscape pages
			for i := range rows {
				rows[i] = []string{fmt.Sprint(i), "row"}
			}
			d.Table([]Column{{Title: "N", Width: 1}, {Title: "Text", Width: 4}}, rows)
			d.Page()
			d.Paragraph("portrait again")
			var buf bytes.Buffer
			if _, err := d.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			info := string(poppler(t, "pdfinfo", buf.Bytes(), "-f", "1", "-l", "100"))
			var got []string
			for _, line := range strings.Split(info, "\n") {
				_, size, ok := strings.Cut(line, "size:")
				if !ok || !strings.HasPrefix(line, "Page") {
					continue
				}
				var w, h float64
				if _, err := fmt.Sscanf(strings.TrimSpace(size), "%g x %g", &w, &h); err != nil {
					t.Fatalf("pdfinfo: %q", line)
				}
				o := "P"
				if w > h {
					o = "L"
				}
				if !strings.Contains(size, "("+tc.name+")") {
					t.Errorf("%s: want %s", strings.TrimSpace(line), tc.name)
				}
				got = append(got, o)
			}
			if g := strings.Join(got, ""); len(got) < 4 || g != "P"+strings.Repeat("L", len(got)-2)+"P" {
				t.Errorf("page orientations %s: want portrait, landscape pages, portrait", g)
			}
		})
	}
}

// A row with a detail stays with the detail's first lines, whatever line
// of the page it falls on: as filler rows push it down the page line by
// line, the page that shows the row shows the start of its detail too,
// and a detail that goes on on the next page goes on under the repeated
// header and "TARGET-7 (continued)". Some of the cases split the detail,
// some move the row: the row lands at the foot of a page.
func TestDetailKeptWithRow(t *testing.T) {
	cols := []Column{{Title: "Control", Width: 1}, {Title: "Title", Width: 3}, {Title: "Status", Width: 1}}
	var resources []string
	for i := range 40 {
		resources = append(resources, fmt.Sprintf("acct-%d: arn:aws:s3:::bucket-%04d, eu-west-1", i, i))
	}
	detail := "TARGET-7, resources in violation: " + strings.Join(resources, "; ") + "; DETAIL-END"
	split, moved := 0, 0
	for filler := 40; filler < 60; filler++ {
		d, err := New(Options{Title: "Keep"})
		if err != nil {
			t.Fatal(err)
		}
		d.Landscape()
		var rows []Row
		for i := range filler {
			rows = append(rows, Row{Cells: []string{fmt.Sprintf("FILL-%d", i), "a control that passes", "Compliant"}})
		}
		rows = append(rows, Row{Cells: []string{"TARGET-7", "a control that fails", "NonCompliant"}, Detail: detail},
			Row{Cells: []string{"AFTER-8", "the next control", "Compliant"}})
		d.TableRows(cols, rows)
		var buf bytes.Buffer
		if _, err := d.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		pages := strings.Split(string(poppler(t, "pdftotext", buf.Bytes(), "-layout")), "\f")
		row, start, end := -1, -1, -1
		for i, p := range pages {
			if regexp.MustCompile(`(?m)^\s*TARGET-7\s+a control that fails`).MatchString(p) {
				row = i
			}
			if strings.Contains(p, "TARGET-7, resources in violation") {
				start = i
			}
			if strings.Contains(p, "DETAIL-END") {
				end = i
			}
		}
		if row < 0 || row != start {
			t.Errorf("%d filler rows: the row is on page %d, its detail starts on page %d", filler, row+1, start+1)
			continue
		}
		if !strings.Contains(pages[start], "acct-0: arn:aws:s3:::bucket-0000") {
			t.Errorf("%d filler rows: page %d has the row but not its first resource:\n%s", filler, row+1, pages[row])
		}
		if row > 0 && strings.Contains(pages[row-1], "FILL-"+fmt.Sprint(filler-1)) && !strings.Contains(pages[row], "FILL-") {
			moved++
		}
		for i := start + 1; i <= end; i++ {
			split++
			if !strings.Contains(pages[i], "TARGET-7 (continued)") || !regexp.MustCompile(`Control\s+Title\s+Status`).MatchString(pages[i]) {
				t.Errorf("%d filler rows: page %d goes on with the detail without the header and \"TARGET-7 (continued)\":\n%s", filler, i+1, pages[i])
			}
		}
		if end < start {
			t.Errorf("%d filler rows: the detail's end is on page %d, before its start on page %d", filler, end+1, start+1)
		}
	}
	if split == 0 || moved == 0 {
		t.Errorf("%d cases split the detail, %d moved the row to the next page: want both", split, moved)
	}
}
