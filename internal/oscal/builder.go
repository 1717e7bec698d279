// Package oscal writes a pack's compliance results as an OSCAL Assessment
// Results document (OSCAL 1.2.3), which the pipeline stores at
// pack.OSCALResults.
//
// The pipeline feeds a Builder as rows pass: the pack (New), each framework
// with its period (AddFramework), each controls row (AddControl), each
// violations row (AddViolation) and, at the end, every file of the pack
// with its SHA-256 (AddFile); then Write. Any order works except that a
// framework comes before its controls.
//
// What the document holds:
//
//   - metadata: the pack id as version and document id, the tenant, the
//     source platform and the tool with its version as properties;
//   - one result per framework: its period (start, end), the cloud
//     accounts as components (type resource-container) and the platform and
//     this tool as assessment assets, the controls seen as reviewed-controls;
//   - one observation per control result (framework × sub-account × cloud
//     account × control): method TEST, the platform and this tool as
//     origins, the cloud account as subject, and relevant-evidence naming
//     the controls row (pack file and row_id), each violations file with
//     the number of its rows for the control, and a few violations as
//     samples (resource, region, reasons, row_id);
//   - a finding per NonCompliant or Suppressed control result, its target
//     not-satisfied, related to its observation (and risk);
//   - a risk per control result with a suppression (or accepted risk) for
//     which the platform records a reason: deviation-approved, a risk-log
//     entry per reason. A suppression without a reason makes no risk: the
//     platform says the failures are excepted, not that anyone accepted
//     them, and the document claims no more (the finding and the
//     observation's suppressions property still say it is suppressed);
//   - back-matter: a resource per pack file with an rlink to its path and
//     its SHA-256; evidence references name these resources ("#uuid").
//
// Memory: the Builder holds the controls (a few thousand per pack) and, per
// control, a count per violations file and the Options.Samples violations
// with the smallest row_ids. It never holds all violations: a pack may have
// hundreds of thousands, which stay in the Parquet and XLSX files that
// the back-matter hashes and the evidence references point into (file +
// count + sample rows). A temp-file spool would put every violation in the
// document instead, making it as large as the tables it indexes, and GRC
// tools import per-control conclusions, not resource lists.
//
// Determinism: UUIDs are version 5, derived from the pack id and what the
// object is about (framework, sub-account, account, control, file), and
// everything is written in sorted order, so the same input in any order
// gives the same bytes.
package oscal

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/evidence-pack/evidence/internal/dataset"
)

// Document facts.
const (
	// MediaType is OSCAL JSON's media type.
	MediaType = "application/oscal+json"
	// Version is the OSCAL version the document conforms to (its schema is
	// in testdata).
	Version = "1.2.3"
	// NS is the namespace of this tool's properties.
	NS = "https://github.com/evidence-pack/evidence/ns/oscal"
	// DefaultSamples is the number of violations listed per control.
	DefaultSamples = 5
)

func validStatus(s dataset.Status) bool { return slices.Contains(dataset.Statuses(), s) }

// Pack describes the pack the document is about.
type Pack struct {
	ID          string    // run id, e.g. 20261122T021500Z-3f9a1c (required)
	Tenant      string    // tenant as configured (required)
	Source      string    // platform id: lacework, sophos, ibm_scc, lacework_edge (required)
	SourceName  string    // platform's display name, e.g. "Lacework"; empty means Source
	Tool        string    // this tool's name, e.g. "evidence" (required)
	ToolVersion string    // generator.version of the manifest (required)
	GeneratedAt time.Time // when the pack was made (required)
}

// Framework is one framework of the pack and its assessment period.
type Framework struct {
	Name       string
	Start, End time.Time // the pack's period: End is exclusive
}

// Suppression is one suppression (exception, accepted risk) the platform
// applied to a control result, or several that share a reason.
type Suppression struct {
	Name      string // the platform's name or id of the suppression, or its kind
	Reason    string // why, when the platform gives it
	Resources int64  // the resources it excepts; zero: the platform does not say
	Expired   int64  // of those, the exceptions that lapsed before the period ended
}

// Control is one row of the controls table.
type Control struct {
	Framework, SubAccount string
	Cloud                 string // AWS, Azure, GCP, Kubernetes
	AccountID             string
	AccountAlias          string
	ControlID, Title      string
	Section               string // framework section
	Requirement           string // the framework's own requirement id, where the platform gives it
	Severity              string
	Status                dataset.Status
	AssessedResources     *int64
	ViolatingResources    *int64
	ReportTime            time.Time // zero: unknown
	Suppressions          []Suppression
	InfoLink              string
	RowID, File           string // the controls row and the pack file that holds it
}

// Violation is one row of the violations table.
type Violation struct {
	Framework, SubAccount, AccountID, ControlID string
	Resource, Region                            string
	Reasons                                     []string
	RowID, File                                 string // the violations row and its pack file
}

// File is one file of the pack, for the back-matter.
type File struct {
	Path      string // slash-separated, relative to the pack folder
	SHA256    string // 64 lower-case hex digits
	Size      int64
	MediaType string
}

// Options tunes the document.
type Options struct {
	// Samples is the number of violations listed per control (those with
	// the smallest row_ids). Zero means DefaultSamples; negative, none.
	Samples int
}

// Builder collects a pack's results; it is safe for concurrent use.
type Builder struct {
	mu         sync.Mutex
	pack       Pack
	samples    int
	frameworks map[string]Framework
	controls   map[key]*controlAcc
	orphans    map[key]*controlAcc // violations whose control has not come (yet)
	files      map[string]File
	ns         [16]byte
	// sealed are the frameworks Seal took: no row may be added to them.
	// Those whose result was rendered ahead have it here; nil, Write
	// renders it.
	sealed map[string]*rendered
}

// rendered is a framework's result as Write writes it, spilled by Seal.
type rendered struct {
	spill io.ReadWriteSeeker
	n     int64
}

type key struct{ framework, sub, account, control string }

type controlAcc struct {
	c       *Control
	perFile map[string]int64 // violations file → rows for this control
	total   int64
	samples sampleHeap
	regions map[string]bool
}

// New starts a document for p.
func New(p Pack, opts Options) (*Builder, error) {
	var missing []string
	for _, f := range []struct{ name, v string }{{"ID", p.ID}, {"Tenant", p.Tenant}, {"Source", p.Source}, {"Tool", p.Tool}, {"ToolVersion", p.ToolVersion}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if p.GeneratedAt.IsZero() {
		missing = append(missing, "GeneratedAt")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("oscal: pack without %s", strings.Join(missing, ", "))
	}
	n := opts.Samples
	if n == 0 {
		n = DefaultSamples
	}
	if n < 0 {
		n = 0
	}
	b := &Builder{
		pack:       p,
		samples:    n,
		frameworks: map[string]Framework{},
		controls:   map[key]*controlAcc{},
		orphans:    map[key]*controlAcc{},
		files:      map[string]File{},
		sealed:     map[string]*rendered{},
	}
	b.ns = uuidV5(urlNamespace, NS+"/pack/"+p.ID)
	return b, nil
}

// AddFramework adds a framework and its period; adding it again with the
// same period is a no-op.
func (b *Builder) AddFramework(f Framework) error {
	if strings.TrimSpace(f.Name) == "" {
		return errors.New("oscal: framework without a name")
	}
	if f.Start.IsZero() || (!f.End.IsZero() && f.End.Before(f.Start)) {
		return fmt.Errorf("oscal: framework %q: period %s – %s", f.Name, f.Start, f.End)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if old, ok := b.frameworks[f.Name]; ok && (!old.Start.Equal(f.Start) || !old.End.Equal(f.End)) {
		return fmt.Errorf("oscal: framework %q added twice with different periods", f.Name)
	}
	b.frameworks[f.Name] = f
	return nil
}

// AddControl adds a controls row; its framework must have been added.
func (b *Builder) AddControl(c Control) error {
	if c.ControlID == "" {
		return fmt.Errorf("oscal: controls row %s without a control id", c.RowID)
	}
	if !validStatus(c.Status) {
		return fmt.Errorf("oscal: control %s: unknown status %q", c.ControlID, c.Status)
	}
	if c.RowID == "" || c.File == "" {
		return fmt.Errorf("oscal: control %s: no row_id or file", c.ControlID)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.frameworks[c.Framework]; !ok {
		return fmt.Errorf("oscal: control %s: framework %q was not added", c.ControlID, c.Framework)
	}
	if _, ok := b.sealed[c.Framework]; ok {
		return fmt.Errorf("oscal: control %s: framework %q was sealed", c.ControlID, c.Framework)
	}
	k := key{c.Framework, c.SubAccount, c.AccountID, c.ControlID}
	if _, ok := b.controls[k]; ok {
		return fmt.Errorf("oscal: control %s of %s/%s/%s added twice", c.ControlID, c.Framework, c.SubAccount, c.AccountID)
	}
	c.Suppressions = slices.Clone(c.Suppressions)
	acc := b.orphans[k]
	if acc == nil {
		acc = newAcc()
	}
	delete(b.orphans, k)
	acc.c = &c
	b.controls[k] = acc
	return nil
}

func newAcc() *controlAcc {
	return &controlAcc{perFile: map[string]int64{}, regions: map[string]bool{}}
}

// AddViolation adds a violations row. Its control may come later.
func (b *Builder) AddViolation(v Violation) error {
	if v.RowID == "" || v.File == "" {
		return fmt.Errorf("oscal: violation of %s on %s: no row_id or file", v.ControlID, v.Resource)
	}
	k := key{v.Framework, v.SubAccount, v.AccountID, v.ControlID}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.sealed[v.Framework]; ok {
		return fmt.Errorf("oscal: violation of %s on %s: framework %q was sealed", v.ControlID, v.Resource, v.Framework)
	}
	acc := b.controls[k]
	if acc == nil {
		if acc = b.orphans[k]; acc == nil {
			acc = newAcc()
			b.orphans[k] = acc
		}
	}
	acc.perFile[v.File]++
	acc.total++
	if v.Region != "" && len(acc.regions) < 64 {
		acc.regions[v.Region] = true
	}
	if b.samples > 0 {
		v.Reasons = slices.Clone(v.Reasons)
		if acc.samples.Len() < b.samples {
			heap.Push(&acc.samples, v)
		} else if v.RowID < acc.samples[0].RowID {
			acc.samples[0] = v
			heap.Fix(&acc.samples, 0)
		}
	}
	return nil
}

// AddFile adds a file of the pack to the back-matter.
func (b *Builder) AddFile(f File) error {
	if f.Path == "" || path.IsAbs(f.Path) || strings.HasPrefix(path.Clean(f.Path), "..") {
		return fmt.Errorf("oscal: file path %q", f.Path)
	}
	if len(f.SHA256) != 64 || strings.Trim(f.SHA256, "0123456789abcdef") != "" {
		return fmt.Errorf("oscal: file %s: SHA-256 %q is not 64 lower-case hex digits", f.Path, f.SHA256)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if old, ok := b.files[f.Path]; ok && old != f {
		return fmt.Errorf("oscal: file %s added twice, differently", f.Path)
	}
	b.files[f.Path] = f
	return nil
}

// sampleHeap is a max-heap on row_id: the root is the largest of the
// smallest row_ids kept.
type sampleHeap []Violation

func (h sampleHeap) Len() int           { return len(h) }
func (h sampleHeap) Less(i, j int) bool { return h[i].RowID > h[j].RowID }
func (h sampleHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *sampleHeap) Push(x any)        { *h = append(*h, x.(Violation)) }
func (h *sampleHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}

// Check reports what would make Write fail before it writes anything: a
// violation names a control that was never added, evidence names a file
// that was not added, or there is no framework (OSCAL needs a result).
func (b *Builder) Check() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.check()
}

func (b *Builder) check() error {
	if len(b.orphans) > 0 {
		ks := sortedKeys(b.orphans)
		k := ks[0]
		return fmt.Errorf("oscal: %d violations rows name %d controls that were not added, e.g. %s of %s/%s/%s", sumTotals(b.orphans), len(ks), k.control, k.framework, k.sub, k.account)
	}
	if len(b.frameworks) == 0 {
		return errors.New("oscal: no framework: OSCAL needs at least one result")
	}
	for _, acc := range b.controls {
		need := append([]string{acc.c.File}, mapKeys(acc.perFile)...)
		for _, f := range need {
			if _, ok := b.files[f]; !ok {
				return fmt.Errorf("oscal: evidence names %s, which was not added as a file", f)
			}
		}
	}
	return nil
}

// Seal renders the framework's result now, as Write would, into spill,
// which Write then copies instead of rendering it again: a pack's
// frameworks can be rendered as each is complete, while the pipeline
// collects the next, and not all at its end. Every control and violation
// of the framework must have been added: adding one after is an error.
// When Seal fails, Write renders the result itself. The builder's lock is
// held while the result is gathered, not while it is marshalled.
func (b *Builder) Seal(name string, spill io.ReadWriteSeeker) error {
	b.mu.Lock()
	fw, ok := b.frameworks[name]
	if _, done := b.sealed[name]; !ok || done {
		b.mu.Unlock()
		return fmt.Errorf("oscal: seal %q: not added, or sealed already", name)
	}
	b.sealed[name] = nil
	r := b.result(fw)
	b.mu.Unlock()
	if err := writeResult(spill, r, resultIndent); err != nil {
		return fmt.Errorf("oscal: seal %q: %w", name, err)
	}
	// Write copies the result from the spill's start: its length is where
	// writing it left the spill.
	n, err := spill.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("oscal: seal %q: %w", name, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sealed[name] = &rendered{spill: spill, n: n}
	return nil
}

// resultIndent is the prefix of a result's lines in the document.
const resultIndent = "      "

// writeResult writes r as json.MarshalIndent(r, pre, "  ") would, its
// observations, risks and findings an element at a time: a large
// framework's result is tens to hundreds of MB of JSON (44 MB for 2,000
// accounts of 5 controls), which marshalling whole held in memory twice
// over (compact, then indented).
func writeResult(w io.Writer, r result, pre string) error {
	obs, risks, finds := r.Observations, r.Risks, r.Findings
	if r.Remarks != "" || len(obs)+len(risks)+len(finds) == 0 {
		// The arrays are not the last fields: marshalled whole.
		j, err := json.MarshalIndent(r, pre, "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(j)
		return err
	}
	r.Observations, r.Risks, r.Findings = nil, nil, nil
	head, err := json.MarshalIndent(r, pre, "  ")
	if err != nil {
		return err
	}
	// head ends "\n" + pre + "}": the arrays go before it.
	end := "\n" + pre + "}"
	if !bytes.HasSuffix(head, []byte(end)) {
		return errors.New("oscal: internal: a result does not end as marshalled")
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head[:len(head)-len(end)])
	array := func(name string, n int, el func(int) any) error {
		if n == 0 {
			return nil
		}
		bw.WriteString(",\n" + pre + "  \"" + name + "\": [")
		for i := range n {
			if i > 0 {
				bw.WriteString(",")
			}
			bw.WriteString("\n" + pre + "    ")
			j, err := json.MarshalIndent(el(i), pre+"    ", "  ")
			if err != nil {
				return err
			}
			bw.Write(j)
		}
		bw.WriteString("\n" + pre + "  ]")
		return nil
	}
	if err := array("observations", len(obs), func(i int) any { return obs[i] }); err != nil {
		return err
	}
	if err := array("risks", len(risks), func(i int) any { return risks[i] }); err != nil {
		return err
	}
	if err := array("findings", len(finds), func(i int) any { return finds[i] }); err != nil {
		return err
	}
	bw.WriteString(end)
	return bw.Flush()
}

// Write writes the document. It fails, writing nothing, when Check does;
// any other error is w's, or a sealed result's spill's.
func (b *Builder) Write(w io.Writer) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.check(); err != nil {
		return err
	}

	buf := bufio.NewWriterSize(w, 64<<10)
	doc := assessmentResults{
		UUID:     b.uuid("document"),
		Metadata: b.metadata(),
		ImportAP: importAP{
			Href:    "#" + b.uuid("assessment-plan"),
			Remarks: "There is no OSCAL assessment plan: " + b.sourceName() + " assessed the frameworks with its own built-in checks; the referenced resource describes that plan.",
		},
	}
	// Write the document piece by piece: a result at a time.
	head, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	// head ends with `"results": null\n}`; cut there and write the results.
	cut := bytes.LastIndex(head, []byte(`"results": null`))
	if cut < 0 {
		return errors.New("oscal: internal: no results placeholder")
	}
	buf.WriteString("{\n  \"assessment-results\": ")
	buf.Write(indent(head[:cut], "  "))
	buf.WriteString("\"results\": [")
	for i, fw := range sortedFrameworks(b.frameworks) {
		if i > 0 {
			buf.WriteString(",")
		}
		buf.WriteString("\n      ")
		if s := b.sealed[fw.Name]; s != nil {
			if _, err := s.spill.Seek(0, io.SeekStart); err != nil {
				return fmt.Errorf("oscal: result %q: %w", fw.Name, err)
			}
			if _, err := io.CopyN(buf, s.spill, s.n); err != nil {
				return fmt.Errorf("oscal: result %q: %w", fw.Name, err)
			}
			continue
		}
		if err := writeResult(buf, b.result(fw), resultIndent); err != nil {
			return err
		}
	}
	buf.WriteString("\n    ],\n    \"back-matter\": ")
	bm, err := json.MarshalIndent(b.backMatter(), "    ", "  ")
	if err != nil {
		return err
	}
	buf.Write(bm)
	buf.WriteString("\n  }\n}\n")
	return buf.Flush()
}

// indent re-indents a marshalled object's opening part (which starts at
// column 0) for nesting one level deeper.
func indent(b []byte, pre string) []byte {
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\n"+pre))
}

func (b *Builder) sourceName() string { return cmp.Or(b.pack.SourceName, b.pack.Source) }

func (b *Builder) metadata() metadata {
	p := b.pack
	return metadata{
		Title:        line(fmt.Sprintf("Assessment results: %s compliance evidence for %s (pack %s)", b.sourceName(), p.Tenant, p.ID)),
		Published:    stamp(p.GeneratedAt),
		LastModified: stamp(p.GeneratedAt),
		Version:      line(p.ID),
		OSCALVersion: Version,
		DocumentIDs:  []documentID{{Scheme: NS + "/pack-id", Identifier: line(p.ID)}},
		Props: props(
			"tenant", p.Tenant,
			"source-platform", p.Source,
			"generator", p.Tool,
			"generator-version", p.ToolVersion,
		),
		Roles:       []role{{ID: "assessor", Title: "Assessor"}, {ID: "assessment-customer", Title: "Assessment customer"}},
		Parties:     []party{{UUID: b.uuid("party", "tenant"), Type: "organization", Name: line(p.Tenant)}, {UUID: b.uuid("party", "platform"), Type: "organization", Name: line(b.sourceName())}},
		RespParties: []respParty{{RoleID: "assessor", PartyUUIDs: []string{b.uuid("party", "platform")}}, {RoleID: "assessment-customer", PartyUUIDs: []string{b.uuid("party", "tenant")}}},
		Remarks:     fmt.Sprintf("Generated by %s %s from the data of evidence pack %s. The pack's files are listed in the back-matter with their SHA-256; evidence references point to them and to rows by row_id.", p.Tool, p.ToolVersion, p.ID),
	}
}

func (b *Builder) result(fw Framework) result {
	p := b.pack
	var ctrls []*controlAcc
	for k, acc := range b.controls {
		if k.framework == fw.Name {
			ctrls = append(ctrls, acc)
		}
	}
	slices.SortFunc(ctrls, func(x, y *controlAcc) int {
		return cmp.Or(cmp.Compare(x.c.SubAccount, y.c.SubAccount), cmp.Compare(x.c.AccountID, y.c.AccountID), dataset.CompareIDs(x.c.ControlID, y.c.ControlID))
	})

	platformUUID := b.uuid("component", "platform")
	toolUUID := b.uuid("component", "tool")
	origins := []origin{{Actors: []actor{{Type: "tool", ActorUUID: platformUUID}, {Type: "tool", ActorUUID: toolUUID}}}}

	r := result{
		UUID:        b.uuid("result", fw.Name),
		Title:       line(fw.Name),
		Description: fmt.Sprintf("%s's assessment of %s for tenant %s, collected by %s %s into evidence pack %s.", b.sourceName(), fw.Name, p.Tenant, p.Tool, p.ToolVersion, p.ID),
		Start:       stamp(fw.Start),
		Props:       props("framework", fw.Name),
	}
	if !fw.End.IsZero() {
		r.End = stamp(fw.End)
	}
	ld := &localDefs{AssessmentAssets: &assessmentAssets{
		Components: []component{
			{UUID: platformUUID, Type: "service", Title: line(b.sourceName()), Description: fmt.Sprintf("%s, the cloud security platform that evaluated the controls.", b.sourceName()), Props: props("source-platform", p.Source), Status: componentStatus{"operational"}},
			{UUID: toolUUID, Type: "software", Title: line(p.Tool + " " + p.ToolVersion), Description: fmt.Sprintf("%s, which collected the platform's results into the evidence pack and wrote this document.", p.Tool), Props: props("version", p.ToolVersion), Status: componentStatus{"operational"}},
		},
		Platforms: []platform{{UUID: b.uuid("assessment-platform"), Title: line(b.sourceName() + " via " + p.Tool), UsesComponents: []usesComponent{{platformUUID}, {toolUUID}}}},
	}}

	seenAcct := map[[2]string]bool{}
	var ids []string
	seenID := map[string]bool{}
	for _, acc := range ctrls {
		c := acc.c
		ak := [2]string{c.SubAccount, c.AccountID}
		if !seenAcct[ak] {
			seenAcct[ak] = true
			ld.Components = append(ld.Components, b.accountComponent(c))
		}
		if t := Token(c.ControlID); !seenID[t] {
			seenID[t] = true
			ids = append(ids, t)
		}
	}
	r.LocalDefinitions = ld
	slices.SortFunc(ids, dataset.CompareIDs)
	if len(ids) == 0 {
		r.ReviewedControls = reviewedControls{
			Description:       "The pack holds no control results for this framework.",
			ControlSelections: []controlSelection{{IncludeAll: &struct{}{}}},
		}
	} else {
		sel := controlSelection{Description: fmt.Sprintf("The controls of %s that %s reported on.", fw.Name, b.sourceName())}
		for _, id := range ids {
			sel.IncludeControls = append(sel.IncludeControls, selectControl{id})
		}
		r.ReviewedControls = reviewedControls{
			Description:       "Control ids are the platform's, made into OSCAL tokens (anything but letters, digits, '.', '-' and '_' becomes '_', and '_' goes before a leading digit); the exact id is the observation's control-id property.",
			ControlSelections: []controlSelection{sel},
		}
	}

	for _, acc := range ctrls {
		obs := b.observation(acc, origins)
		r.Observations = append(r.Observations, obs)
		c := acc.c
		var riskUUID string
		if hasReason(c.Suppressions) {
			rk := b.risk(acc, obs.UUID, origins)
			riskUUID = rk.UUID
			r.Risks = append(r.Risks, rk)
		}
		if c.Status == dataset.NonCompliant || c.Status == dataset.Suppressed {
			r.Findings = append(r.Findings, b.finding(acc, obs.UUID, riskUUID, origins))
		}
	}
	return r
}

func (b *Builder) accountComponent(c *Control) component {
	title := fmt.Sprintf("%s account %s", cmp.Or(c.Cloud, "cloud"), c.AccountID)
	if c.AccountAlias != "" {
		title += " (" + c.AccountAlias + ")"
	}
	return component{
		UUID:        b.uuid("account", c.Framework, c.SubAccount, c.AccountID),
		Type:        "resource-container",
		Title:       line(title),
		Description: fmt.Sprintf("%s, in sub-account %s of tenant %s: the scope of the platform's compliance report.", title, cmp.Or(c.SubAccount, "(none)"), b.pack.Tenant),
		Props:       props("cloud", c.Cloud, "account-id", c.AccountID, "account-alias", c.AccountAlias, "sub-account", c.SubAccount),
		Status:      componentStatus{"operational"},
	}
}

func (b *Builder) observation(acc *controlAcc, origins []origin) observation {
	c := acc.c
	o := observation{
		UUID:      b.uuid("observation", c.Framework, c.SubAccount, c.AccountID, c.ControlID),
		Title:     line(c.ControlID + " " + c.Title),
		Methods:   []string{"TEST"},
		Origins:   origins,
		Collected: stamp(cmp.Or(c.ReportTime, b.pack.GeneratedAt)),
		Subjects: []subject{{
			SubjectUUID: b.uuid("account", c.Framework, c.SubAccount, c.AccountID),
			Type:        "component",
			Title:       line(cmp.Or(c.Cloud, "cloud") + " account " + c.AccountID),
		}},
	}
	if c.Status == dataset.NonCompliant || c.Status == dataset.Suppressed {
		o.Types = []string{"finding"}
	}
	desc := fmt.Sprintf("%s evaluated control %s (%s) of %s on %s account %s: **%s**.", b.sourceName(), c.ControlID, cmp.Or(c.Title, "untitled"), c.Framework, cmp.Or(c.Cloud, "cloud"), c.AccountID, c.Status)
	if c.AssessedResources != nil && c.ViolatingResources != nil {
		desc += fmt.Sprintf(" %d of %d assessed resources violate it.", *c.ViolatingResources, *c.AssessedResources)
	} else if c.ViolatingResources != nil {
		desc += fmt.Sprintf(" %d resources violate it.", *c.ViolatingResources)
	}
	if c.ReportTime.IsZero() {
		desc += " The platform gives no report time; collected is when the pack was made."
	}
	o.Description = desc
	o.Props = props(
		"control-id", c.ControlID,
		"status", string(c.Status),
		"severity", c.Severity,
		"section", c.Section,
		"requirement-id", c.Requirement,
		"assessed-resources", intp(c.AssessedResources),
		"violating-resources", intp(c.ViolatingResources),
		"violations-rows", strconv.FormatInt(acc.total, 10),
		"sub-account", c.SubAccount,
		"account-id", c.AccountID,
		"cloud", c.Cloud,
	)
	var supp []string
	for _, s := range c.Suppressions {
		if s.Name != "" {
			supp = append(supp, s.Name)
		}
	}
	o.Props = append(o.Props, props("suppressions", strings.Join(supp, "; "))...)
	if acc.total > 0 && len(acc.regions) > 0 {
		rs := mapKeys(acc.regions)
		o.Props = append(o.Props, props("regions", strings.Join(rs, ", "))...)
	}
	o.RelevantEvidence = append(o.RelevantEvidence, relevantEvidence{
		Href:        "#" + b.fileUUID(c.File),
		Description: fmt.Sprintf("The controls row of this result: row_id %s in %s.", c.RowID, c.File),
		Props:       props("pack-file", c.File, "row-id", c.RowID, "table", "controls"),
	})
	for _, f := range mapKeys(acc.perFile) {
		n := acc.perFile[f]
		o.RelevantEvidence = append(o.RelevantEvidence, relevantEvidence{
			Href:        "#" + b.fileUUID(f),
			Description: fmt.Sprintf("%d rows of %s (violations table) are this control's violations on this account: one per violating resource.", n, f),
			Props:       props("pack-file", f, "table", "violations", "rows", strconv.FormatInt(n, 10)),
		})
	}
	samples := slices.Clone(acc.samples)
	slices.SortFunc(samples, func(x, y Violation) int { return cmp.Compare(x.RowID, y.RowID) })
	for _, v := range samples {
		d := fmt.Sprintf("Violating resource %s", cmp.Or(v.Resource, "(unnamed)"))
		if v.Region != "" {
			d += " in " + v.Region
		}
		d += ": row_id " + v.RowID + " in " + v.File + "."
		if len(v.Reasons) > 0 {
			d += " Reasons: " + strings.Join(v.Reasons, "; ") + "."
		}
		o.RelevantEvidence = append(o.RelevantEvidence, relevantEvidence{
			Href:        "#" + b.fileUUID(v.File),
			Description: d,
			Props:       props("pack-file", v.File, "row-id", v.RowID, "table", "violations", "resource", v.Resource, "region", v.Region),
		})
	}
	if int64(len(samples)) < acc.total {
		o.Remarks = fmt.Sprintf("%d of the %d violations are listed (the smallest row_ids); all are in the violations files above.", len(samples), acc.total)
	}
	if c.ViolatingResources != nil && *c.ViolatingResources != acc.total {
		o.Remarks = strings.TrimSpace(o.Remarks + fmt.Sprintf(" The platform counts %d violating resources; the pack holds %d violations rows for this control.", *c.ViolatingResources, acc.total))
	}
	return o
}

// hasReason reports whether the platform gives a reason for any of ss.
func hasReason(ss []Suppression) bool {
	return slices.ContainsFunc(ss, func(s Suppression) bool { return strings.TrimSpace(s.Reason) != "" })
}

// risk is the accepted risk of a control result whose suppressions the
// platform gives a reason for (hasReason): one risk-log entry per
// suppression with a reason.
func (b *Builder) risk(acc *controlAcc, obsUUID string, origins []origin) risk {
	c := acc.c
	rk := risk{
		UUID:        b.uuid("risk", c.Framework, c.SubAccount, c.AccountID, c.ControlID),
		Title:       line("Excepted: " + c.ControlID + " " + c.Title),
		Description: fmt.Sprintf("%s excepts failures of control %s of %s on %s account %s from its result.", b.sourceName(), c.ControlID, c.Framework, cmp.Or(c.Cloud, "cloud"), c.AccountID),
		Statement:   fmt.Sprintf("Resources that violate %s are excepted from the result (suppressed or risk accepted); the failures they cover are accepted rather than remediated.", c.ControlID),
		Status:      "deviation-approved",
		Origins:     origins,
		RelatedObs:  []related{{obsUUID}},
		Props:       props("control-id", c.ControlID, "status", string(c.Status)),
	}
	var names, reasons []string
	var log riskLog
	var unexplained int
	for i, s := range c.Suppressions {
		if s.Name != "" {
			names = append(names, s.Name)
		}
		if strings.TrimSpace(s.Reason) == "" {
			unexplained++
			continue
		}
		reasons = append(reasons, s.Reason)
		d := s.Reason
		if s.Resources > 0 {
			d += fmt.Sprintf(" (%d resources", s.Resources)
			if s.Expired > 0 {
				d += fmt.Sprintf(", %d of them lapsed before the period ended", s.Expired)
			}
			d += ")"
		}
		log.Entries = append(log.Entries, riskLogEntry{
			UUID:         b.uuid("risk-log", c.Framework, c.SubAccount, c.AccountID, c.ControlID, strconv.Itoa(i)),
			Title:        line("Exception " + cmp.Or(s.Name, strconv.Itoa(i+1)) + " accepted"),
			Description:  d,
			Start:        stamp(cmp.Or(c.ReportTime, b.pack.GeneratedAt)),
			StatusChange: "deviation-approved",
		})
	}
	if len(names) > 0 {
		rk.Props = append(rk.Props, props("suppressions", strings.Join(names, "; "))...)
	}
	rk.RiskLog = &log
	rk.Description += " Accepted, for the reason(s) the platform records: " + strings.Join(reasons, "; ") + "."
	if unexplained > 0 {
		rk.Description += fmt.Sprintf(" %d other exception(s) of this result have no reason recorded; no acceptance is claimed for them.", unexplained)
	}
	return rk
}

func (b *Builder) finding(acc *controlAcc, obsUUID, riskUUID string, origins []origin) finding {
	c := acc.c
	f := finding{
		UUID:        b.uuid("finding", c.Framework, c.SubAccount, c.AccountID, c.ControlID),
		Title:       line(c.ControlID + " " + c.Title + " is not satisfied"),
		Description: fmt.Sprintf("Control %s of %s is not satisfied on %s account %s (%s): %d violations.", c.ControlID, c.Framework, cmp.Or(c.Cloud, "cloud"), c.AccountID, c.Status, acc.total),
		Props:       props("control-id", c.ControlID, "severity", c.Severity, "status", string(c.Status)),
		Origins:     origins,
		Target: target{
			Type:     "objective-id",
			TargetID: Token(c.ControlID),
			Title:    line(c.Title),
			Status:   targetStatus{State: "not-satisfied", Reason: "fail"},
		},
		RelatedObs: []related{{obsUUID}},
	}
	if c.Status == dataset.Suppressed {
		f.Target.Status.Reason = "other"
		f.Remarks = "The platform suppresses this control's violations"
		if riskUUID != "" {
			f.Remarks += "; see the related risk for the reason it records."
		} else {
			f.Remarks += " and records no reason for it, so no risk acceptance is claimed."
		}
	}
	if riskUUID != "" {
		f.RelatedRisks = []relatedRisk{{riskUUID}}
	}
	return f
}

func (b *Builder) backMatter() *backMatter {
	bm := &backMatter{}
	bm.Resources = append(bm.Resources, resource{
		UUID:        b.uuid("assessment-plan"),
		Title:       line(b.sourceName() + " built-in compliance assessment"),
		Description: fmt.Sprintf("The assessment plan: %s evaluates each framework's controls against the cloud accounts it monitors, on its own schedule. No OSCAL plan exists; the frameworks and controls assessed are each result's reviewed-controls.", b.sourceName()),
	})
	for _, p := range sortedStrings(mapKeys(b.files)) {
		f := b.files[p]
		rl := rlink{Href: p, MediaType: f.MediaType, Hashes: []hash{{Algorithm: "SHA-256", Value: f.SHA256}}}
		bm.Resources = append(bm.Resources, resource{
			UUID:   b.fileUUID(p),
			Title:  line(p),
			Props:  props("pack-file", p, "size", strconv.FormatInt(f.Size, 10)),
			RLinks: []rlink{rl},
		})
	}
	return bm
}

func (b *Builder) fileUUID(p string) string { return b.uuid("file", p) }

// uuid is a version 5 UUID of the pack and the parts.
func (b *Builder) uuid(parts ...string) string {
	var s strings.Builder
	for _, p := range parts {
		fmt.Fprintf(&s, "%d:%s", len(p), p)
	}
	u := uuidV5(b.ns, s.String())
	return formatUUID(u)
}

// urlNamespace is RFC 4122's namespace for URLs.
var urlNamespace = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

func uuidV5(ns [16]byte, name string) [16]byte {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return u
}

func formatUUID(u [16]byte) string {
	const hx = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hx[c>>4], hx[c&15])
	}
	return string(out)
}

// Token makes a control id an OSCAL token (letters, digits, '.', '-', '_',
// not starting with a digit, '.' or '-'): other characters become '_', and
// '_' goes before a leading character that may not start a token.
func Token(id string) string {
	var s strings.Builder
	for _, r := range id {
		if unicode.IsLetter(r) || unicode.IsNumber(r) || r == '.' || r == '-' || r == '_' {
			s.WriteRune(r)
		} else {
			s.WriteRune('_')
		}
	}
	t := s.String()
	if r := []rune(t); len(r) == 0 || !(unicode.IsLetter(r[0]) || r[0] == '_') {
		t = "_" + t
	}
	return t
}

// stamp is an OSCAL date-time: UTC, whole seconds (a pack's times are
// read at second precision; fractions would only differ between runs).
func stamp(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

// line makes s one line without surrounding blanks (OSCAL's markup-line
// and string types).
func line(s string) string { return strings.Join(strings.Fields(s), " ") }

// props makes name/value pairs properties in NS, dropping empty values.
func props(kv ...string) []prop {
	var ps []prop
	for i := 0; i+1 < len(kv); i += 2 {
		if v := line(kv[i+1]); v != "" {
			ps = append(ps, prop{Name: kv[i], NS: NS, Value: v})
		}
	}
	return ps
}

func intp(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

func mapKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func sortedStrings(s []string) []string { slices.Sort(s); return s }

func sortedFrameworks(m map[string]Framework) []Framework {
	var fs []Framework
	for _, k := range mapKeys(m) {
		fs = append(fs, m[k])
	}
	return fs
}

func sortedKeys(m map[key]*controlAcc) []key {
	ks := make([]key, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(x, y key) int {
		return cmp.Or(cmp.Compare(x.framework, y.framework), cmp.Compare(x.sub, y.sub), cmp.Compare(x.account, y.account), cmp.Compare(x.control, y.control))
	})
	return ks
}

func sumTotals(m map[key]*controlAcc) int64 {
	var n int64
	for _, a := range m {
		n += a.total
	}
	return n
}
