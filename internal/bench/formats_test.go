// Package bench measures the pack's writers against the raw libraries they
// are built on, on the same rows in the same run: what our layer costs on
// top of excelize, parquet-go, fpdf and encoding/json.
//
//	go test -run '^$' -bench . -benchtime 1x ./internal/bench -rows 500000
package bench

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/xuri/excelize/v2"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/reportgen/parquet"
	"github.com/evidence-pack/evidence/internal/reportgen/xlsx"
)

var rowsFlag = flag.Int("rows", 100_000, "rows each format writes")

const batch = 1000

var at = time.Date(2026, 11, 20, 3, 4, 5, 0, time.UTC)

// evaluation is row i of the evaluations table, with the shape of real
// data: ARNs, repeated accounts and controls, a few long reasons.
func evaluation(i int) dataset.Evaluation {
	return dataset.Evaluation{Dataset: "AwsCompliance", AccountID: fmt.Sprintf("%012d", 100000000000+i%40), AccountAlias: "prod-" + strconv.Itoa(i%40),
		ReportTime: at.Add(time.Duration(i) * time.Second), ControlID: "lacework-global-" + strconv.Itoa(i%300),
		Recommendation: "Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket", Section: "Logging",
		Severity: []string{"Critical", "High", "Medium", "Low", "Info"}[i%5], Status: []string{"Compliant", "NonCompliant"}[i%2],
		Resource: "arn:aws:s3:::bucket-" + strconv.Itoa(i), Reason: "Access logging is disabled on the bucket", EvalType: "Cis"}
}

func batchOf(start int) []dataset.Row {
	sc := dataset.Scope{Source: "lacework", Tenant: "acme", SubAccount: "prod"}
	rows := make([]dataset.Row, batch)
	for i := range rows {
		rows[i] = evaluation(start + i).Row(sc)
	}
	return rows
}

// batches are built once, outside the timings: every writer gets the same.
func batches(n int) [][]dataset.Row {
	var out [][]dataset.Row
	for i := 0; i < n; i += batch {
		out = append(out, batchOf(i))
	}
	return out
}

type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func report(b *testing.B, n int, size int64) {
	rate := float64(n) * float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "rows/s")
	b.ReportMetric(float64(size), "file-bytes")
	_, name, _ := strings.Cut(b.Name(), "/")
	results.formats = append(results.formats, fmt.Sprintf("| %s | %d | %.0f | %d |", name, n, rate, size))
	switch name {
	case "xlsx=excelize-raw":
		results.rawXLSX = rate
	case "xlsx=evidence":
		results.ourXLSX = rate
	}
}

func BenchmarkFormats(b *testing.B) {
	n := *rowsFlag
	data := batches(n)
	table := dataset.EvaluationsTable()

	b.Run("xlsx=evidence", func(b *testing.B) {
		var size int64
		for b.Loop() {
			c := &counter{}
			wb := xlsx.NewWorkbook(c, xlsx.Options{Created: at})
			s, err := wb.Begin(table)
			if err != nil {
				b.Fatal(err)
			}
			for _, rows := range data {
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
			size = c.n
		}
		report(b, n, size)
	})
	b.Run("xlsx=excelize-raw", func(b *testing.B) {
		var size int64
		for b.Loop() {
			size = rawExcelize(b, table, data)
		}
		report(b, n, size)
	})
	b.Run("parquet=evidence", func(b *testing.B) {
		var size int64
		for b.Loop() {
			c := &counter{}
			s, err := parquet.New(parquet.Options{}).Begin(c, table)
			if err != nil {
				b.Fatal(err)
			}
			for _, rows := range data {
				if err := s.Write(rows); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			size = c.n
		}
		report(b, n, size)
	})
	b.Run("parquet=parquet-go-raw", func(b *testing.B) {
		var size int64
		for b.Loop() {
			size = rawParquet(b, n)
		}
		report(b, n, size)
	})
	b.Run("pdf=fpdf-raw", func(b *testing.B) {
		var size int64
		for b.Loop() {
			size = rawPDF(b, data)
		}
		report(b, n, size)
	})
	b.Run("json=decode-raw", func(b *testing.B) {
		// The API's pages of 5,000 rows, decoded as the collector does.
		var pages [][]byte
		for i := 0; i < n; i += 5000 {
			var page struct{ Data []dataset.Evaluation }
			for j := i; j < min(i+5000, n); j++ {
				page.Data = append(page.Data, evaluation(j))
			}
			p, err := json.Marshal(page)
			if err != nil {
				b.Fatal(err)
			}
			pages = append(pages, p)
		}
		var size int64
		for b.Loop() {
			size = 0
			for _, p := range pages {
				var page struct{ Data []dataset.Evaluation }
				if err := json.NewDecoder(bytes.NewReader(p)).Decode(&page); err != nil {
					b.Fatal(err)
				}
				size += int64(len(p))
			}
		}
		report(b, n, size)
	})
}

// rawExcelize writes the rows with excelize's StreamWriter alone: typed
// cells, no styles, no safety rules.
func rawExcelize(b *testing.B, t dataset.Table, data [][]dataset.Row) int64 {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	header := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = c.Name
	}
	if err := sw.SetRow("A1", header); err != nil {
		b.Fatal(err)
	}
	r := 2
	cells := make([]any, len(t.Columns))
	for _, rows := range data {
		for _, row := range rows {
			copy(cells, row)
			cell, _ := excelize.CoordinatesToCellName(1, r)
			if err := sw.SetRow(cell, cells); err != nil {
				b.Fatal(err)
			}
			r++
		}
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	c := &counter{}
	if _, err := f.WriteTo(c); err != nil {
		b.Fatal(err)
	}
	return c.n
}

// pqRow is the evaluations table as a parquet-go struct.
type pqRow struct {
	Source         string    `parquet:"source,dict"`
	Tenant         string    `parquet:"tenant,dict"`
	SubAccount     string    `parquet:"sub_account,dict"`
	Dataset        string    `parquet:"dataset,dict"`
	AccountID      string    `parquet:"account_id,optional"`
	AccountAlias   string    `parquet:"account_alias,optional"`
	ReportTime     time.Time `parquet:"report_time,optional,timestamp(millisecond)"`
	ControlID      string    `parquet:"control_id,optional"`
	Recommendation string    `parquet:"recommendation,optional"`
	Section        string    `parquet:"section,optional"`
	Severity       string    `parquet:"severity,optional"`
	Status         string    `parquet:"status,optional"`
	Resource       string    `parquet:"resource,optional"`
	Reason         string    `parquet:"reason,optional"`
	EvalType       string    `parquet:"eval_type,optional"`
}

// rawParquet writes the rows with parquet-go's generic writer alone, zstd.
func rawParquet(b *testing.B, n int) int64 {
	c := &counter{}
	w := pq.NewGenericWriter[pqRow](c, pq.Compression(&zstd.Codec{}))
	rows := make([]pqRow, 0, batch)
	for i := 0; i < n; i++ {
		e := evaluation(i)
		rows = append(rows, pqRow{"lacework", "acme", "prod", e.Dataset, e.AccountID, e.AccountAlias, e.ReportTime, e.ControlID,
			e.Recommendation, e.Section, e.Severity, e.Status, e.Resource, e.Reason, e.EvalType})
		if len(rows) == batch {
			if _, err := w.Write(rows); err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
	}
	if _, err := w.Write(rows); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return c.n
}

// rawPDF sets the rows as a table with fpdf's core font: the floor of
// drawing text, which a pack's PDFs never do per row (they hold summaries).
func rawPDF(b *testing.B, data [][]dataset.Row) int64 {
	f := fpdf.New("L", "mm", "A4", "")
	f.SetFont("Helvetica", "", 6)
	f.AddPage()
	for _, rows := range data {
		for _, row := range rows {
			if f.GetY() > 190 {
				f.AddPage()
			}
			for _, i := range []int{4, 7, 10, 11, 12} {
				s, _ := row[i].(string)
				f.CellFormat(55, 3.5, s, "", 0, "L", false, 0, "")
			}
			f.Ln(-1)
		}
	}
	c := &counter{}
	if err := f.Output(c); err != nil {
		b.Fatal(err)
	}
	return c.n
}
