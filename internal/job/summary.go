package job

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/source"
)

// summary accumulates the counts the reports show, as rows stream past. It
// holds one entry per framework, cloud account and control, never rows.
type summary struct {
	rows   atomic.Int64
	okUnit atomic.Int64
	mu     sync.Mutex
	fws    map[string]*fwSummary
	tables map[string]int64 // rows per dataset table
}

func newSummary() *summary {
	return &summary{fws: map[string]*fwSummary{}, tables: map[string]int64{}}
}

func (s *summary) okUnits() int64 { return s.okUnit.Load() }

func (s *summary) addRows(table string, n int64) {
	s.rows.Add(n)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tables[table] += n
}

// severities lists severities in display order (index = severity level - 1).
func severities() []string { return []string{"Critical", "High", "Medium", "Low", "Info"} }

// sevStatus is a (severity, status) cell of the results table.
type sevStatus struct {
	severity string
	status   dataset.Status
}

type fwSummary struct {
	Name     string
	Cloud    string
	Status   map[dataset.Status]int64 // controls by status
	Failed   [5]int64                 // NonCompliant controls by severity level
	SevStat  map[sevStatus]int64      // controls by severity and status
	Accounts map[string]*acctSummary
	Controls map[string]*ctlSummary
	// Violated is the number of violations: distinct (control, resource)
	// pairs over all accounts, so that a resource reported by two
	// overlapping scopes (IBM SCC zones: Entire Infrastructure holds
	// Production) counts once per control it fails, never twice.
	Violated int64
	Planned  int // reports planned (one per cloud account)
	// resources are the distinct resources that violate a non-compliant
	// control (a set: one entry per resource, never per row), for
	// "distinct violating resources"; pairs and failing are the distinct
	// (control, resource) pairs of every violation and of the non-compliant
	// controls' violations.
	resources      map[string]struct{}
	pairs, failing map[[2]string]struct{}

	// The exception register: how many exceptions, how many had lapsed
	// before the period ended, and the first maxListedExceptions of them
	// for the PDF (the exceptions table has every one).
	Excepted, Lapsed int64
	listed           []listedException

	// sheets are the framework workbook's sheets of each table (by
	// dataset name), in order: one, or more when the table continued on
	// "Name (2)", ... (xlsx: a sheet holds at most Options.MaxRowsPerSheet
	// rows). The workbook records them as it is written, before the PDF
	// that points at them.
	sheets map[string][]string
}

// maxListedExceptions bounds the exceptions a framework's PDF lists.
const maxListedExceptions = 100

type listedException struct {
	Account, ControlID string
	source.Exception
	Lapsed bool
}

// exceptions records a control's exceptions in account; lapsed says
// whether one had expired before the period ended.
func (f *fwSummary) exceptions(account, control string, es []source.Exception, lapsed func(source.Exception) bool) {
	for _, e := range es {
		f.Excepted++
		l := lapsed(e)
		if l {
			f.Lapsed++
		}
		if len(f.listed) < maxListedExceptions {
			f.listed = append(f.listed, listedException{Account: account, ControlID: control, Exception: e, Lapsed: l})
		}
	}
}

// Distinct is the number of distinct resources violating a non-compliant
// control, over all accounts. A resource listed under two accounts counts
// once: IBM SCC zones overlap (Entire Infrastructure holds Production), and
// elsewhere a resource id (an ARN, an Azure or GCP resource path) already
// names its account.
func (f *fwSummary) Distinct() int64 { return int64(len(f.resources)) }

type acctSummary struct {
	SubAccount, Account, Alias string
	// AssessedAt is the report's own time: when the platform assessed the
	// account's controls (a point in time, not the period).
	AssessedAt time.Time
	Status     map[dataset.Status]int64
	Violated   int64               // violations: (resource, control) pairs
	resources  map[string]struct{} // distinct violating resources
}

// Distinct is the number of distinct resources of the account that
// violate a non-compliant control: the figure Lacework's own report calls
// "violated resources" (summary VIOLATED_RESOURCE_COUNT).
func (a *acctSummary) Distinct() int64 { return int64(len(a.resources)) }

type ctlSummary struct {
	ID, Title, Severity string
	Level               int
	// Section and Requirement are the control's framework section and the
	// framework's own requirement id, as the platform gives them (the
	// first account's, like the title).
	Section, Requirement string
	FailingAccounts      int64
	Violated             int64 // distinct resources failing the control, over all accounts
	// The control's results over the accounts: how many accounts gave
	// each status; the sum of their assessed resources (the controls
	// table's assessed_resources); its violations (rows of the violations
	// table, one per account and resource: the sum of violating_resources);
	// and the distinct resources among them, whatever the status (summed
	// over the controls, the framework's violations figure).
	Status   map[dataset.Status]int64
	Assessed int64
	Rows     int64
	Distinct int64
	// listed are the first maxListedViolations of the rows, for the PDF's
	// appendix; the workbook and Parquet hold every one.
	listed []listedViolation
}

// maxListedViolations bounds the resources the framework PDF lists per
// control: memory holds these few, never a control's every row.
const maxListedViolations = 5

type listedViolation struct{ Account, Region, Resource string }

// framework is the summary of the framework in folder slug (two frameworks
// may share a name, never a folder).
func (s *summary) framework(slug, name, cloud string) *fwSummary {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.fws[slug]
	if !ok {
		f = &fwSummary{Name: name, Cloud: cloud, Status: map[dataset.Status]int64{}, SevStat: map[sevStatus]int64{},
			Accounts: map[string]*acctSummary{}, Controls: map[string]*ctlSummary{}, resources: map[string]struct{}{},
			pairs: map[[2]string]struct{}{}, failing: map[[2]string]struct{}{}, sheets: map[string][]string{}}
		s.fws[slug] = f
	}
	return f
}

// control records one control result of one account. Only the reports
// collector writes a framework's summary, so no lock is needed per call.
func (f *fwSummary) control(sub, account, alias string, at time.Time, ctl source.Control) {
	id, severity, level, status, violations := ctl.ID, ctl.Severity, ctl.SeverityRank, ctl.Status, ctl.Violations
	violated := int64(len(violations))
	f.Status[status]++
	f.SevStat[sevStatus{severity, status}]++
	if status == dataset.NonCompliant && level >= 1 && level <= 5 {
		f.Failed[level-1]++
	}
	c, ok := f.Controls[id]
	if !ok {
		c = &ctlSummary{ID: id, Title: ctl.Title, Severity: severity, Level: level, Section: ctl.Category, Requirement: ctl.Requirement,
			Status: map[dataset.Status]int64{}}
		f.Controls[id] = c
	}
	c.Status[status]++
	c.Assessed += ctl.Assessed
	c.Rows += violated
	for _, v := range violations {
		if addNew(f.pairs, [2]string{id, v.Resource}) {
			f.Violated++
			c.Distinct++
		}
		if len(c.listed) < maxListedViolations {
			c.listed = append(c.listed, listedViolation{Account: account, Region: v.Region, Resource: v.Resource})
		}
	}
	key := sub + "\x00" + account
	a, ok := f.Accounts[key]
	if !ok {
		a = &acctSummary{SubAccount: sub, Account: account, Alias: alias, AssessedAt: at, Status: map[dataset.Status]int64{}, resources: map[string]struct{}{}}
		f.Accounts[key] = a
	}
	a.Status[status]++
	a.Violated += violated
	if status == dataset.NonCompliant {
		for _, v := range violations {
			a.resources[v.Resource] = struct{}{}
			f.resources[v.Resource] = struct{}{}
		}
	}
	if status == dataset.NonCompliant {
		c.FailingAccounts++
		for _, v := range violations {
			if addNew(f.failing, [2]string{id, v.Resource}) {
				c.Violated++
			}
		}
	}
}

// addNew adds k to set and says whether it was not there before.
func addNew[K comparable](set map[K]struct{}, k K) bool {
	if _, ok := set[k]; ok {
		return false
	}
	set[k] = struct{}{}
	return true
}

// partial says, when some of the framework's reports failed, that its
// figures cover the others only; "" when every report was collected.
func (r *run) partial(fs *fwSummary) string {
	failed := len(r.failuresFor(func(f pack.Failure) bool { return f.Framework == fs.Name && f.Dataset == dataset.Reports }))
	if failed == 0 {
		return ""
	}
	return fmt.Sprintf("partial: %d of %d reports collected (%d failed); these figures cover the reports collected only", fs.Planned-failed, fs.Planned, failed)
}

// notApplicable is what a compliance percentage reads as for a platform
// that reports failing rules only.
const notApplicable = "not applicable: the platform reports failing rules only"

// compliance is the percentage of compliant controls among those assessed
// compliant or non-compliant; the text says what is printed instead when
// there is none ("n/a": nothing assessed; notApplicable: a platform that
// reports failing rules only, whose every control fails by construction).
func (r *run) compliance(status map[dataset.Status]int64) (pct float64, text string, ok bool) {
	if r.info.FailingOnly {
		return 0, notApplicable, false
	}
	p, ok := dataset.Compliance(status)
	if !ok {
		return 0, "n/a", false
	}
	return p, fmt.Sprintf("%.1f%%", p), true
}

func (f *fwSummary) total() int64 {
	var t int64
	for _, v := range f.Status {
		t += v
	}
	return t
}

// topFailing returns up to n failing controls, most severe and widest first.
func (f *fwSummary) topFailing(n int) []*ctlSummary {
	var out []*ctlSummary
	for _, c := range f.Controls {
		if c.FailingAccounts > 0 {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *ctlSummary) int {
		return cmp.Or(cmp.Compare(a.Level, b.Level), cmp.Compare(b.FailingAccounts, a.FailingAccounts),
			cmp.Compare(b.Violated, a.Violated), cmp.Compare(a.ID, b.ID))
	})
	return out[:min(n, len(out))]
}

// assessment says when the framework's controls were assessed: reports are
// point-in-time assessments, not a record of the whole period [from, to),
// and the platform's latest report may lie outside it.
func (f *fwSummary) assessment(from, to time.Time) string {
	first, last := f.assessedRange()
	if first.IsZero() {
		return "point-in-time assessment; the platform gives no assessment time"
	}
	when := "point-in-time assessment at " + first.UTC().Format(assessedLayout)
	if !first.Equal(last) {
		when = "point-in-time assessments between " + first.UTC().Format(assessedLayout) + " and " + last.UTC().Format(assessedLayout) + ", one per cloud account"
	}
	return when + " " + inPeriod(first, last, from, to)
}

const assessedLayout = "2006-01-02 15:04 UTC"

// inPeriod says how assessment times [first, last] relate to the period.
func inPeriod(first, last, from, to time.Time) string {
	if !first.Before(from) && last.Before(to) {
		return "(the latest report in the period)"
	}
	return fmt.Sprintf("(the platform's latest report when the pack was made; it lies outside the period %s to %s)",
		from.UTC().Format(assessedLayout), to.UTC().Format(assessedLayout))
}

// assessedRange is the earliest and latest assessment time of the
// framework's accounts (zero when no report gave one).
func (f *fwSummary) assessedRange() (first, last time.Time) {
	for _, a := range f.Accounts {
		if a.AssessedAt.IsZero() {
			continue
		}
		if first.IsZero() || a.AssessedAt.Before(first) {
			first = a.AssessedAt
		}
		if a.AssessedAt.After(last) {
			last = a.AssessedAt
		}
	}
	return first, last
}

func (f *fwSummary) accounts() []*acctSummary {
	out := slices.Collect(maps.Values(f.Accounts))
	slices.SortFunc(out, func(a, b *acctSummary) int {
		return cmp.Or(cmp.Compare(a.SubAccount, b.SubAccount), cmp.Compare(a.Account, b.Account))
	})
	return out
}

func (s *summary) frameworks() []*fwSummary {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Collect(maps.Values(s.fws))
	slices.SortFunc(out, func(a, b *fwSummary) int { return cmp.Or(cmp.Compare(a.Cloud, b.Cloud), cmp.Compare(a.Name, b.Name)) })
	return out
}
