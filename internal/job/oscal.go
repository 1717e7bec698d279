package job

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/oscal"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/source"
)

// The pack's OSCAL Assessment Results (pack.OSCALResults): the first pass
// over each framework's reports, the one that writes the controls and
// violations Parquet files, feeds the builder the same typed records
// (dataset.Control, dataset.Violation) with the file and row_id each row
// went to; after the other data files are stored, the builder gets every
// file with its SHA-256 and the document is streamed into the pack. The
// builder keeps the controls and a count per violations file, never the
// violations (internal/oscal).

// oscalDoc is the run's OSCAL builder and the first error feeding it. The
// document is derived evidence: a record it cannot take (a bug, or a
// source repeating a control) leaves the pack without it, with a warning,
// rather than failing the pack.
type oscalDoc struct {
	b          *oscal.Builder
	mu         sync.Mutex
	err        error
	frameworks int // added
	added      map[string]bool
	// pending counts, by name, the plan's frameworks whose first pass is
	// not over: two frameworks of one name (Lacework: one per cloud) are
	// one result, sealed once both are.
	pending map[string]int
	seals   sync.WaitGroup
	sealing sync.Mutex // one seal at a time: each holds a result's records in memory
	spills  []*os.File
	dir     string // of the spills
}

// newOSCAL starts the run's document.
func (r *run) newOSCAL() error {
	b, err := oscal.New(oscal.Pack{ID: r.id, Tenant: r.tenant.Name, Source: r.info.System, SourceName: r.info.API,
		Tool: "evidence", ToolVersion: r.deps.Build.Version, GeneratedAt: r.generatedAt()}, oscal.Options{})
	if err != nil {
		return fmt.Errorf("oscal: %w", err)
	}
	r.oscal = &oscalDoc{b: b, added: map[string]bool{}, pending: map[string]int{}, dir: r.deps.SpoolDir}
	for _, f := range r.plan.Frameworks {
		r.oscal.pending[f.Name]++
	}
	return nil
}

// oscalDone says that the framework's first pass is over: once every
// framework of its name is, its result is rendered into a spill file,
// on a goroutine of its own, while the run goes on (oscal.Builder.Seal).
// The document's end then has only to copy it: rendering the results of
// a large pack (tens of thousands of controls, hundreds of MB of JSON)
// took seconds of CPU after the run's last request. A result that cannot
// be spilled is rendered by Write instead, as before.
func (r *run) oscalDone(name string) {
	d := r.oscal
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pending[name]--; d.pending[name] > 0 || !d.added[name] {
		return
	}
	f, err := os.CreateTemp(d.dir, "oscal-result-*.json")
	if err != nil {
		r.log.Debug("oscal result rendered at the end", "framework", name, "error", err)
		return
	}
	d.spills = append(d.spills, f)
	d.seals.Go(func() {
		d.sealing.Lock()
		defer d.sealing.Unlock()
		if err := d.b.Seal(name, f); err != nil {
			r.log.Debug("oscal result rendered at the end", "framework", name, "error", err)
		}
	})
}

// close waits for the seals and removes their spill files.
func (d *oscalDoc) close() {
	d.seals.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, f := range d.spills {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
	d.spills = nil
}

func (d *oscalDoc) keep(err error) {
	if err == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.err = cmp.Or(d.err, err)
}

func (d *oscalDoc) failed() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// oscalFramework adds a framework of the pack, with the pack's period.
func (r *run) oscalFramework(name string) {
	r.oscal.mu.Lock()
	r.oscal.frameworks++
	r.oscal.added[name] = true
	r.oscal.mu.Unlock()
	r.oscal.keep(r.oscal.b.AddFramework(oscal.Framework{Name: name, Start: r.period.From, End: r.period.To}))
}

// oscalFeed is what the first pass over a sub-account's reports gives the
// builder: the Parquet files its rows go to.
type oscalFeed struct {
	doc                  *oscalDoc
	controls, violations string // pack paths
}

// control feeds a controls row and its exceptions. The exceptions become
// the control's suppressions, grouped by kind and reason, so that the
// builder makes a risk only of those the platform gives a reason for.
func (f *oscalFeed) control(sc dataset.Scope, c dataset.Control, exc []source.Exception, lapsed func(source.Exception) bool) {
	assessed, violating := c.Assessed, c.Violating
	f.doc.keep(f.doc.b.AddControl(oscal.Control{
		Framework: c.Framework, SubAccount: sc.SubAccount, Cloud: c.Cloud, AccountID: c.AccountID, AccountAlias: c.AccountAlias,
		ControlID: c.ControlID, Title: c.Title, Section: c.Category, Requirement: c.Requirement, Severity: c.Severity, Status: c.Status,
		AssessedResources: &assessed, ViolatingResources: &violating, ReportTime: c.ReportTime,
		Suppressions: suppressions(exc, lapsed), InfoLink: c.InfoLink,
		RowID: c.RowID(sc), File: f.controls,
	}))
}

// violation feeds a violations row.
func (f *oscalFeed) violation(sc dataset.Scope, v dataset.Violation) {
	f.doc.keep(f.doc.b.AddViolation(oscal.Violation{
		Framework: v.Framework, SubAccount: sc.SubAccount, AccountID: v.AccountID, ControlID: v.ControlID,
		Resource: v.Resource, Region: v.Region, Reasons: v.Reasons, RowID: v.RowID(sc), File: f.violations,
	}))
}

// suppressions groups a control's exceptions by kind and reason (the
// exceptions table's kind and reason columns), counting the resources of
// each and those lapsed before the period ended.
func suppressions(exc []source.Exception, lapsed func(source.Exception) bool) []oscal.Suppression {
	type key struct{ kind, reason string }
	groups := map[key]*oscal.Suppression{}
	var keys []key
	for _, e := range exc {
		k := key{e.Kind, e.Reason}
		g := groups[k]
		if g == nil {
			g = &oscal.Suppression{Reason: e.Reason}
			groups[k] = g
			keys = append(keys, k)
		}
		g.Resources++
		if lapsed(e) {
			g.Expired++
		}
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.reason, b.reason)) })
	out := make([]oscal.Suppression, 0, len(keys))
	for _, k := range keys {
		g := groups[k]
		g.Name = fmt.Sprintf("%s: %d resources", cmp.Or(k.kind, "exception"), g.Resources)
		out = append(out, *g)
	}
	return out
}

// writeOSCAL stores the document, its back-matter every file stored so
// far with its SHA-256. A pack without a framework result, or whose
// records the builder refused, gets a warning instead.
func (r *run) writeOSCAL(ctx context.Context) error {
	r.oscal.seals.Wait()
	r.oscal.mu.Lock()
	none := r.oscal.frameworks == 0
	r.oscal.mu.Unlock()
	if none {
		r.warn("no %s in this pack: it holds no framework report (an OSCAL assessment result is a framework's)", pack.OSCALResults)
		return nil
	}
	if err := r.oscal.failed(); err != nil {
		r.warn("no %s in this pack: %v", pack.OSCALResults, err)
		return nil
	}
	for _, f := range r.pw.Files() {
		if err := r.oscal.b.AddFile(oscal.File{Path: f.Path, SHA256: f.SHA256, Size: f.Size, MediaType: f.MediaType}); err != nil {
			r.warn("no %s in this pack: %v", pack.OSCALResults, err)
			return nil
		}
	}
	if err := r.oscal.b.Check(); err != nil {
		r.warn("no %s in this pack: %v", pack.OSCALResults, err)
		return nil
	}
	// Checked: an error now is the store's (fatal, like any other file's).
	pf := r.create(ctx, pack.OSCALResults, oscal.MediaType, false)
	if err := r.oscal.b.Write(pf); err != nil {
		pf.Fail(err)
		return fmt.Errorf("write %s: %w", pack.OSCALResults, err)
	}
	_, err := pf.Finish()
	return err
}
