package job_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage"
)

// The OSCAL document of a real pack (the golden Lacework run) is valid
// OSCAL 1.2.3 and its counts are the Parquet tables' of the same pack.
// TestEverySourceMakesAPack checks the same for the other platforms.
func TestOSCALCountsMatchParquet(t *testing.T) {
	t.Parallel()
	run := golden.get(t)[0]
	checkOSCAL(t, run.store, run.res.Packs[0].Prefix, run.res.Packs[0].Manifest)
}

// The schema is internal/oscal's (see its testdata/README.md).
const oscalSchemaFile = "../oscal/testdata/oscal_complete_schema-1.2.3.json"

var oscalSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open(oscalSchemaFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "http://csrc.nist.gov/ns/oscal/1.0/1.2.3/oscal-complete-schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
})

// oscalDoc is what the checks read of the document.
type oscalDoc struct {
	AR struct {
		Results []struct {
			Title        string `json:"title"`
			Observations []struct {
				Props            []oscalProp `json:"props"`
				RelevantEvidence []struct {
					Href  string      `json:"href"`
					Props []oscalProp `json:"props"`
				} `json:"relevant-evidence"`
			} `json:"observations"`
			Findings []struct {
				Props []oscalProp `json:"props"`
			} `json:"findings"`
			Risks []struct {
				Status string      `json:"status"`
				Props  []oscalProp `json:"props"`
			} `json:"risks"`
		} `json:"results"`
		BackMatter struct {
			Resources []struct {
				UUID   string `json:"uuid"`
				RLinks []struct {
					Href   string `json:"href"`
					Hashes []struct {
						Algorithm string `json:"algorithm"`
						Value     string `json:"value"`
					} `json:"hashes"`
				} `json:"rlinks"`
			} `json:"resources"`
		} `json:"back-matter"`
	} `json:"assessment-results"`
}

type oscalProp struct{ Name, Value string }

func prop(ps []oscalProp, name string) string {
	for _, p := range ps {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// readParquet reads a pack file's rows into T.
func readParquet[T any](t *testing.T, store storage.Store, key string) []T {
	t.Helper()
	b := storeBytes(t, store, key)
	rows, err := parquet.Read[T](bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return rows
}

// checkOSCAL checks the pack's OSCAL document against the schema and
// against the pack's own Parquet tables, read back from the store:
// per framework, an observation per controls row (naming that row's
// row_id and file), a finding per NonCompliant or Suppressed row, as many
// violations as violations rows, a risk per control result with an
// exception whose reason the platform records; and a back-matter resource
// per data file with the manifest's SHA-256. It returns the risks.
func checkOSCAL(t *testing.T, store storage.Store, prefix string, m pack.Manifest) (risks int) {
	t.Helper()
	rc, err := store.Get(context.Background(), prefix+"/"+pack.OSCALResults)
	if err != nil {
		t.Fatalf("no OSCAL document: %v (warnings %q)", err, m.Warnings)
	}
	raw, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	schema, err := oscalSchema()
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Fatalf("%s is not valid OSCAL 1.2.3: %v", pack.OSCALResults, err)
	}
	var doc oscalDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}

	type counts struct{ controls, failing, violations, risks int }
	want := map[string]*counts{}
	at := func(fw string) *counts {
		if want[fw] == nil {
			want[fw] = &counts{}
		}
		return want[fw]
	}
	controlRow := map[string]string{} // row_id → file
	withReason := map[string]bool{}   // framework|sub|account|control of an exception with a reason
	var fileSHA = map[string]string{}
	for _, f := range m.Files {
		fileSHA[f.Path] = f.SHA256
		pf, err := pack.ParseParquet(f.Path)
		if err != nil {
			continue
		}
		key := prefix + "/" + f.Path
		switch pf.Table {
		case dataset.Controls:
			for _, r := range readParquet[struct {
				Framework string `parquet:"framework"`
				Status    string `parquet:"status"`
				RowID     string `parquet:"row_id"`
			}](t, store, key) {
				c := at(r.Framework)
				c.controls++
				if s := dataset.Status(r.Status); s == dataset.NonCompliant || s == dataset.Suppressed {
					c.failing++
				}
				controlRow[r.RowID] = f.Path
			}
		case dataset.Violations:
			for _, r := range readParquet[struct {
				Framework string `parquet:"framework"`
			}](t, store, key) {
				at(r.Framework).violations++
			}
		case dataset.Exceptions:
			for _, r := range readParquet[struct {
				Framework  string `parquet:"framework"`
				SubAccount string `parquet:"sub_account"`
				Account    string `parquet:"account_id,optional"`
				Control    string `parquet:"control_id"`
				Reason     string `parquet:"reason,optional"`
			}](t, store, key) {
				if strings.TrimSpace(r.Reason) == "" {
					continue
				}
				k := r.Framework + "|" + r.SubAccount + "|" + r.Account + "|" + r.Control
				if !withReason[k] {
					withReason[k] = true
					at(r.Framework).risks++
				}
			}
		}
	}

	if len(doc.AR.Results) != len(want) {
		t.Errorf("%d results, %d frameworks in the controls table", len(doc.AR.Results), len(want))
	}
	for _, r := range doc.AR.Results {
		w := want[r.Title]
		if w == nil {
			t.Errorf("result %q: no such framework in the controls table", r.Title)
			continue
		}
		violations := 0
		for _, o := range r.Observations {
			n, err := strconv.Atoi(prop(o.Props, "violations-rows"))
			if err != nil {
				t.Errorf("%s: observation without violations-rows: %v", r.Title, err)
			}
			violations += n
			// The first evidence is the controls row: its row_id is in
			// the file it names.
			ev := o.RelevantEvidence[0]
			if id, file := prop(ev.Props, "row-id"), prop(ev.Props, "pack-file"); controlRow[id] != file || file == "" {
				t.Errorf("%s: observation names controls row %s in %s; the table has it in %q", r.Title, id, file, controlRow[id])
			}
		}
		if len(r.Observations) != w.controls || len(r.Findings) != w.failing || violations != w.violations || len(r.Risks) != w.risks {
			t.Errorf("%s: OSCAL has %d observations, %d findings, %d violations, %d risks; the Parquet tables %d controls rows, %d failing, %d violations rows, %d controls with an exception reason",
				r.Title, len(r.Observations), len(r.Findings), violations, len(r.Risks), w.controls, w.failing, w.violations, w.risks)
		}
		risks += len(r.Risks)
	}

	// The back-matter lists the data files with the manifest's SHA-256:
	// all those stored before the document (not the files written after
	// it, which the manifest and SHA256SUMS cover).
	listed := map[string]bool{}
	for _, res := range doc.AR.BackMatter.Resources {
		for _, l := range res.RLinks {
			listed[l.Href] = true
			if len(l.Hashes) != 1 || l.Hashes[0].Algorithm != "SHA-256" || l.Hashes[0].Value != fileSHA[l.Href] {
				t.Errorf("back-matter %s: hashes %+v, the manifest %s", l.Href, l.Hashes, fileSHA[l.Href])
			}
		}
	}
	after := map[string]bool{pack.OSCALResults: true, pack.SummaryPDF: true, pack.DuckDBViews: true, pack.SumsName: true, pack.IndexName: true}
	for p := range fileSHA {
		if !listed[p] && !after[p] {
			t.Errorf("%s is not in the back-matter", p)
		}
	}
	return risks
}

// storeBytes is the object at key of store.
func storeBytes(t *testing.T, store storage.Store, key string) []byte {
	t.Helper()
	rc, err := store.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return b
}
