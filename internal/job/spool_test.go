package job

import (
	"context"
	"errors"
	"io"
	"iter"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/source"
)

// onceReport yields its controls once (a second pass fails the test), and
// learns its time and alias while they are read, as a streaming source
// does.
type onceReport struct {
	t        *testing.T
	controls []source.Control
	err      error
	read     bool
	at       time.Time
	closed   int
}

func (o *onceReport) AccountAlias() string {
	if !o.read {
		o.t.Error("alias asked before the controls were read")
	}
	return "alias"
}
func (o *onceReport) ReportTime() time.Time { return o.at }
func (o *onceReport) Controls() iter.Seq2[source.Control, error] {
	return func(yield func(source.Control, error) bool) {
		if o.read {
			o.t.Error("controls read twice from the source")
			return
		}
		o.read = true
		for _, c := range o.controls {
			o.at = o.at.Add(time.Minute)
			if !yield(c, nil) {
				return
			}
		}
		if o.err != nil {
			yield(source.Control{}, o.err)
		}
	}
}
func (o *onceReport) Vendor(context.Context) (io.ReadCloser, string, error) { return nil, "", nil }
func (o *onceReport) Close() error                                          { o.closed++; return nil }

// The pipeline reads a source's report once and as often as it needs from
// its spool: the same controls, the source's error after those before it,
// the time learned while reading; Close removes the file.
func TestSpoolReport(t *testing.T) {
	boom := errors.New("page 3: 502")
	controls := []source.Control{
		{ID: "c1", Title: "One", Severity: "High", SeverityRank: 2, Status: dataset.NonCompliant, Assessed: 3,
			Violations: []source.Violation{{Region: "eu", Resource: "r1", Reasons: []string{"open", "public"}}}, Suppressions: []string{"s"}},
		{ID: "c2", Status: dataset.Compliant},
	}
	for _, tc := range []struct {
		name string
		err  error
	}{{"complete", nil}, {"source error", boom}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src := &onceReport{t: t, controls: controls, err: tc.err, at: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)}
			rep, err := spoolReport(src, dir)
			if err != nil {
				t.Fatal(err)
			}
			for pass := range 3 {
				var got []source.Control
				var gotErr error
				for c, err := range rep.Controls() {
					if err != nil {
						gotErr = err
						break
					}
					got = append(got, c)
				}
				if !slices.EqualFunc(got, controls, func(a, b source.Control) bool {
					return a.ID == b.ID && a.Status == b.Status && a.Assessed == b.Assessed && len(a.Violations) == len(b.Violations) &&
						(len(a.Violations) == 0 || slices.Equal(a.Violations[0].Reasons, b.Violations[0].Reasons))
				}) || !errors.Is(gotErr, tc.err) {
					t.Fatalf("pass %d: %+v, %v", pass, got, gotErr)
				}
			}
			if want := time.Date(2026, 12, 5, 0, 2, 0, 0, time.UTC); !rep.ReportTime().Equal(want) || rep.AccountAlias() != "alias" {
				t.Errorf("time %s alias %q: not read after the controls", rep.ReportTime(), rep.AccountAlias())
			}
			if err := rep.Close(); err != nil {
				t.Fatal(err)
			}
			_ = rep.Close()
			if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) > 0 || src.closed != 1 {
				t.Errorf("after Close: files %v, source closed %d times", left, src.closed)
			}
		})
	}
	if _, err := spoolReport(&onceReport{t: t}, filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a spool that cannot be created is no error")
	}
}

// A report whose source fails before its first control was not collected:
// fetchReport returns the error, as a failed Fetch would, and leaves no
// file.
func TestFetchReportFailingAtOnce(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("requirements page 1: 403")
	src := &onceReport{t: t, err: boom}
	rep, err := fetchReport(context.Background(), source.ReportUnit{Fetch: func(context.Context) (source.Report, error) { return src, nil }}, dir)
	if !errors.Is(err, boom) || rep != nil {
		t.Fatalf("fetchReport = %v, %v", rep, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) > 0 || src.closed != 1 {
		t.Errorf("files %v, source closed %d times", left, src.closed)
	}
}
