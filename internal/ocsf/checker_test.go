package ocsf

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The checker reads the OCSF schema's own files (testdata/ocsf-schema-1.8.0,
// see testdata/README.md) and checks an event against the class: required
// attributes present, every attribute known to the class or object (and
// not deprecated), types and arrays as the dictionary says, enum values
// the schema lists, enum captions in their siblings, and constraints
// (at_least_one, just_one). Nothing about Compliance Finding is written
// here by hand: the class, its parents, profiles and objects come from the
// files.

const schemaDir = "testdata/ocsf-schema-1.8.0"

type attr map[string]any

func (a attr) str(k string) string { s, _ := a[k].(string); return s }

type objectDef struct {
	name        string
	attrs       map[string]attr // merged with the dictionary
	constraints map[string][]string
}

type schema struct {
	dir      string
	dict     map[string]attr
	types    map[string]attr
	classUID int
	catUID   int
	class    *objectDef
	objects  map[string]*objectDef
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

var (
	schemaOnce sync.Once
	theSchema  *schema
)

func loadSchema(t testing.TB) *schema {
	schemaOnce.Do(func() {
		theSchema = newSchema(t, schemaDir, "events/findings/compliance_finding.json", []string{"cloud"})
	})
	if theSchema == nil {
		t.Fatal("schema failed to load")
	}
	return theSchema
}

// newSchema loads the class in file, with the profiles applied.
func newSchema(t testing.TB, dir, file string, profiles []string) *schema {
	s := &schema{dir: dir, objects: map[string]*objectDef{}}
	var dict struct {
		Attributes map[string]attr `json:"attributes"`
		Types      struct {
			Attributes map[string]attr `json:"attributes"`
		} `json:"types"`
	}
	readJSON(t, filepath.Join(dir, "dictionary.json"), &dict)
	s.dict, s.types = dict.Attributes, dict.Types.Attributes

	// The class and its parents, root first.
	var chain []map[string]any
	for f := file; ; {
		var d map[string]any
		readJSON(t, filepath.Join(dir, f), &d)
		chain = append([]map[string]any{d}, chain...)
		ext, _ := d["extends"].(string)
		if ext == "" {
			break
		}
		f = findEvent(t, dir, ext)
	}
	var cats struct {
		Attributes map[string]attr `json:"attributes"`
	}
	readJSON(t, filepath.Join(dir, "categories.json"), &cats)
	var category string
	var uid float64
	for _, d := range chain {
		if c, ok := d["category"].(string); ok {
			category = c
		}
		if u, ok := d["uid"].(float64); ok {
			uid = u
		}
	}
	cat := cats.Attributes[category]
	if cat == nil || uid == 0 {
		t.Fatalf("class %s: category %q, uid %v", file, category, uid)
	}
	s.catUID = int(cat["uid"].(float64))
	s.classUID = s.catUID*1000 + int(uid)
	s.class = s.merge(t, chain, profiles)
	s.class.name = file
	return s
}

func findEvent(t testing.TB, dir, name string) string {
	var found string
	filepath.WalkDir(filepath.Join(dir, "events"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.TrimSuffix(d.Name(), ".json") == name {
			found, _ = filepath.Rel(dir, p)
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no event %s in %s", name, dir)
	}
	return found
}

// merge merges definitions (root first): their $include files (a profile's
// attributes are kept only when the profile is applied), attributes key by
// key (the child's keys win, enums merge), constraints; then each
// attribute over its dictionary entry.
func (s *schema) merge(t testing.TB, chain []map[string]any, profiles []string) *objectDef {
	o := &objectDef{attrs: map[string]attr{}, constraints: map[string][]string{}}
	profile := map[string]string{} // attribute → profile that brought it
	apply := func(attrs map[string]any, from string) {
		for k, v := range attrs {
			if k == "$include" {
				continue
			}
			a := attr{}
			if old := o.attrs[k]; old != nil {
				a = old
			}
			for kk, vv := range v.(map[string]any) {
				if kk == "enum" {
					e, _ := a["enum"].(map[string]any)
					e = maps.Clone(e)
					if e == nil {
						e = map[string]any{}
					}
					maps.Copy(e, vv.(map[string]any))
					a["enum"] = e
					continue
				}
				a[kk] = vv
			}
			o.attrs[k] = a
			if from != "" {
				profile[k] = from
			}
		}
	}
	for _, d := range chain {
		attrs, _ := d["attributes"].(map[string]any)
		incs, _ := attrs["$include"].([]any)
		for _, inc := range incs {
			var p map[string]any
			readJSON(t, filepath.Join(s.dir, inc.(string)), &p)
			from := ""
			if p["meta"] == "profile" {
				from = p["name"].(string)
			}
			apply(p["attributes"].(map[string]any), from)
		}
		apply(attrs, "")
		if c, ok := d["constraints"].(map[string]any); ok {
			for k, v := range c {
				for _, x := range v.([]any) {
					o.constraints[k] = append(o.constraints[k], x.(string))
				}
			}
		}
	}
	for k, a := range o.attrs {
		p := profile[k]
		if pv, ok := a["profile"]; ok {
			p, _ = pv.(string) // "profile": null makes the attribute core
		}
		if p != "" && !slices.Contains(profiles, p) {
			delete(o.attrs, k)
			continue
		}
		d := s.dict[k]
		if d == nil {
			t.Fatalf("attribute %s is not in the dictionary", k)
		}
		m := maps.Clone(d)
		for kk, vv := range a {
			if kk == "enum" {
				e := maps.Clone(asMap(m["enum"]))
				if e == nil {
					e = map[string]any{}
				}
				maps.Copy(e, vv.(map[string]any))
				m["enum"] = e
				continue
			}
			m[kk] = vv
		}
		o.attrs[k] = m
	}
	return o
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

func (s *schema) object(t testing.TB, name string) *objectDef {
	if o := s.objects[name]; o != nil {
		return o
	}
	var chain []map[string]any
	for n := name; n != ""; {
		var d map[string]any
		readJSON(t, filepath.Join(s.dir, "objects", n+".json"), &d)
		chain = append([]map[string]any{d}, chain...)
		n, _ = d["extends"].(string)
	}
	o := s.merge(t, chain, []string{"cloud"})
	o.name = name
	s.objects[name] = o
	return o
}

// check returns the event's problems.
func (s *schema) check(t testing.TB, event any) []string {
	b, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var probs []string
	s.checkObject(t, "", v, s.class, &probs)
	num := func(k string) int64 { n, _ := v[k].(json.Number).Int64(); return n }
	if got := num("class_uid"); got != int64(s.classUID) {
		probs = append(probs, fmt.Sprintf("class_uid %d, the schema's class is %d", got, s.classUID))
	}
	if got := num("category_uid"); got != int64(s.catUID) {
		probs = append(probs, fmt.Sprintf("category_uid %d, the class's category is %d", got, s.catUID))
	}
	if got, want := num("type_uid"), int64(s.classUID)*100+num("activity_id"); got != want {
		probs = append(probs, fmt.Sprintf("type_uid %d, want %d", got, want))
	}
	return probs
}

func (s *schema) checkObject(t testing.TB, path string, v map[string]any, o *objectDef, probs *[]string) {
	bad := func(f string, a ...any) { *probs = append(*probs, path+": "+fmt.Sprintf(f, a...)) }
	names := slices.Sorted(maps.Keys(o.attrs))
	for _, k := range names {
		if o.attrs[k].str("requirement") == "required" && v[k] == nil {
			bad("required attribute %s is missing (%s)", k, o.name)
		}
	}
	for k, c := range o.constraints {
		n := 0
		for _, a := range c {
			if v[a] != nil {
				n++
			}
		}
		if (k == "at_least_one" && n == 0) || (k == "just_one" && n != 1) {
			bad("constraint %s %v: %d present", k, c, n)
		}
	}
	keys := slices.Sorted(maps.Keys(v))
	for _, k := range keys {
		a := o.attrs[k]
		p := strings.TrimPrefix(path+"."+k, ".")
		if a == nil {
			*probs = append(*probs, fmt.Sprintf("%s: not an attribute of %s", p, o.name))
			continue
		}
		if _, dep := a["@deprecated"]; dep {
			*probs = append(*probs, fmt.Sprintf("%s: deprecated", p))
		}
		val := v[k]
		if a["is_array"] == true {
			arr, ok := val.([]any)
			if !ok {
				*probs = append(*probs, fmt.Sprintf("%s: not an array", p))
				continue
			}
			for i, x := range arr {
				s.checkValue(t, fmt.Sprintf("%s[%d]", p, i), x, a, probs)
			}
			continue
		}
		s.checkValue(t, p, val, a, probs)
		// The schema compiler sets class_uid, category_uid and type_uid
		// per class (check compares them with the files).
		if e := asMap(a["enum"]); e != nil && k != "class_uid" && k != "category_uid" && k != "type_uid" {
			id := fmt.Sprint(val)
			c := asMap(e[id])
			if c == nil {
				*probs = append(*probs, fmt.Sprintf("%s: %s is not one of %v", p, id, slices.Sorted(maps.Keys(e))))
			} else if sib := a.str("sibling"); sib != "" && v[sib] != nil && id != "99" && v[sib] != c["caption"] {
				*probs = append(*probs, fmt.Sprintf("%s: %v, but %s is the caption of %s", sib, v[sib], c["caption"], id))
			}
		}
	}
}

func (s *schema) checkValue(t testing.TB, p string, val any, a attr, probs *[]string) {
	bad := func(f string, x ...any) { *probs = append(*probs, p+": "+fmt.Sprintf(f, x...)) }
	typ := a.str("type")
	if !strings.HasSuffix(typ, "_t") {
		m, ok := val.(map[string]any)
		if !ok {
			bad("not an object (%s)", typ)
			return
		}
		s.checkObject(t, p, m, s.object(t, typ), probs)
		return
	}
	base, td := typ, s.types[typ]
	if td == nil {
		bad("type %s is not in the dictionary", typ)
		return
	}
	if b := td.str("type"); b != "" {
		base = b
	}
	switch base {
	case "string_t":
		str, ok := val.(string)
		if !ok {
			bad("%v is not a string (%s)", val, typ)
			return
		}
		if str == "" {
			bad("empty string")
		}
		if ml, ok := td["max_len"].(float64); ok && len(str) > int(ml) {
			bad("longer than %v", ml)
		}
		if re := td.str("regex"); re != "" {
			if r, err := regexp.Compile(re); err == nil && !r.MatchString(str) {
				bad("%q does not match %s's pattern", str, typ)
			}
		}
	case "integer_t", "long_t":
		n, ok := val.(json.Number)
		if !ok {
			bad("%v is not a number (%s)", val, typ)
			return
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil {
			bad("%v is not an integer (%s)", val, typ)
		} else if base == "integer_t" && (i > math.MaxInt32 || i < math.MinInt32) {
			bad("%d does not fit integer_t", i)
		}
		if typ == "timestamp_t" && (i < 946684800000 || i > 4102444800000) {
			bad("%d is not a time in milliseconds", i)
		}
	case "float_t":
		if _, ok := val.(json.Number); !ok {
			bad("%v is not a number", val)
		}
	case "boolean_t":
		if _, ok := val.(bool); !ok {
			bad("%v is not a boolean", val)
		}
	case "json_t":
	default:
		bad("type %s (%s) not checked", typ, base)
	}
}

// TestCheckerReadsTheSchema: the checker finds what the class requires
// from the files, not a list written here.
func TestCheckerReadsTheSchema(t *testing.T) {
	s := loadSchema(t)
	var req []string
	for k, a := range s.class.attrs {
		if a.str("requirement") == "required" {
			req = append(req, k)
		}
	}
	sort.Strings(req)
	// The Compliance Finding's required attributes as OCSF 1.8.0's browser
	// lists them with the cloud profile: a check of the checker.
	want := "activity_id category_uid class_uid cloud compliance finding_info metadata severity_id time type_uid"
	if strings.Join(req, " ") != want {
		t.Errorf("required: %v\nwant %s", req, want)
	}
	if s.classUID != ClassUID || s.catUID != CategoryUID {
		t.Errorf("class %d category %d", s.classUID, s.catUID)
	}
	if _, ok := s.class.attrs["cloud"]; !ok {
		t.Error("the cloud profile's attribute is missing")
	}
	if got := s.object(t, "resource_details").constraints["at_least_one"]; !slices.Equal(got, []string{"name", "uid"}) {
		t.Errorf("resource_details constraints %v", got)
	}
	st := asMap(s.object(t, "compliance").attrs["status_id"]["enum"])
	if caps := fmt.Sprint(asMap(st["1"])["caption"], asMap(st["3"])["caption"], asMap(st["99"])["caption"]); caps != "PassFailOther" {
		t.Errorf("compliance.status_id captions %s", caps)
	}
}
