package sophos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/sophos"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/source"
)

// spooledAlert is one alert as its control needs it: a line of the
// report's spool file.
type spooledAlert struct {
	ControlID    string             `json:"id"`
	Title        string             `json:"title,omitempty"`
	Category     string             `json:"category,omitempty"`
	Severity     string             `json:"severity"`
	Rank         int                `json:"rank"`
	Open         bool               `json:"open"`
	Link         string             `json:"link,omitempty"`
	Violations   []source.Violation `json:"violations,omitempty"`
	Suppressions []string           `json:"suppressions,omitempty"`
	Exceptions   []source.Exception `json:"exceptions,omitempty"`
}

// span locates a line of the spool file.
type span struct{ off, n int64 }

// report is one framework report of one environment. Its alerts live in a
// temporary file, one JSON line each; memory holds the index (rule → lines),
// and one control while it is read.
type report struct {
	f       *os.File
	index   map[string][]span
	ids     []string // rule ids, sorted: the controls' order
	alias   string
	at      time.Time
	maxLine int64
}

// fetchReport pages through the framework's alerts of one environment in
// window w and spools them: one request per page, nothing else.
func (s *src) fetchReport(ctx context.Context, fw string, a sophos.Account, w period.Window) (_ source.Report, err error) {
	id := string(a.AccountID)
	f := alertFilter(id, w)
	f.PolicyTags = []string{fw}
	file, err := os.CreateTemp(s.spool, "sophos-report-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("sophos tenant %s: framework %s, environment %s: spool: %w", s.tenant, fw, id, err)
	}
	r := &report{f: file, index: map[string][]span{}, alias: a.Name, at: a.BenchmarkTime()}
	if r.at.IsZero() {
		r.at = s.now().UTC()
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, r.Close())
		}
	}()
	var off int64
	alerts := 0
	for al, err := range s.client.Alerts(ctx, sophos.AlertQuery{AlertFilter: f}) {
		if err != nil {
			return nil, err
		}
		alerts++
		line, err := json.Marshal(spool(al))
		if err != nil {
			return nil, fmt.Errorf("sophos tenant %s: framework %s, environment %s: spool alert %s: %w", s.tenant, fw, id, al.ID, err)
		}
		line = append(line, '\n')
		if _, err := file.Write(line); err != nil {
			return nil, fmt.Errorf("sophos tenant %s: framework %s, environment %s: spool: %w", s.tenant, fw, id, err)
		}
		cid := controlID(al)
		r.index[cid] = append(r.index[cid], span{off, int64(len(line))})
		r.maxLine = max(r.maxLine, int64(len(line)))
		off += int64(len(line))
	}
	r.ids = slices.Sorted(maps.Keys(r.index))
	s.log.Debug("framework report spooled", "framework", fw, "account", id, "alerts", alerts, "controls", len(r.ids), "bytes", off)
	return r, nil
}

// spool keeps what a control needs of an alert.
func spool(a sophos.Alert) spooledAlert {
	sev, rank := severity(a)
	out := spooledAlert{
		ControlID: controlID(a),
		Title:     a.AlertSummary,
		Category:  section(a),
		Severity:  sev,
		Rank:      rank,
		Open:      !suppressed(a.State),
		Link:      a.URL,
	}
	for _, r := range a.RuleResult.AffectedResources {
		name := string(r.AffectedResource)
		if !out.Open || suppressed(r.State) {
			s := name
			if r.SuppressionType != "" {
				s += " (" + r.SuppressionType + ")"
			}
			out.Suppressions = append(out.Suppressions, s)
			// The affected resource's suppressionType and Comment (seed
			// 004, the alert's ruleResult.affectedResources): no author or
			// dates are documented.
			out.Exceptions = append(out.Exceptions, source.Exception{Kind: source.ExceptionSuppression, Resource: name,
				Reason: strings.TrimSpace(r.SuppressionType), Description: strings.TrimSpace(r.Comment)})
			continue
		}
		var reasons []string
		for _, x := range []string{r.FailureReason, r.Comment} {
			if x = strings.TrimSpace(x); x != "" {
				reasons = append(reasons, x)
			}
		}
		out.Violations = append(out.Violations, source.Violation{Region: r.Region(), Resource: name, Reasons: reasons})
	}
	return out
}

func (r *report) AccountAlias() string  { return r.alias }
func (r *report) ReportTime() time.Time { return r.at }

func (r *report) Vendor(context.Context) (io.ReadCloser, string, error) { return nil, "", nil }

// Controls reads the controls back from the spool file, one rule at a time
// in rule-id order. It can be called again, and by several readers at once
// (the file is only read with ReadAt).
func (r *report) Controls() iter.Seq2[source.Control, error] {
	return func(yield func(source.Control, error) bool) {
		buf := make([]byte, 0, r.maxLine)
		for _, id := range r.ids {
			c := source.Control{ID: id, Status: dataset.Suppressed}
			for i, sp := range r.index[id] {
				buf = buf[:sp.n]
				if _, err := r.f.ReadAt(buf, sp.off); err != nil {
					yield(source.Control{}, fmt.Errorf("read spooled control %s: %w", id, err))
					return
				}
				var a spooledAlert
				if err := json.Unmarshal(buf, &a); err != nil {
					yield(source.Control{}, fmt.Errorf("decode spooled control %s: %w", id, err))
					return
				}
				if i == 0 || a.Rank < c.SeverityRank {
					c.Severity, c.SeverityRank = a.Severity, a.Rank
				}
				if i == 0 {
					c.Title, c.Category, c.InfoLink = a.Title, a.Category, a.Link
				}
				if a.Open {
					c.Status = dataset.NonCompliant
				}
				c.Violations = append(c.Violations, a.Violations...)
				c.Suppressions = append(c.Suppressions, a.Suppressions...)
				c.Exceptions = append(c.Exceptions, a.Exceptions...)
			}
			c.Assessed = int64(len(c.Violations) + len(c.Suppressions))
			if !yield(c, nil) {
				return
			}
		}
	}
}

// Close removes the spool file. It may be called more than once.
func (r *report) Close() error {
	if r.f == nil {
		return nil
	}
	name := r.f.Name()
	err := r.f.Close()
	r.f = nil
	if rmErr := os.Remove(name); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
		err = errors.Join(err, rmErr)
	}
	return err
}
