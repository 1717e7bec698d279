package job

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/drift"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/reportgen/pdf"
)

// Each pack's changes since the tenant's previous pack (the chain's
// Previous link): the drift table, and a section of summary.pdf. Only the
// controls are compared here, whose number is small whatever the tenant's
// size; `evidence diff` compares the inventories too.

// Drift changes (the drift table's change column).
const (
	changeNewlyFailing = "newly_failing"
	changeNewlyPassing = "newly_passing"
	changeStillFailing = "still_failing"
	changeOther        = "other"
)

// driftResult is what the summary says of the drift.
type driftResult struct {
	previous *pack.Link    // nil: the tenant's first pack in its chain
	report   *drift.Report // nil when the previous pack could not be read
	err      error
}

// writeDrift compares the pack being written (its manifest m so far) with
// the tenant's previous pack, and writes the drift table.
func (r *run) writeDrift(ctx context.Context, m pack.Manifest) error {
	r.drift = driftResult{previous: r.previous}
	if r.previous == nil {
		return nil
	}
	prev := drift.Pack{Location: r.previous.Path, Store: pack.Sub(r.deps.Store, r.previous.Path)}
	cur := drift.Pack{Location: r.pw.Prefix(), Store: r.pw.Reader(), Manifest: &m}
	rep, err := drift.Controls(ctx, prev, cur, func(pack.Manifest) pack.Reader { return r.deps.Store })
	if err != nil {
		r.drift.err = err
		r.warn("no changes since the previous pack: %v", err)
		return nil
	}
	r.drift.report = &rep
	bySub := map[string][]dataset.Row{}
	add := func(kind string, cs []drift.Change) {
		for _, c := range cs {
			d := dataset.DriftChange{Framework: c.Framework, AccountID: c.AccountID, ControlID: c.ControlID, Title: c.Title,
				Severity: c.Severity, Change: kind, Status: c.Status, PreviousStatus: c.Was, PreviousPackID: r.previous.PackID}
			if kind == changeStillFailing {
				d.FailingSince = c.FailingSince
			}
			bySub[c.SubAccount] = append(bySub[c.SubAccount], d.Row(r.scope(c.SubAccount)))
		}
	}
	add(changeNewlyFailing, rep.NewlyFailing)
	add(changeNewlyPassing, rep.NewlyPassing)
	add(changeStillFailing, rep.StillFailing)
	add(changeOther, rep.OtherChanges)
	for _, sub := range slices.Sorted(maps.Keys(bySub)) {
		path := pack.ParquetFile{Table: dataset.Drift, SubAccount: r.folders.subs.Folder(sub), Name: pack.DefaultParquetName}.Path()
		f, err := r.createTable(ctx, path, r.parquetFormat(dataset.Drift), dataset.DriftTable())
		if err != nil {
			return err
		}
		if err := f.WriteRows(bySub[sub]); err != nil {
			f.Fail(err)
			return fmt.Errorf("%s: %w", path, err)
		}
		if _, err := f.Finish(); err != nil {
			return err
		}
	}
	return nil
}

// driftSection is summary.pdf's page of changes since the previous pack.
func (r *run) driftSection(d *pdf.Doc) {
	d.Heading("Changes since the previous pack", 1)
	res := r.drift
	switch {
	case res.previous == nil:
		d.Paragraph("This is the tenant's first pack in its chain (manifest.json: previous is null): there is no earlier pack to compare with.")
		return
	case res.report == nil:
		d.Notice(fmt.Sprintf("The previous pack, %s (%s), could not be read: %v. evidence verify --chain on the tenant's folder says why.",
			res.previous.PackID, res.previous.Path, res.err), true)
		return
	}
	rep := res.report
	d.Paragraph(fmt.Sprintf("Compared with the tenant's previous pack %s (period %s), from both packs' controls tables: a control is one framework's control on one cloud account; failing means NonCompliant. The drift table (parquet/drift) lists each of these controls, the still failing ones with the first day they failed; evidence diff compares the inventories too.",
		res.previous.PackID, res.previous.Period.Label))
	oldest := time.Time{}
	for _, c := range rep.StillFailing {
		if oldest.IsZero() || c.FailingSince.Before(oldest) {
			oldest = c.FailingSince
		}
	}
	still := fmt.Sprint(len(rep.StillFailing))
	if !oldest.IsZero() {
		still += " (the longest failing since " + oldest.UTC().Format(time.DateOnly) + ")"
	}
	d.KeyValues([][2]string{
		{"Newly failing", fmt.Sprint(len(rep.NewlyFailing))},
		{"Newly passing", fmt.Sprint(len(rep.NewlyPassing))},
		{"Still failing", still},
		{"Other status changes", fmt.Sprint(len(rep.OtherChanges))},
	})
	var rows [][]string
	for _, l := range []struct {
		change string
		cs     []drift.Change
	}{{"Newly failing", rep.NewlyFailing}, {"Newly passing", rep.NewlyPassing}, {"Other", rep.OtherChanges}} {
		for _, c := range l.cs {
			rows = append(rows, []string{l.change, c.Framework, c.AccountID, c.ControlID, clip(c.Title, 200),
				cmp.Or(c.Was.Label(), "—"), cmp.Or(c.Status.Label(), "—")})
		}
	}
	if len(rows) == 0 {
		d.Paragraph("No control changed status.")
		return
	}
	d.Table([]pdf.Column{{Title: "Change", Width: 1}, {Title: "Framework", Width: 1.4}, {Title: "Account", Width: 1.1}, {Title: "Control", Width: 1},
		{Title: "Title", Width: 2.4}, {Title: "Was", Width: 0.9}, {Title: "Now", Width: 0.9}}, rows)
}
