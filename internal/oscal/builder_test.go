package oscal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/evidence-pack/evidence/internal/dataset"
)

const schemaFile = "testdata/oscal_complete_schema-1.2.3.json"

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// oscalSchema compiles NIST's OSCAL 1.2.3 complete JSON schema (see
// testdata/README.md), with format assertions on.
func oscalSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		f, err := os.Open(schemaFile)
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		const url = "http://csrc.nist.gov/ns/oscal/1.0/1.2.3/oscal-complete-schema.json"
		if schemaErr = c.AddResource(url, doc); schemaErr != nil {
			return
		}
		schema, schemaErr = c.Compile(url)
	})
	if schemaErr != nil {
		t.Fatalf("schema: %v", schemaErr)
	}
	return schema
}

func validate(t *testing.T, b []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	return oscalSchema(t).Validate(v)
}

var (
	day  = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	pack = Pack{ID: "20261122T021500Z-3f9a1c", Tenant: "acme", Source: "lacework", SourceName: "Lacework", Tool: "evidence", ToolVersion: "1.4.0", GeneratedAt: day.Add(26*time.Hour + 15*time.Minute + 123*time.Millisecond)}
)

func i64(n int64) *int64 { return &n }

const cis = "CIS Amazon Web Services Foundations Benchmark v1.4.0"

// input is what a pipeline would feed: frameworks, controls, violations,
// files.
type input struct {
	frameworks []Framework
	controls   []Control
	violations []Violation
	files      []File
}

func sha(s string) string {
	var b strings.Builder
	for b.Len() < 64 {
		fmt.Fprintf(&b, "%x", s)
	}
	return b.String()[:64]
}

func ctrlFile(fw, sub string) string {
	return "parquet/controls/account=" + sub + "/framework-" + Token(fw) + ".parquet"
}
func violFile(fw, sub string) string {
	return "parquet/violations/account=" + sub + "/framework-" + Token(fw) + ".parquet"
}

// sample builds an input: every status, suppressions with and without a
// reason, ids that are not OSCAL tokens, several accounts and frameworks.
func sample(violationsPer int) input {
	in := input{frameworks: []Framework{
		{Name: cis, Start: day, End: day.Add(24 * time.Hour)},
		{Name: "SOC 2", Start: day, End: day.Add(24 * time.Hour)},
		{Name: "Empty framework", Start: day},
	}}
	statuses := []dataset.Status{dataset.Compliant, dataset.NonCompliant, dataset.Suppressed, dataset.CouldNotAssess, dataset.Manual, dataset.NonCompliant}
	ids := []string{"1.1", "1.10", "1.2", "lacework-global-34", "CC 6.1 (a)", "2.1.1"}
	files := map[string]bool{}
	for _, fw := range []string{cis, "SOC 2"} {
		for _, sub := range []string{"acme-prod", "acme dev"} {
			for _, acct := range []string{"123456789012", "210987654321"} {
				for i, id := range ids {
					st := statuses[i]
					c := Control{
						Framework: fw, SubAccount: sub, Cloud: "AWS", AccountID: acct, AccountAlias: "alias " + acct[:3],
						ControlID: id, Title: "Ensure something " + id + "\nover two lines", Section: "Identity and Access Management", Requirement: "1",
						Severity: "High", Status: st, AssessedResources: i64(10), ReportTime: day.Add(3*time.Hour + 500*time.Millisecond),
						InfoLink: "https://example.com/" + id,
						RowID:    fmt.Sprintf("%032x", len(in.controls)+1), File: ctrlFile(fw, sub),
					}
					files[c.File] = true
					nv := 0
					if st == dataset.NonCompliant || st == dataset.Suppressed {
						nv = violationsPer
					}
					c.ViolatingResources = i64(int64(nv))
					switch {
					case st == dataset.Suppressed && acct == "123456789012":
						c.Suppressions = []Suppression{{Name: "legacy-bucket", Reason: "Approved by CISO until 2027-01-01"}, {Name: "no-reason"}}
					case st == dataset.Suppressed:
						c.Suppressions = []Suppression{{Name: "tmp"}}
					}
					in.controls = append(in.controls, c)
					for v := range nv {
						vf := violFile(fw, sub)
						if v%2 == 1 {
							vf = strings.Replace(vf, ".parquet", "-2.parquet", 1)
						}
						files[vf] = true
						in.violations = append(in.violations, Violation{
							Framework: fw, SubAccount: sub, AccountID: acct, ControlID: id,
							Resource: fmt.Sprintf("arn:aws:s3:::bucket-%d", v), Region: []string{"us-east-1", "eu-west-1", ""}[v%3],
							Reasons: []string{"public read", "no encryption"}[:1+v%2],
							RowID:   fmt.Sprintf("%032x", 1<<20+len(in.violations)), File: vf,
						})
					}
				}
			}
		}
	}
	files["summary.pdf"] = true
	for f := range files {
		in.files = append(in.files, File{Path: f, SHA256: sha(f), Size: int64(len(f)), MediaType: "application/vnd.apache.parquet"})
	}
	return in
}

func build(t testing.TB, p Pack, opts Options, in input, shuffle *rand.Rand) ([]byte, error) {
	b, err := New(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	var steps []func() error
	for _, f := range in.frameworks {
		if err := b.AddFramework(f); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range in.controls {
		steps = append(steps, func() error { return b.AddControl(c) })
	}
	for _, v := range in.violations {
		steps = append(steps, func() error { return b.AddViolation(v) })
	}
	for _, f := range in.files {
		steps = append(steps, func() error { return b.AddFile(f) })
	}
	if shuffle != nil {
		shuffle.Shuffle(len(steps), func(i, j int) { steps[i], steps[j] = steps[j], steps[i] })
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, err
		}
	}
	var out bytes.Buffer
	err = b.Write(&out)
	return out.Bytes(), err
}

// TestSchemaValid: documents of several shapes validate against NIST's
// schema, and the counts and references in them match what was fed.
func TestSchemaValid(t *testing.T) {
	cases := []struct {
		name    string
		in      input
		opts    Options
		samples int // violations listed per control with violations
	}{
		{"three violations, default samples", sample(3), Options{}, 3},
		{"many violations, two samples", sample(40), Options{Samples: 2}, 2},
		{"no samples", sample(4), Options{Samples: -1}, 0},
		{"no violations at all", sample(0), Options{}, 0},
		{"framework without controls", input{frameworks: []Framework{{Name: "Empty", Start: day}}}, Options{}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := build(t, pack, tc.opts, tc.in, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(t, out); err != nil {
				t.Fatalf("invalid OSCAL: %v", err)
			}
			checkDocument(t, out, tc.in, tc.samples)
		})
	}
}

// checkDocument checks what the schema cannot: counts, references, UUIDs.
func checkDocument(t *testing.T, out []byte, in input, samples int) {
	t.Helper()
	var doc struct {
		AR struct {
			UUID     string `json:"uuid"`
			Metadata struct {
				Version      string `json:"version"`
				OSCALVersion string `json:"oscal-version"`
			} `json:"metadata"`
			ImportAP struct{ Href string } `json:"import-ap"`
			Results  []struct {
				UUID             string `json:"uuid"`
				Title            string `json:"title"`
				Start, End       string
				LocalDefinitions struct {
					Components []struct{ UUID, Type string } `json:"components"`
					Assets     struct {
						Components []struct{ UUID, Type string } `json:"components"`
					} `json:"assessment-assets"`
				} `json:"local-definitions"`
				ReviewedControls struct {
					ControlSelections []struct {
						IncludeControls []struct {
							ControlID string `json:"control-id"`
						} `json:"include-controls"`
					} `json:"control-selections"`
				} `json:"reviewed-controls"`
				Observations []struct {
					UUID    string   `json:"uuid"`
					Methods []string `json:"methods"`
					Props   []prop   `json:"props"`
					Origins []struct {
						Actors []struct {
							Type      string `json:"type"`
							ActorUUID string `json:"actor-uuid"`
						} `json:"actors"`
					} `json:"origins"`
					Subjects []struct {
						SubjectUUID string `json:"subject-uuid"`
					} `json:"subjects"`
					RelevantEvidence []struct {
						Href  string `json:"href"`
						Props []prop `json:"props"`
					} `json:"relevant-evidence"`
					Collected string `json:"collected"`
				} `json:"observations"`
				Risks []struct {
					UUID    string `json:"uuid"`
					Status  string `json:"status"`
					RiskLog *struct {
						Entries []struct {
							Description string `json:"description"`
						} `json:"entries"`
					} `json:"risk-log"`
					RelatedObs []struct {
						ObservationUUID string `json:"observation-uuid"`
					} `json:"related-observations"`
				} `json:"risks"`
				Findings []struct {
					UUID   string `json:"uuid"`
					Target struct {
						TargetID string `json:"target-id"`
						Status   struct{ State string }
					} `json:"target"`
					RelatedObs []struct {
						ObservationUUID string `json:"observation-uuid"`
					} `json:"related-observations"`
					RelatedRisks []struct {
						RiskUUID string `json:"risk-uuid"`
					} `json:"related-risks"`
				} `json:"findings"`
			} `json:"results"`
			BackMatter struct {
				Resources []struct {
					UUID   string `json:"uuid"`
					RLinks []struct {
						Href   string `json:"href"`
						Hashes []struct{ Algorithm, Value string }
					} `json:"rlinks"`
				} `json:"resources"`
			} `json:"back-matter"`
		} `json:"assessment-results"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	ar := doc.AR
	if ar.Metadata.OSCALVersion != Version || ar.Metadata.Version != pack.ID {
		t.Errorf("metadata: oscal-version %q version %q", ar.Metadata.OSCALVersion, ar.Metadata.Version)
	}

	// Every UUID is unique; every reference resolves.
	uuids := map[string]string{}
	seen := func(u, what string) {
		if old, ok := uuids[u]; ok {
			t.Errorf("uuid %s used by %s and %s", u, old, what)
		}
		uuids[u] = what
	}
	seen(ar.UUID, "document")
	resources := map[string]string{}
	for _, r := range ar.BackMatter.Resources {
		seen(r.UUID, "resource")
		for _, l := range r.RLinks {
			resources[r.UUID] = l.Href
			if len(l.Hashes) != 1 || l.Hashes[0].Algorithm != "SHA-256" || l.Hashes[0].Value != sha(l.Href) {
				t.Errorf("resource %s: hashes %v", l.Href, l.Hashes)
			}
		}
	}
	if got, want := len(resources), len(in.files); got != want {
		t.Errorf("%d file resources, want %d", got, want)
	}
	if _, ok := uuids[strings.TrimPrefix(ar.ImportAP.Href, "#")]; !ok {
		t.Errorf("import-ap %s names no resource", ar.ImportAP.Href)
	}

	// Expected per framework.
	type want struct{ obs, findings, risks, violations int }
	wants := map[string]*want{}
	for _, f := range in.frameworks {
		wants[f.Name] = &want{}
	}
	for _, c := range in.controls {
		w := wants[c.Framework]
		w.obs++
		if c.Status == dataset.NonCompliant || c.Status == dataset.Suppressed {
			w.findings++
		}
		// A risk only where the platform gives a reason (not the code's
		// own hasReason: the test states the rule).
		for _, s := range c.Suppressions {
			if s.Reason != "" {
				w.risks++
				break
			}
		}
	}
	for _, v := range in.violations {
		wants[v.Framework].violations++
	}
	rowsByID := map[string]bool{}
	for _, c := range in.controls {
		rowsByID[c.RowID] = true
	}
	for _, v := range in.violations {
		rowsByID[v.RowID] = true
	}

	if len(ar.Results) != len(in.frameworks) {
		t.Fatalf("%d results, want %d", len(ar.Results), len(in.frameworks))
	}
	for _, r := range ar.Results {
		w := wants[r.Title]
		if w == nil {
			t.Errorf("result %q names no framework", r.Title)
			continue
		}
		seen(r.UUID, "result")
		comps := map[string]bool{}
		for _, c := range r.LocalDefinitions.Components {
			seen(c.UUID, "component")
			comps[c.UUID] = c.Type == "resource-container"
		}
		tools := map[string]bool{}
		for _, c := range r.LocalDefinitions.Assets.Components {
			tools[c.UUID] = true
		}
		if len(r.Observations) != w.obs || len(r.Findings) != w.findings || len(r.Risks) != w.risks {
			t.Errorf("%s: %d observations, %d findings, %d risks; want %d, %d, %d", r.Title, len(r.Observations), len(r.Findings), len(r.Risks), w.obs, w.findings, w.risks)
		}
		obs := map[string]bool{}
		violations := 0
		for _, o := range r.Observations {
			seen(o.UUID, "observation")
			obs[o.UUID] = true
			if len(o.Methods) != 1 || o.Methods[0] != "TEST" {
				t.Errorf("methods %v", o.Methods)
			}
			if len(o.Origins) != 1 || len(o.Origins[0].Actors) != 2 {
				t.Errorf("origins %+v", o.Origins)
			}
			for _, a := range o.Origins[0].Actors {
				if a.Type != "tool" || !tools[a.ActorUUID] {
					t.Errorf("actor %+v is not an assessment asset", a)
				}
			}
			if len(o.Subjects) != 1 || !comps[o.Subjects[0].SubjectUUID] {
				t.Errorf("subjects %+v are not account components", o.Subjects)
			}
			if strings.Contains(o.Collected, ".") {
				t.Errorf("collected %s has a fraction", o.Collected)
			}
			listed := 0
			var rows int
			for _, p := range o.Props {
				if p.Name == "violations-rows" {
					fmt.Sscan(p.Value, &rows)
				}
			}
			violations += rows
			for _, e := range o.RelevantEvidence {
				if _, ok := resources[strings.TrimPrefix(e.Href, "#")]; !ok {
					t.Errorf("evidence %s names no file resource", e.Href)
				}
				var table, rowID, n string
				for _, p := range e.Props {
					switch p.Name {
					case "table":
						table = p.Value
					case "row-id":
						rowID = p.Value
					case "rows":
						n = p.Value
					}
				}
				if rowID != "" && !rowsByID[rowID] {
					t.Errorf("evidence names row %s, which was never fed", rowID)
				}
				if table == "violations" && rowID != "" {
					listed++
				}
				if table == "violations" && rowID == "" && n == "" {
					t.Errorf("violations evidence without a row or a count: %+v", e)
				}
			}
			if want := min(samples, rows); listed != want {
				t.Errorf("observation %s lists %d violations, want %d (of %d)", o.UUID, listed, want, rows)
			}
		}
		if violations != w.violations {
			t.Errorf("%s: observations count %d violations, %d were fed", r.Title, violations, w.violations)
		}
		risks := map[string]bool{}
		for _, rk := range r.Risks {
			seen(rk.UUID, "risk")
			risks[rk.UUID] = true
			if len(rk.RelatedObs) != 1 || !obs[rk.RelatedObs[0].ObservationUUID] {
				t.Errorf("risk %s: related observations %+v", rk.UUID, rk.RelatedObs)
			}
			switch {
			case rk.RiskLog != nil && rk.Status == "deviation-approved" && rk.RiskLog.Entries[0].Description == "Approved by CISO until 2027-01-01":
			default:
				t.Errorf("risk %s: status %s with log %+v", rk.UUID, rk.Status, rk.RiskLog)
			}
		}
		for _, f := range r.Findings {
			seen(f.UUID, "finding")
			if f.Target.Status.State != "not-satisfied" {
				t.Errorf("finding %s: state %s", f.UUID, f.Target.Status.State)
			}
			if len(f.RelatedObs) != 1 || !obs[f.RelatedObs[0].ObservationUUID] {
				t.Errorf("finding %s: related observations %+v", f.UUID, f.RelatedObs)
			}
			for _, rr := range f.RelatedRisks {
				if !risks[rr.RiskUUID] {
					t.Errorf("finding %s: related risk %s unknown", f.UUID, rr.RiskUUID)
				}
			}
		}
	}
}

// TestSchemaRejects: the validator is not vacuous: documents broken in
// ways that matter fail it.
func TestSchemaRejects(t *testing.T) {
	out, err := build(t, pack, Options{}, sample(2), nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, from, to string }{
		{"observation without methods", `"methods": [`, `"xmethods": [`},
		{"control id not a token", `"control-id": "_1.1"`, `"control-id": "1.1"`},
		{"uuid not v4/v5", `"uuid": "`, `"uuid": "x`},
		{"time without a zone", `"collected": "2026-11-21T03:00:00Z"`, `"collected": "2026-11-21T03:00:00"`},
		{"bad finding state", `"state": "not-satisfied"`, `"state": "failed"`},
		{"empty property value", `"value": "High"`, `"value": ""`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if !bytes.Contains(out, []byte(tc.from)) {
				t.Fatalf("document has no %s", tc.from)
			}
			bad := bytes.Replace(out, []byte(tc.from), []byte(tc.to), 1)
			if err := validate(t, bad); err == nil {
				t.Errorf("the schema accepts the document with %s → %s", tc.from, tc.to)
			}
		})
	}
}

// TestDeterministic: the same input in any order gives the same bytes;
// another pack id gives other UUIDs.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	in := sample(3)
	want, err := build(t, pack, Options{}, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	for seed := range uint64(2) {
		got, err := build(t, pack, Options{}, in, rand.New(rand.NewPCG(seed, seed)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("seed %d: the document depends on the order of the input", seed)
		}
	}
	other := pack
	other.ID = "20261123T021500Z-aaaaaa"
	got, err := build(t, other, Options{}, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	var a, b struct {
		AR struct{ UUID string } `json:"assessment-results"`
	}
	json.Unmarshal(want, &a)
	json.Unmarshal(got, &b)
	if a.AR.UUID == b.AR.UUID || a.AR.UUID == "" {
		t.Errorf("two packs share the document uuid %s", a.AR.UUID)
	}
	if !strings.Contains(a.AR.UUID, "-5") {
		t.Errorf("uuid %s is not version 5", a.AR.UUID)
	}
}

// TestBoundedMemory: the document and the builder's state do not grow with
// the number of violations; the samples are the smallest row_ids whatever
// the order.
func TestBoundedMemory(t *testing.T) {
	t.Parallel()
	sizes := map[int]int{}
	for _, n := range []int{1000, 20_000} {
		b, err := New(pack, Options{Samples: 3})
		if err != nil {
			t.Fatal(err)
		}
		fw := Framework{Name: cis, Start: day}
		b.AddFramework(fw)
		c := Control{Framework: cis, SubAccount: "s", AccountID: "1", ControlID: "1.1", Status: dataset.NonCompliant, RowID: "c1", File: "controls.parquet"}
		if err := b.AddControl(c); err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for _, i := range r.Perm(n) {
			err := b.AddViolation(Violation{Framework: cis, SubAccount: "s", AccountID: "1", ControlID: "1.1", Resource: fmt.Sprint("r", i), RowID: fmt.Sprintf("%08d", i), File: "violations.parquet", Region: fmt.Sprintf("region-%02d", i%100)})
			if err != nil {
				t.Fatal(err)
			}
		}
		acc := b.controls[key{cis, "s", "1", "1.1"}]
		if acc.samples.Len() != 3 || acc.total != int64(n) || len(acc.perFile) != 1 || len(acc.regions) > 64 {
			t.Fatalf("n=%d: state %d samples, %d files, %d regions", n, acc.samples.Len(), len(acc.perFile), len(acc.regions))
		}
		b.AddFile(File{Path: "controls.parquet", SHA256: sha("c")})
		b.AddFile(File{Path: "violations.parquet", SHA256: sha("v")})
		var out bytes.Buffer
		if err := b.Write(&out); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"00000000", "00000001", "00000002"} {
			if !bytes.Contains(out.Bytes(), []byte(`"value": "`+id+`"`)) {
				t.Errorf("n=%d: sample row %s not listed", n, id)
			}
		}
		if bytes.Contains(out.Bytes(), []byte(`"value": "00000003"`)) {
			t.Errorf("n=%d: a fourth sample listed", n)
		}
		if err := validate(t, out.Bytes()); err != nil {
			t.Fatal(err)
		}
		sizes[n] = out.Len()
	}
	if sizes[20_000] > sizes[1000]+50 {
		t.Errorf("the document grows with violations: %d bytes for 1000, %d for 20000", sizes[1000], sizes[20_000])
	}
}

// TestRefuses: wiring mistakes are errors, not silent documents.
func TestRefuses(t *testing.T) {
	fw := Framework{Name: cis, Start: day}
	ctrl := Control{Framework: cis, AccountID: "1", ControlID: "1.1", Status: dataset.Compliant, RowID: "r", File: "c.parquet"}
	file := File{Path: "c.parquet", SHA256: sha("c")}
	cases := []struct {
		name string
		run  func(b *Builder) error
		want string
	}{
		{"control before its framework", func(b *Builder) error { return b.AddControl(ctrl) }, "was not added"},
		{"unknown status", func(b *Builder) error {
			b.AddFramework(fw)
			c := ctrl
			c.Status = "Passed"
			return b.AddControl(c)
		}, "unknown status"},
		{"control twice", func(b *Builder) error {
			b.AddFramework(fw)
			b.AddControl(ctrl)
			return b.AddControl(ctrl)
		}, "twice"},
		{"violation of a control never added", func(b *Builder) error {
			b.AddFramework(fw)
			b.AddControl(ctrl)
			b.AddFile(file)
			b.AddViolation(Violation{Framework: cis, AccountID: "1", ControlID: "9.9", RowID: "v", File: "c.parquet"})
			return b.Write(&bytes.Buffer{})
		}, "not added"},
		{"evidence file not in the back-matter", func(b *Builder) error {
			b.AddFramework(fw)
			b.AddControl(ctrl)
			return b.Write(&bytes.Buffer{})
		}, "c.parquet, which was not added"},
		{"bad checksum", func(b *Builder) error { return b.AddFile(File{Path: "c.parquet", SHA256: strings.Repeat("AB", 32)}) }, "hex"},
		{"path outside the pack", func(b *Builder) error { return b.AddFile(File{Path: "../c.parquet", SHA256: sha("c")}) }, "path"},
		{"no framework", func(b *Builder) error { return b.Write(&bytes.Buffer{}) }, "no framework"},
		{"period backwards", func(b *Builder) error {
			return b.AddFramework(Framework{Name: "x", Start: day, End: day.Add(-time.Hour)})
		}, "period"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := New(pack, Options{})
			if err != nil {
				t.Fatal(err)
			}
			err = tc.run(b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
		})
	}
	if _, err := New(Pack{ID: "x"}, Options{}); err == nil || !strings.Contains(err.Error(), "Tenant, Source, Tool, ToolVersion, GeneratedAt") {
		t.Errorf("New with an incomplete pack: %v", err)
	}
}

func TestToken(t *testing.T) {
	for in, want := range map[string]string{
		"1.1":                "_1.1",
		"lacework-global-34": "lacework-global-34",
		"CC 6.1 (a)":         "CC_6.1__a_",
		"-x":                 "_-x",
		"":                   "_",
		"Ä.1":                "Ä.1",
	} {
		if got := Token(in); got != want {
			t.Errorf("Token(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSeal: a document whose frameworks were sealed as each was complete
// (rendered ahead into a spill) is the document Write renders whole, and
// a sealed framework takes no more rows.
func TestSeal(t *testing.T) {
	in := sample(3)
	want, err := build(t, pack, Options{}, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(pack, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range in.frameworks {
		if err := b.AddFramework(f); err != nil {
			t.Fatal(err)
		}
	}
	// Framework by framework, as the pipeline feeds them; "Empty
	// framework" is left to Write.
	for _, fw := range []string{"SOC 2", cis} {
		for _, c := range in.controls {
			if c.Framework == fw {
				if err := b.AddControl(c); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, v := range in.violations {
			if v.Framework == fw {
				if err := b.AddViolation(v); err != nil {
					t.Fatal(err)
				}
			}
		}
		spill, err := os.CreateTemp(t.TempDir(), "spill")
		if err != nil {
			t.Fatal(err)
		}
		defer spill.Close()
		if err := b.Seal(fw, spill); err != nil {
			t.Fatal(err)
		}
		if err := b.Seal(fw, spill); err == nil {
			t.Errorf("%s sealed twice", fw)
		}
	}
	if err := b.AddControl(in.controls[0]); err == nil || !strings.Contains(err.Error(), "sealed") {
		t.Errorf("control after the seal: %v", err)
	}
	if err := b.AddViolation(in.violations[0]); err == nil || !strings.Contains(err.Error(), "sealed") {
		t.Errorf("violation after the seal: %v", err)
	}
	for _, f := range in.files {
		if err := b.AddFile(f); err != nil {
			t.Fatal(err)
		}
	}
	var got bytes.Buffer
	if err := b.Write(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("sealed document differs from the whole one (%d and %d bytes)", got.Len(), len(want))
	}
}

// TestWriteResult: a result written an element at a time is the result
// marshalled whole, with and without each of its arrays.
func TestWriteResult(t *testing.T) {
	in := sample(3)
	b, err := New(pack, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range in.frameworks {
		b.AddFramework(f)
	}
	for _, c := range in.controls {
		b.AddControl(c)
	}
	for _, v := range in.violations {
		b.AddViolation(v)
	}
	full := b.result(b.frameworks[cis])
	if len(full.Observations) == 0 || len(full.Risks) == 0 || len(full.Findings) == 0 {
		t.Fatal("the sample's result lacks an array")
	}
	noRisks := full
	noRisks.Risks = nil
	remarks := full
	remarks.Remarks = "after the arrays"
	for name, r := range map[string]result{"full": full, "no risks": noRisks, "remarks": remarks, "empty": b.result(b.frameworks["Empty framework"])} {
		want, err := json.MarshalIndent(r, resultIndent, "  ")
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := writeResult(&got, r, resultIndent); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: written %d bytes, marshalled %d", name, got.Len(), len(want))
		}
	}
}
