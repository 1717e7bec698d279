package job

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/reportgen/pdf"
)

// The framework PDF's cover and appendices: every control of the framework with its
// results over the accounts and, for a failing control, its first failing
// resources and where the rest are; the controls per requirement, where
// the platform gives the framework's requirement ids; and a glossary of
// the statuses and of how the percentages are computed. Everything comes
// from the framework's summary (fwSummary), which keeps a few resources
// per control, never the rows.

// controlsAppendix lists every control of the framework: one row per
// control id (its results in every account folded into one), so that the
// row count is the number of distinct control_id values of the
// framework's controls table.
func (r *run) controlsAppendix(d *pdf.Doc, f framework, fs *fwSummary) {
	d.Landscape()
	d.Heading("Appendix A: every control", 1)
	ctls := fs.controls()
	if len(ctls) == 0 {
		d.Paragraph("The reports collected hold no control.")
		return
	}
	sheets, column := fs.sheetsOf(dataset.ViolationsTable()), violationsColumn()
	withReq := 0
	for _, c := range ctls {
		if c.Requirement != "" {
			withReq++
		}
	}
	d.Paragraph(fmt.Sprintf("%d controls: every control_id of the framework's controls table (%s, %s; parquet/controls), in the order of their ids. "+
		"A control assessed in several cloud accounts has one row: Status gives how many accounts gave each status, Assessed adds the accounts' "+
		"assessed resources, Violations (rows) counts the rows of %s for the control (one per account and resource: a resource failing "+
		"in two overlapping accounts has two), and Distinct resources counts each resource once; the Distinct resources column adds up to "+
		"the executive summary's Violations figure.",
		len(ctls), pack.FrameworkWorkbook(f.slug), fs.sheetsOf(dataset.ControlsTable()), sheets))
	d.Paragraph(fmt.Sprintf("Under each control that is non-compliant in at least one account: its first %d resources in violation (account: resource, region), "+
		"then how many more there are and where to find them all.", maxListedViolations))
	if withReq == 0 {
		d.Paragraph("Requirement: the platform gives no requirement id of the framework (such as a SOC 2 criterion or a CIS section number) " +
			"for these controls, so the column is empty; the pack maps none itself. Section is the platform's own section of the control, as given.")
	}
	cols := []pdf.Column{{Title: "Control", Width: 34}, {Title: "Title", Width: 62}, {Title: "Requirement / section", Width: 42},
		{Title: "Severity", Width: 16}, {Title: "Status (accounts)", Width: 30}, {Title: "Assessed", Width: 21, Align: "R"},
		{Title: "Violations (rows)", Width: 22, Align: "R"}, {Title: "Distinct resources", Width: 22, Align: "R"}}
	rows := make([]pdf.Row, 0, len(ctls))
	for _, c := range ctls {
		req := c.Section
		if c.Requirement != "" {
			req = c.Requirement + "\n" + c.Section
		}
		row := pdf.Row{Cells: []string{c.ID, clip(c.Title, 300), clip(cmp.Or(req, "—"), 200), c.Severity, c.statusText(),
			fmt.Sprint(c.Assessed), fmt.Sprint(c.Rows), fmt.Sprint(c.Distinct)}}
		if c.Status[dataset.NonCompliant] > 0 {
			row.Detail = c.failingDetail(pack.FrameworkWorkbook(f.slug), sheets, column)
		}
		rows = append(rows, row)
	}
	d.TableRows(cols, rows)
}

// violationsColumn is the title of the control_id column of the
// workbook's sheets of violations: the name a reader filters by.
func violationsColumn() string {
	for _, c := range dataset.ViolationsTable().Columns {
		if c.Name == "control_id" {
			return c.Header()
		}
	}
	return "control_id"
}

// failingDetail is a failing control's line under its row: its first
// resources in violation, and how many more there are and where: in
// workbook, the sheets named by sheets (fwSummary.sheetsOf), filtered on
// column.
func (c *ctlSummary) failingDetail(workbook, sheets, column string) string {
	if c.Rows == 0 {
		return c.ID + ": non-compliant, but the platform's report names no resource in violation."
	}
	parts := make([]string, 0, len(c.listed))
	for _, v := range c.listed {
		s := v.Account + ": " + clip(v.Resource, 200)
		if v.Region != "" {
			s += ", " + v.Region
		}
		parts = append(parts, s)
	}
	out := fmt.Sprintf("%s, resources in violation: %s", c.ID, strings.Join(parts, "; "))
	if more := c.Rows - int64(len(c.listed)); more > 0 {
		out += fmt.Sprintf("; and %d more: %s, %s, filter %s = %s", more, workbook, sheets, column, c.ID)
	}
	return out
}

// statusText is the control's statuses over the accounts: the status alone
// when every account gave the same, else each with its number of accounts.
func (c *ctlSummary) statusText() string {
	var parts []string
	for _, st := range dataset.Statuses() {
		if n := c.Status[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", st.Label(), n))
		}
	}
	if len(parts) == 1 {
		for _, st := range dataset.Statuses() {
			if c.Status[st] > 0 {
				if n := c.Status[st]; n > 1 {
					return fmt.Sprintf("%s (%d)", st.Label(), n)
				}
				return st.Label()
			}
		}
	}
	return strings.Join(parts, "\n")
}

// controls are the framework's controls in the order of their ids, with
// the numbers in them compared as numbers (lacework-global-2 before
// lacework-global-10).
func (f *fwSummary) controls() []*ctlSummary {
	out := slices.Collect(maps.Values(f.Controls))
	slices.SortFunc(out, func(a, b *ctlSummary) int { return dataset.CompareIDs(a.ID, b.ID) })
	return out
}

// requirementsAppendix is the table of controls per requirement, for the
// controls whose requirement id the platform gives; it says so when it
// gives none.
func (r *run) requirementsAppendix(d *pdf.Doc, fs *fwSummary) {
	d.Heading("Appendix B: controls per requirement", 1)
	type req struct {
		id, section string
		ids         []string
		status      map[dataset.Status]int64
	}
	byID := map[string]*req{}
	without := 0
	for _, c := range fs.controls() {
		if c.Requirement == "" {
			without++
			continue
		}
		q, ok := byID[c.Requirement]
		if !ok {
			q = &req{id: c.Requirement, section: c.Section, status: map[dataset.Status]int64{}}
			byID[c.Requirement] = q
		}
		q.ids = append(q.ids, c.ID)
		for st, n := range c.Status {
			q.status[st] += n
		}
	}
	if len(byID) == 0 {
		d.Paragraph("None: the platform's reports give no requirement id of the framework's own (such as a SOC 2 criterion, an ISO 27001 " +
			"Annex A control or a CIS section number) for any control of this framework, and the pack does not map controls to requirements " +
			"itself. Each control's section, as the platform gives it, is in Appendix A.")
		return
	}
	reqs := slices.Collect(maps.Values(byID))
	slices.SortFunc(reqs, func(a, b *req) int { return dataset.CompareIDs(a.id, b.id) })
	d.Paragraph(fmt.Sprintf("%d requirements of the framework, as the platform names them (the column requirement_id of the controls table), "+
		"with their controls. Results count (account, control) results, as in Appendix A.", len(reqs)))
	if without > 0 {
		d.Paragraph(fmt.Sprintf("%d controls have no requirement id from the platform and are not in this table.", without))
	}
	rows := make([][]string, 0, len(reqs))
	for _, q := range reqs {
		var res []string
		for _, st := range dataset.Statuses() {
			if n := q.status[st]; n > 0 {
				res = append(res, fmt.Sprintf("%s %d", st.Label(), n))
			}
		}
		rows = append(rows, []string{q.id, clip(q.section, 200), fmt.Sprint(len(q.ids)), clip(strings.Join(q.ids, ", "), 1200), strings.Join(res, "\n")})
	}
	d.Table([]pdf.Column{{Title: "Requirement", Width: 0.9}, {Title: "Requirement as named", Width: 2.2}, {Title: "Controls", Width: 0.7, Align: "R"},
		{Title: "Control ids", Width: 2}, {Title: "Results", Width: 1.2}}, rows)
}

// glossary says what the statuses mean and how the percentages are
// computed: the text follows compliance() and its callers.
func (r *run) glossary(d *pdf.Doc) {
	d.Heading("Glossary", 1)
	rows := [][]string{
		{string(dataset.Compliant), dataset.Compliant.Label(), "The platform assessed the control and found no resource failing it."},
		{string(dataset.NonCompliant), dataset.NonCompliant.Label(), "At least one resource fails the control and is not excepted; the failing resources are the control's violations."},
		{string(dataset.Suppressed), dataset.Suppressed.Label(), "The control fails, but every failure is excepted on the platform (suppressed, or its risk accepted): see the exception register."},
		{string(dataset.CouldNotAssess), dataset.CouldNotAssess.Label(), "The platform could not evaluate the control, so there is no result either way."},
		{string(dataset.Manual), dataset.Manual.Label(), "The platform does not assess the control itself: a person has to."},
	}
	d.Table([]pdf.Column{{Title: "Status in the data", Width: 1.7}, {Title: "In this report", Width: 1.1}, {Title: "Meaning", Width: 4}}, rows)
	if r.info.FailingOnly {
		d.Paragraph("This platform reports failing rules only: its controls are Non-compliant or Suppressed, never Compliant.")
	}
	d.Paragraph("A control result is one control in one cloud account: a framework's status counts add up the results of all its accounts.")
	if r.info.FailingOnly {
		d.Paragraph("Compliance percentage: " + notApplicable + ". With no Compliant result, compliant / (compliant + non-compliant) would be 0% by construction, so none is printed.")
	} else {
		d.Paragraph("Compliance percentage = 100 × Compliant / (Compliant + Non-compliant) control results, rounded to one decimal; " +
			"Suppressed, Could not assess and Manual results are left out of both numbers. A framework's percentage counts the results of " +
			"all its accounts, an account's only its own. Where no result is Compliant or Non-compliant, the percentage is n/a. " +
			"A framework whose reports did not all arrive says \"partial\": its figures cover the reports collected.")
	}
	d.Paragraph("Violations: (resource, control) pairs, a resource counted once per control it fails. Distinct violating resources: " +
		"each resource counted once, whatever it fails. Assessed resources: the resources the platform evaluated the control on, as it reports them.")
}

// frameworkCoverFields are the framework cover's fields after those that
// identify the pack: its scope, its reports and when they were assessed.
func (r *run) frameworkCoverFields(fs *fwSummary) [][2]string {
	subs := map[string]bool{}
	var accts []string
	for _, a := range fs.accounts() {
		subs[a.SubAccount] = true
		name := a.Account
		if a.Alias != "" {
			name += " (" + a.Alias + ")"
		}
		accts = append(accts, name)
	}
	reports := fmt.Sprintf("%d of %d collected", len(fs.Accounts), fs.Planned)
	if p := r.partial(fs); p != "" {
		reports = p
	}
	return [][2]string{
		{"Scope", fmt.Sprintf("%s in %s: %s", plural(len(fs.Accounts), "cloud account"), plural(len(subs), "sub-account"), clip(strings.Join(accts, ", "), 600))},
		{"Reports", reports},
		{"Assessed", fs.assessment(r.period.From, r.period.To)},
	}
}

// frameworkCover fills the framework PDF's first page after its fields:
// the headline result, then the failures and warnings that concern the
// framework.
func (r *run) frameworkCover(d *pdf.Doc, f framework, fs *fwSummary) {
	failing := 0
	for _, c := range fs.Controls {
		if c.Status[dataset.NonCompliant] > 0 {
			failing++
		}
	}
	headline := fmt.Sprintf("%d controls, %d control results (one per control and account): %d Compliant, %d Non-compliant. ",
		len(fs.Controls), fs.total(), fs.Status[dataset.Compliant], fs.Status[dataset.NonCompliant])
	if pct, text, ok := r.compliance(fs.Status); ok {
		headline = fmt.Sprintf("Compliance %.1f%%. ", pct) + headline
	} else {
		headline = "Compliance " + text + ". " + headline
	}
	headline += fmt.Sprintf("%d controls non-compliant in at least one account; %d distinct violating resources.", failing, fs.Distinct())
	if r.partial(fs) != "" {
		headline += " Partial: some reports failed."
	}
	d.Notice("Result: "+headline, failing > 0 || r.partial(fs) != "")
	r.failuresBlock(d, r.failuresFor(func(x pack.Failure) bool { return x.Framework == f.Name || x.Framework == "" && x.Dataset == "" }))
	var warns [][]string
	r.mu.Lock()
	for _, w := range r.warnings {
		if strings.Contains(w, f.Name) {
			warns = append(warns, []string{clip(w, 600)})
		}
	}
	r.mu.Unlock()
	if len(warns) > 0 {
		d.Notice(fmt.Sprintf("%d warning(s) about this framework's reports; the run's other warnings are on page 1 of summary.pdf.", len(warns)), true)
		d.Table([]pdf.Column{{Title: "Warning", Width: 4}}, warns)
	}
}

// plural is n and noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
