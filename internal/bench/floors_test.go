package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
	"github.com/xuri/excelize/v2"

	"github.com/evidence-pack/evidence/internal/collect/lacework"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/reportgen/parquet"
)

// The floors of an end-to-end run: what the libraries it is built on must
// spend, at the least, on the very rows and bytes of that run, measured in
// CPU-seconds in the same benchmark, right after it. On a shared machine
// the CPU time of a run varies by tens of percent from one run to the next;
// a ratio of two CPU times measured minutes apart varies less, and the
// median of three such ratios less again.
//
//   - json: encoding/json decoding every data page the emulator served to
//     the run (teed to disk as it served them) with one json.Unmarshal per
//     page into the row types the client decodes (lacework.Evaluation,
//     Resource, AuditLog);
//   - xlsx: excelize's StreamWriter writing every row of the run's tables
//     that go into workbooks (all but drift), read back from the pack's
//     Parquet files, as typed cells (a date style made once), a sheet per
//     Parquet file, a workbook per table, zipped by excelize;
//   - parquet: parquet-go writing the same rows, in the files' own schemas,
//     with zstd (klauspost's encoder, kept across collections as our writer
//     keeps it: parquet-go's own pool is emptied by the collections this
//     benchmark forces) and the row groups of our writer.
//
// Reading the rows back is not measured: each floor reads a chunk, then
// measures the library's work on it (getrusage of this process before and
// after, a collection run before each so that the reading's garbage is not
// charged to the library). The emulator sits idle in this process while
// the floors run.

// floor is one floor's cost on one run.
type floor struct {
	Name      string
	CPU, Wall time.Duration
	Rows      int64
}

// cpuNow is this process's user and system CPU time so far.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure adds f's CPU and wall time to fl.
func (fl *floor) measure(f func() error) error {
	runtime.GC()
	c0, t0 := cpuNow(), time.Now()
	err := f()
	fl.CPU += cpuNow() - c0
	fl.Wall += time.Since(t0)
	return err
}

// pageKind is a data endpoint (and its next pages) and how to decode it.
type pageKind struct {
	prefix string
	decode func([]byte) (int, error)
}

// pageKinds are the endpoints whose answers the run decodes row by row:
// the searches, the audit log, and the reports as JSON.
var pageKinds = []pageKind{
	{lacework.PathEvaluations, decodePage[lacework.Evaluation]},
	{lacework.PathInventory, decodePage[lacework.Resource]},
	{lacework.PathAuditLogs, decodePage[lacework.AuditLog]},
	{lacework.PathReports, decodeReport},
}

// decodeReport decodes a report document: its headers and its
// recommendations with their violations.
func decodeReport(b []byte) (int, error) {
	var doc struct {
		Data []struct {
			lacework.ReportHeader
			Recommendations []lacework.Recommendation `json:"recommendations"`
		} `json:"data"`
	}
	err := json.Unmarshal(b, &doc)
	n := 0
	for _, d := range doc.Data {
		n += len(d.Recommendations)
	}
	return n, err
}

func decodePage[T any](b []byte) (int, error) {
	var p struct {
		Paging *lacework.Paging `json:"paging"`
		Data   []T              `json:"data"`
	}
	err := json.Unmarshal(b, &p)
	return len(p.Data), err
}

// teePages returns a wrapper of the emulator that also writes each data
// page it serves with 200 into dir, named by its order and kind.
func teePages(dir string) func(http.Handler) http.Handler {
	var n atomic.Int64
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			kind := slices.IndexFunc(pageKinds, func(k pageKind) bool { return strings.HasPrefix(r.URL.Path, k.prefix) })
			if kind < 0 || r.URL.Query().Get("format") == "pdf" {
				h.ServeHTTP(w, r)
				return
			}
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%06d-%d.json", n.Add(1), kind)))
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			t := &teeWriter{ResponseWriter: w, f: f, code: http.StatusOK}
			h.ServeHTTP(t, r)
			f.Close()
			if t.code != http.StatusOK {
				os.Remove(f.Name())
			}
		})
	}
}

type teeWriter struct {
	http.ResponseWriter
	f    *os.File
	code int
}

func (t *teeWriter) WriteHeader(code int) { t.code = code; t.ResponseWriter.WriteHeader(code) }
func (t *teeWriter) Write(p []byte) (int, error) {
	t.f.Write(p)
	return t.ResponseWriter.Write(p)
}

// jsonFloor decodes the teed pages.
func jsonFloor(pages string) (floor, error) {
	fl := floor{Name: "json"}
	names, err := filepath.Glob(filepath.Join(pages, "*.json"))
	if err != nil {
		return fl, err
	}
	sort.Strings(names)
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return fl, err
		}
		kind, _ := strconv.Atoi(strings.TrimSuffix(name[strings.LastIndexByte(name, '-')+1:], ".json"))
		var rows int
		if err := fl.measure(func() (err error) { rows, err = pageKinds[kind].decode(b); return err }); err != nil {
			return fl, fmt.Errorf("%s: %w", name, err)
		}
		fl.Rows += int64(rows)
	}
	return fl, nil
}

// floorChunk is how many rows a floor reads back before measuring their
// writing: bounded, so the benchmark's memory is too.
const floorChunk = 50_000

// packTables lists the pack's Parquet files by table, in path order.
func packTables(pack string) (map[string][]string, error) {
	tables := map[string][]string{}
	err := filepath.WalkDir(filepath.Join(pack, "parquet"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, parquet.Ext) {
			rel, _ := filepath.Rel(filepath.Join(pack, "parquet"), p)
			t, _, _ := strings.Cut(rel, string(filepath.Separator))
			tables[t] = append(tables[t], p)
		}
		return err
	})
	return tables, err
}

// readChunks opens a Parquet file and calls each with its rows, at most
// floorChunk at a time (copies: parquet-go reuses its buffers).
func readChunks(path string, each func(schema *pq.Schema, rows []pq.Row) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := pq.OpenFile(f, st.Size())
	if err != nil {
		return err
	}
	for _, rg := range pf.RowGroups() {
		rr := rg.Rows()
		buf := make([]pq.Row, 1000)
		var chunk []pq.Row
		for {
			n, err := rr.ReadRows(buf)
			for _, r := range buf[:n] {
				chunk = append(chunk, r.Clone())
			}
			if len(chunk) >= floorChunk || err != nil && len(chunk) > 0 {
				if cerr := each(pf.Schema(), chunk); cerr != nil {
					rr.Close()
					return cerr
				}
				chunk = nil
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				rr.Close()
				return err
			}
		}
		rr.Close()
	}
	return nil
}

// parquetFloor writes every Parquet file of the pack again with parquet-go
// alone: its schema, zstd, row groups of parquet.DefaultRowGroupRows.
func parquetFloor(pack string) (floor, error) {
	fl := floor{Name: "parquet"}
	tables, err := packTables(pack)
	if err != nil {
		return fl, err
	}
	for _, files := range tables {
		for _, p := range files {
			c := &counter{}
			var w *pq.GenericWriter[any]
			inRG := 0
			err := readChunks(p, func(schema *pq.Schema, rows []pq.Row) error {
				return fl.measure(func() error {
					if w == nil {
						w = pq.NewGenericWriter[any](c, schema, pq.Compression(parquet.Zstd), pq.MaxRowsPerRowGroup(parquet.DefaultRowGroupRows))
					}
					for len(rows) > 0 {
						n := min(len(rows), parquet.DefaultRowGroupRows-inRG)
						if _, err := w.WriteRows(rows[:n]); err != nil {
							return err
						}
						rows, inRG = rows[n:], inRG+n
						if inRG == parquet.DefaultRowGroupRows {
							if err := w.Flush(); err != nil {
								return err
							}
							inRG = 0
						}
						fl.Rows += int64(n)
					}
					return nil
				})
			})
			if err == nil && w != nil {
				err = fl.measure(w.Close)
			}
			if err != nil {
				return fl, fmt.Errorf("%s: %w", p, err)
			}
		}
	}
	return fl, nil
}

// xlsxFloor writes the rows of every table that has sheets in the pack
// (all but drift) with excelize's StreamWriter alone: a workbook per table,
// a sheet per Parquet file, a header row, typed cells.
func xlsxFloor(pack string) (floor, error) {
	fl := floor{Name: "xlsx"}
	tables, err := packTables(pack)
	if err != nil {
		return fl, err
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for t := range tables {
			if t != dataset.Drift && !yield(t) {
				return
			}
		}
	})
	for _, t := range names {
		f := excelize.NewFile()
		var date int
		if err := fl.measure(func() (err error) {
			date, err = f.NewStyle(&excelize.Style{NumFmt: 22})
			return err
		}); err != nil {
			return fl, err
		}
		for i, p := range tables[t] {
			var sw *excelize.StreamWriter
			r := 1
			var cells [][]any
			err := readChunks(p, func(schema *pq.Schema, rows []pq.Row) error {
				cells = toCells(schema, rows, date, cells[:0])
				return fl.measure(func() error {
					if sw == nil {
						sheet := "Sheet1"
						if i > 0 {
							sheet = "Sheet" + strconv.Itoa(i+1)
							if _, err := f.NewSheet(sheet); err != nil {
								return err
							}
						}
						var err error
						if sw, err = f.NewStreamWriter(sheet); err != nil {
							return err
						}
						header := make([]any, len(schema.Fields()))
						for j, c := range schema.Fields() {
							header[j] = c.Name()
						}
						if err := sw.SetRow("A1", header); err != nil {
							return err
						}
					}
					for _, row := range cells {
						r++
						if err := sw.SetRow("A"+strconv.Itoa(r), row); err != nil {
							return err
						}
					}
					fl.Rows += int64(len(cells))
					return nil
				})
			})
			if err == nil && sw != nil {
				err = fl.measure(sw.Flush)
			}
			if err != nil {
				f.Close()
				return fl, fmt.Errorf("%s: %w", p, err)
			}
		}
		c := &counter{}
		err := fl.measure(func() error { _, err := f.WriteTo(c); return err })
		f.Close()
		if err != nil {
			return fl, fmt.Errorf("%s workbook: %w", t, err)
		}
	}
	return fl, nil
}

// toCells turns Parquet rows into the values of a row of cells: nil for
// null, strings, numbers, booleans, and times (timestamp columns) with the
// date style.
func toCells(schema *pq.Schema, rows []pq.Row, date int, out [][]any) [][]any {
	fields := schema.Fields()
	isTime := make([]bool, len(fields))
	for j, f := range fields {
		if lt := f.Type().LogicalType(); lt != nil {
			_, isTime[j] = lt.Value.(*format.TimestampType)
		}
	}
	for _, r := range rows {
		row := make([]any, len(fields))
		for _, v := range r {
			j := v.Column()
			switch {
			case v.IsNull():
			case isTime[j]:
				row[j] = excelize.Cell{StyleID: date, Value: time.UnixMilli(v.Int64()).UTC()}
			case v.Kind() == pq.ByteArray:
				row[j] = string(v.ByteArray())
			case v.Kind() == pq.Int64:
				row[j] = v.Int64()
			case v.Kind() == pq.Double:
				row[j] = v.Double()
			case v.Kind() == pq.Boolean:
				row[j] = v.Boolean()
			}
		}
		out = append(out, row)
	}
	return out
}

// runFloors measures the three floors of the run whose pack is in pack and
// whose pages were teed into pages.
func runFloors(pack, pages string) ([]floor, error) {
	var out []floor
	for _, f := range []func() (floor, error){
		func() (floor, error) { return jsonFloor(pages) },
		func() (floor, error) { return xlsxFloor(pack) },
		func() (floor, error) { return parquetFloor(pack) },
	} {
		fl, err := f()
		if err != nil {
			return nil, fmt.Errorf("%s floor: %w", fl.Name, err)
		}
		out = append(out, fl)
	}
	return out, nil
}

// median is the middle value of xs (the mean of the two middle ones).
func median[T ~int64 | ~float64](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// cpuRatio is the run's CPU time over its floors'; wallRatio its wall time
// over its slowest floor's.
func (r runResult) cpuRatio() float64 { return r.CPU.Seconds() / r.floorCPU().Seconds() }
func (r runResult) wallRatio() float64 {
	return r.Wall.Seconds() / r.slowest().Wall.Seconds()
}

// medianRun is runs as one: each time (the run's, each floor's) and peak
// RSS the median of the runs'; the rest the first run's (the same input,
// the same pack).
func medianRun(runs []runResult) runResult {
	m := runs[0]
	pick := func(f func(runResult) time.Duration) time.Duration {
		xs := make([]time.Duration, len(runs))
		for i, r := range runs {
			xs[i] = f(r)
		}
		return median(xs)
	}
	m.CPU = pick(func(r runResult) time.Duration { return r.CPU })
	m.Wall = pick(func(r runResult) time.Duration { return r.Wall })
	rss := make([]int64, len(runs))
	for i, r := range runs {
		rss[i] = r.PeakRSS
	}
	m.PeakRSS = median(rss)
	m.Floors = slices.Clone(runs[0].Floors)
	for i := range m.Floors {
		m.Floors[i].CPU = pick(func(r runResult) time.Duration { return r.Floors[i].CPU })
		m.Floors[i].Wall = pick(func(r runResult) time.Duration { return r.Floors[i].Wall })
	}
	return m
}

// floorsText is the floors' CPU and wall times, for logs.
func floorsText(fs []floor) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("%s %.1f CPU-s (%.1f s wall, %d rows)", f.Name, f.CPU.Seconds(), f.Wall.Seconds(), f.Rows))
	}
	return strings.Join(parts, ", ")
}

// floorLines are the rows of docs/PERFORMANCE.md's table of runs against
// their floors: each run, then for each scale the medians.
func floorLines(runs []runResult) []string {
	var out []string
	row := func(label string, r runResult, cpuRatio, wallRatio float64) {
		fl := map[string]floor{}
		for _, f := range r.Floors {
			fl[f.Name] = f
		}
		s := r.slowest()
		out = append(out, fmt.Sprintf("| %s | %d | %.1f s | %.1f s | %.1f s | %.1f s | %.1f s | **%.2f** | %.1f s | %s %.1f s | **%.2f** | %.0f MiB |",
			label, r.Rows, r.CPU.Seconds(), fl["json"].CPU.Seconds(), fl["xlsx"].CPU.Seconds(), fl["parquet"].CPU.Seconds(), r.floorCPU().Seconds(),
			cpuRatio, r.Wall.Seconds(), s.Name, s.Wall.Seconds(), wallRatio, float64(r.PeakRSS)/(1<<20)))
	}
	for i := 0; i < len(runs); {
		j := i
		for j < len(runs) && runs[j].EvalRows == runs[i].EvalRows {
			j++
		}
		var cpu, wall []float64
		for k, r := range runs[i:j] {
			row(fmt.Sprintf("%s, run %d", r.Name, k+1), r, r.cpuRatio(), r.wallRatio())
			cpu, wall = append(cpu, r.cpuRatio()), append(wall, r.wallRatio())
		}
		if j-i > 1 {
			row(fmt.Sprintf("**%s, median of %d**", runs[i].Name, j-i), medianRun(runs[i:j]), median(cpu), median(wall))
		}
		i = j
	}
	return out
}
