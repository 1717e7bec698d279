package job

import (
	"cmp"
	"fmt"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/reportgen/pdf"
)

// exceptionRegister is the framework PDF's section of exceptions: every
// suppression and accepted risk of the framework's reports, with what the
// platform says of each (the first maxListedExceptions; the workbook's
// Exceptions sheet and the exceptions table hold all).
func (r *run) exceptionRegister(d *pdf.Doc, f framework, fs *fwSummary) {
	d.Heading("Exception register", 1)
	if fs.Excepted == 0 {
		d.Paragraph("No control of this framework has a suppressed or risk-accepted failure in the reports collected.")
		return
	}
	intro := fmt.Sprintf("%d exceptions: failures the platform excepts from a control's result (suppressions; accepted risks). "+
		"A field the platform does not record is left as —.", fs.Excepted)
	if fs.Lapsed > 0 {
		intro += fmt.Sprintf(" %d had expired before the period ended (%s): they are marked EXPIRED.", fs.Lapsed, r.period.To.UTC().Format(time.RFC3339))
	}
	d.Paragraph(intro)
	var rows [][]string
	for _, e := range fs.listed {
		expires := "—"
		if !e.Expires.IsZero() {
			expires = e.Expires.UTC().Format(time.DateOnly)
			if e.Lapsed {
				expires += "\nEXPIRED"
			}
		}
		rows = append(rows, []string{e.ControlID + "\n" + e.Account, clip(e.Resource, 200), e.Kind, clip(cmp.Or(e.Reason, "—"), 200),
			clip(cmp.Or(e.Description, "—"), 300), cmp.Or(e.By, "—"), expires})
	}
	d.Table([]pdf.Column{{Title: "Control, account", Width: 1.15}, {Title: "Resource", Width: 1.5}, {Title: "Kind", Width: 0.8},
		{Title: "Reason", Width: 1.15}, {Title: "Description", Width: 1.0}, {Title: "By", Width: 1.4}, {Title: "Expires", Width: 1.0}}, rows)
	if n := fs.Excepted - int64(len(fs.listed)); n > 0 {
		d.Paragraph(fmt.Sprintf("… and %d more: %s, %s (or the exceptions table, parquet/exceptions).", n, pack.FrameworkWorkbook(f.slug),
			fs.sheetsOf(dataset.ExceptionsTable())))
	}
}
