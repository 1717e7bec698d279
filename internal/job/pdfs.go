package job

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/reportgen/pdf"
	"github.com/evidence-pack/evidence/templates"
)

// severityColor is the bar colour of a severity level (1 Critical … 5 Info).
func severityColor(level int) [3]int {
	return [5][3]int{{192, 0, 0}, {230, 110, 0}, {240, 180, 0}, {80, 140, 200}, {140, 140, 140}}[level-1]
}

func (r *run) newPDF(title string) (*pdf.Doc, error) {
	return pdf.New(pdf.Options{Title: title, Subject: r.tenant.Name + " " + r.periodLabel(), Author: "evidence " + r.deps.Build.Version,
		Created: r.generatedAt(), Footer: "evidence pack " + r.id, Paper: r.cfg.Paper})
}

func (r *run) coverFields(framework string) [][2]string {
	f := [][2]string{
		{"Tenant", r.tenant.Name},
	}
	if framework != "" {
		f = append(f, [2]string{"Framework", framework})
	}
	return append(f,
		[2]string{"Period (UTC)", fmt.Sprintf("%s to %s (exclusive)", r.period.From.Format(time.RFC3339), r.period.To.Format(time.RFC3339))},
		[2]string{"Generated at (UTC)", r.generatedAt().Format(time.RFC3339)},
		[2]string{"Source system", r.info.API + " at " + r.info.BaseURL},
		[2]string{"Pack id", r.id},
		[2]string{"Generator", fmt.Sprintf("evidence %s (commit %s)", r.deps.Build.Version, orUnknown(r.deps.Build.Commit))},
	)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func (r *run) verifyText() string {
	loc := r.deps.Location
	if loc == "" {
		loc = "."
	}
	key := ""
	if r.deps.Signer != nil {
		key = r.deps.Signer.Fingerprint
	}
	t, err := templates.Text("verify", map[string]any{"Location": strings.TrimRight(loc, "/") + "/" + r.pw.Prefix(), "Key": key})
	if err != nil {
		return "Verify with: evidence verify . or sha256sum -c SHA256SUMS in the pack's folder."
	}
	return t
}

// failuresBlock puts the failed units where a reader cannot miss them.
func (r *run) failuresBlock(d *pdf.Doc, failures []pack.Failure) {
	intro, _ := templates.Text("failures", failures)
	d.Notice(strings.TrimSpace(intro), len(failures) > 0)
	if len(failures) == 0 {
		return
	}
	rows := make([][]string, 0, len(failures))
	for _, f := range failures {
		rows = append(rows, []string{f.Unit, clip(f.Error, 600)})
	}
	d.Table([]pdf.Column{{Title: "Failed unit", Width: 1.2}, {Title: "Reason and fix", Width: 2.8}}, rows)
}

// clip keeps table cells to a sane length; full values are in the data files.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func (r *run) failuresFor(pred func(pack.Failure) bool) []pack.Failure {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []pack.Failure
	for _, f := range r.failures {
		if pred(f) {
			out = append(out, f)
		}
	}
	return out
}

func (r *run) frameworkBody(d *pdf.Doc, fs *fwSummary) {
	d.Heading("Executive summary", 1)
	pairs := [][2]string{
		{"Assessed", fs.assessment(r.period.From, r.period.To) + ". The counts below are those of the reports, not of the whole period."},
		{"Cloud accounts", fmt.Sprint(len(fs.Accounts))},
		{"Control results", fmt.Sprint(fs.total())},
	}
	if p := r.partial(fs); p != "" {
		pairs = append(pairs, [2]string{"Scope of these figures", strings.ToUpper(p[:1]) + p[1:]})
	}
	if pct, text, ok := r.compliance(fs.Status); ok {
		c := fmt.Sprintf("%.1f%% of assessed controls compliant (compliant / (compliant + non-compliant))", pct)
		if r.partial(fs) != "" {
			c += "; partial: some reports failed"
		}
		pairs = append(pairs, [2]string{"Compliance", c})
	} else if text == notApplicable {
		pairs = append(pairs, [2]string{"Compliance", text})
	}
	for _, st := range dataset.Statuses() {
		pairs = append(pairs, [2]string{st.Label(), fmt.Sprint(fs.Status[st])})
	}
	pairs = append(pairs,
		[2]string{"Violations (resource × control)", fmt.Sprintf("%d: each resource counted once per control it fails, even where accounts or zones overlap", fs.Violated)},
		[2]string{"Distinct violating resources", fmt.Sprintf("%d: each resource counted once, whatever it fails and under however many accounts or zones", fs.Distinct())})
	d.KeyValues(pairs)
	bars := make([]pdf.Bar, len(severities()))
	for i, sev := range severities() {
		bars[i] = pdf.Bar{Label: sev, Value: fs.Failed[i], Color: severityColor(i + 1)}
	}
	d.BarChart("Non-compliant controls by severity", bars)

	d.Heading("Results by severity and status", 2)
	cols := []pdf.Column{{Title: "Severity", Width: 1.1}}
	for _, st := range dataset.Statuses() {
		cols = append(cols, pdf.Column{Title: st.Label(), Width: 1.2, Align: "R"})
	}
	var rows [][]string
	for _, sev := range severities() {
		row := []string{sev}
		for _, st := range dataset.Statuses() {
			row = append(row, fmt.Sprint(fs.SevStat[sevStatus{sev, st}]))
		}
		rows = append(rows, row)
	}
	d.Table(cols, rows)

	d.Heading("Top failing controls", 2)
	top := fs.topFailing(15)
	if len(top) == 0 {
		d.Paragraph("No control is non-compliant.")
	} else {
		rows = rows[:0]
		for _, c := range top {
			rows = append(rows, []string{c.ID, clip(c.Title, 300), c.Severity, fmt.Sprint(c.FailingAccounts), fmt.Sprint(c.Violated)})
		}
		d.Table([]pdf.Column{{Title: "Control", Width: 1.3}, {Title: "Title", Width: 3}, {Title: "Severity", Width: 0.9},
			{Title: "Accounts failing", Width: 0.9, Align: "R"}, {Title: "Violating resources", Width: 1, Align: "R"}}, rows)
		d.Paragraph("Violating resources: the distinct resources that fail the control, over all accounts (a resource under two overlapping accounts or zones counts once).")
	}

	d.Heading("Results by cloud account", 2)
	rows = rows[:0]
	for _, a := range fs.accounts() {
		name := a.Account
		if a.Alias != "" {
			name += " (" + a.Alias + ")"
		}
		if !a.AssessedAt.IsZero() {
			name += "\nassessed " + a.AssessedAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		_, pct, _ := r.compliance(a.Status)
		if pct == notApplicable {
			pct = "n/a"
		}
		rows = append(rows, []string{a.SubAccount, name, fmt.Sprint(a.Status[dataset.Compliant]), fmt.Sprint(a.Status[dataset.NonCompliant]),
			fmt.Sprint(a.Violated), fmt.Sprint(a.Distinct()), pct})
	}
	d.Table([]pdf.Column{{Title: "Sub-account", Width: 1.2}, {Title: "Cloud account", Width: 1.9}, {Title: "Compliant", Width: 1.05, Align: "R"},
		{Title: "Non-compliant", Width: 1.4, Align: "R"}, {Title: "Violations", Width: 1.05, Align: "R"},
		{Title: "Distinct resources", Width: 1.05, Align: "R"}, {Title: "Compliance", Width: 1.2, Align: "R"}}, rows)
	d.Paragraph("Violations: (resource, control) pairs, a resource counted once per control it fails. Distinct resources: the resources " +
		"failing at least one non-compliant control, each counted once (Lacework's own report calls them violated resources).")
	r.complianceNote(d)
}

// complianceNote says under a table with a Compliance column how it is
// computed, or why it is not.
func (r *run) complianceNote(d *pdf.Doc) {
	if r.info.FailingOnly {
		d.Paragraph("Compliance: " + notApplicable + ". Every control listed failed somewhere; the platform does not report the controls that pass, so no percentage can be computed.")
		return
	}
	d.Paragraph("Compliance = compliant / (compliant + non-compliant) controls; suppressed, not assessed and manual controls are left out.")
}

func (r *run) writeFrameworkPDF(ctx context.Context, f framework, fs *fwSummary) error {
	d, err := r.newPDF(f.Name)
	if err != nil {
		return err
	}
	d.Cover("Compliance evidence: "+f.Name, r.tenant.Name+" · "+r.periodLabel(), append(r.coverFields(f.Name), r.frameworkCoverFields(fs)...))
	r.frameworkCover(d, f, fs)
	d.Heading("How to verify this evidence", 2)
	d.Paragraph(r.verifyText())
	d.Page()
	r.frameworkBody(d, fs)
	r.exceptionRegister(d, f, fs)
	r.controlsAppendix(d, f, fs)
	r.requirementsAppendix(d, fs)
	r.glossary(d)
	return r.putPDF(ctx, pack.FrameworkPDF(f.slug), d)
}

func (r *run) putPDF(ctx context.Context, path string, d *pdf.Doc) error {
	var buf bytes.Buffer
	if _, err := d.WriteTo(&buf); err != nil {
		return err
	}
	if _, err := r.pw.Put(ctx, path, &buf, "application/pdf", nil); err != nil {
		return storeErr{fmt.Errorf("store %s: %w", path, err)}
	}
	return nil
}

// writeSummaryPDF is the pack's front page: scope, failures first, results
// per framework, data volumes, and every file written so far with its
// SHA-256 (the manifest and SHA256SUMS are written after it, and list it).
func (r *run) writeSummaryPDF(ctx context.Context, m pack.Manifest) error {
	d, err := r.newPDF("Evidence pack summary")
	if err != nil {
		return err
	}
	d.Cover("Evidence pack summary", r.tenant.Name+" · "+r.periodLabel(), r.coverFields(""))
	r.failuresBlock(d, m.Failures)
	if len(m.Warnings) > 0 {
		d.Notice(fmt.Sprintf("%d warning(s): what the run left out or could not check.", len(m.Warnings)), true)
		rows := make([][]string, 0, len(m.Warnings))
		for _, w := range m.Warnings {
			rows = append(rows, []string{clip(w, 600)})
		}
		d.Table([]pdf.Column{{Title: "Warning", Width: 4}}, rows)
	}
	d.Heading("How to verify this pack", 2)
	d.Paragraph(r.verifyText())

	d.Page()
	r.driftSection(d)
	d.Heading("Scope", 1)
	d.KeyValues([][2]string{
		{"Sub-accounts", strings.Join(m.Scope.SubAccounts, ", ")},
		{"Cloud accounts", fmt.Sprintf("%d: %s", len(m.Scope.Accounts), clip(strings.Join(m.Scope.Accounts, ", "), 1500))},
		{"Frameworks", strings.Join(m.Scope.Frameworks, "\n")},
		{"Datasets", strings.Join(m.Scope.Datasets, ", ")},
		{"Excluded", cmp.Or(strings.Join(m.Scope.Excluded, "\n"), "nothing")},
	})
	d.Heading("Results by framework", 1)
	var rows [][]string
	for _, fs := range r.summary.frameworks() {
		_, pct, _ := r.compliance(fs.Status)
		if pct == notApplicable {
			pct = "n/a"
		}
		if r.partial(fs) != "" {
			pct += " (partial)"
		}
		rows = append(rows, []string{fs.Name, fs.Cloud, fmt.Sprint(len(fs.Accounts)), fmt.Sprint(fs.Status[dataset.Compliant]),
			fmt.Sprint(fs.Status[dataset.NonCompliant]), fmt.Sprint(fs.Failed[0] + fs.Failed[1]), pct})
	}
	if len(rows) == 0 {
		d.Paragraph("No compliance report was collected in this run.")
	} else {
		d.Table([]pdf.Column{{Title: "Framework", Width: 2.4}, {Title: "Cloud", Width: 0.8}, {Title: "Accounts", Width: 1, Align: "R"},
			{Title: "Compliant", Width: 1.1, Align: "R"}, {Title: "Non-compliant", Width: 1.6, Align: "R"},
			{Title: "Critical + high failing", Width: 1.1, Align: "R"}, {Title: "Compliance", Width: 1.2, Align: "R"}}, rows)
		r.complianceNote(d)
		if slices.ContainsFunc(r.summary.frameworks(), func(fs *fwSummary) bool { return r.partial(fs) != "" }) {
			d.Paragraph("(partial): some of the framework's reports failed (see the failures on page 1); its figures cover the reports collected only.")
		}
		var first, last time.Time
		for _, fs := range r.summary.frameworks() {
			f, l := fs.assessedRange()
			if !f.IsZero() && (first.IsZero() || f.Before(first)) {
				first = f
			}
			if l.After(last) {
				last = l
			}
		}
		when := "at times the platform does not give"
		if !first.IsZero() {
			when = "between " + first.UTC().Format(assessedLayout) + " and " + last.UTC().Format(assessedLayout) + " " + inPeriod(first, last, r.period.From, r.period.To)
		}
		d.Paragraph("Compliance reports are point-in-time assessments: each account's figures are those of its latest report, " +
			"assessed " + when + "; each framework's PDF gives every account's time. Compliance evaluations and audit logs cover the whole period.")
	}
	d.Heading("Data collected", 1)
	r.dataCollected(d, m.Queries)

	d.Page()
	d.Heading("Appendix: files and SHA-256 checksums", 1)
	d.Paragraph("Every file written before this report, with its size and SHA-256. manifest.json and SHA256SUMS, written after this report, list this report too.")
	rows = rows[:0]
	for _, f := range r.pw.Files() {
		rows = append(rows, []string{f.Path, fmt.Sprint(f.Size), f.SHA256})
	}
	d.Table([]pdf.Column{{Title: "File", Width: 2.3}, {Title: "Bytes", Width: 0.7, Align: "R"}, {Title: "SHA-256", Width: 2.6, Mono: true}}, rows)
	return r.putPDF(ctx, pack.SummaryPDF, d)
}

// dataCollected is summary.pdf's table of what was read: one row per
// dataset, sub-account and framework, adding up its units (the manifest's
// queries, one per cloud account, window or part of the plan): their
// pages and rows, and how many failed (each failed unit is listed with its
// reason on page 1). The manifest lists every unit.
func (r *run) dataCollected(d *pdf.Doc, queries []pack.Query) {
	type group struct {
		dataset, sub, framework string
		accounts                map[string]bool
		units, failed           int
		pages, rows             int64
	}
	var order []*group
	groups := map[[3]string]*group{}
	for _, q := range queries {
		k := [3]string{q.Dataset, q.SubAccount, q.Framework}
		g, ok := groups[k]
		if !ok {
			g = &group{dataset: q.Dataset, sub: q.SubAccount, framework: q.Framework, accounts: map[string]bool{}}
			groups[k] = g
			order = append(order, g)
		}
		g.units++
		g.pages += q.Pages
		g.rows += q.Rows
		if q.Account != "" {
			g.accounts[q.Account] = true
		}
		if !q.Complete {
			g.failed++
		}
	}
	d.Paragraph(fmt.Sprintf("%d units (API result sets: one per dataset, sub-account, cloud account or framework report, and time window), "+
		"added up per dataset, sub-account and framework. manifest.json lists every unit with its request, pages and rows.", len(queries)))
	rows := make([][]string, 0, len(order))
	for _, g := range order {
		scope := g.framework
		switch n := len(g.accounts); {
		case n == 1 && g.framework == "":
			for a := range g.accounts {
				scope = a
			}
		case n > 0:
			scope = strings.TrimPrefix(fmt.Sprintf("%s · %d accounts", g.framework, n), " · ")
		}
		state := "complete"
		if g.failed > 0 {
			state = fmt.Sprintf("%d FAILED", g.failed)
		}
		rows = append(rows, []string{g.dataset, g.sub, scope, fmt.Sprint(g.units), fmt.Sprint(g.pages), fmt.Sprint(g.rows), state})
	}
	// Dataset is wide enough for the longest name (evaluations/AzureCompliance)
	// on one line: a name is never broken inside.
	d.Table([]pdf.Column{{Title: "Dataset", Width: 2.5}, {Title: "Sub-account", Width: 1.3}, {Title: "Scope", Width: 2.0},
		{Title: "Units", Width: 0.65, Align: "R"}, {Title: "Pages", Width: 0.7, Align: "R"}, {Title: "Rows", Width: 0.8, Align: "R"},
		{Title: "State", Width: 0.9}}, rows)
}
