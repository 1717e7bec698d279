// Package contract checks our API clients and emulators against the
// response samples of the API documents (../shared/seeds), kept under each
// client's testdata/contract. A sample is the vendor's word on a response's
// shape; the emulator is only our reading of it. Where they disagree, the
// sample wins and the test fails.
//
// A sample file is one JSON object:
//
//	{
//	  "doc": "seed 000, Reports: Response sample",   // where it came from
//	  "endpoint": "GET /api/v2/Reports",             // the call it answers
//	  "notes": "…",                                  // transcription notes, optional
//	  "extra": {"data[].x": "why our emulator sends it"}, // optional
//	  "response": { … }                               // the sample itself
//	}
//
// Samples are kept as the document prints them. Where the document writes a
// type instead of a value ("int", "boolean", "<<epoch time>>"), or writes
// invalid JSON (a bare boolean), the transcription puts the type's name in
// a string and says so in notes: Shape reads the names "string", "int",
// "integer", "long", "number", "double", "float", "boolean" and "bool" as
// that JSON type, any other "<<…>>" placeholder as any type, and an empty
// object {} (the Lacework document's way of eliding a row) as any object.
package contract

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Sample is one documented response.
type Sample struct {
	File     string            `json:"-"`
	Doc      string            `json:"doc"`
	Endpoint string            `json:"endpoint"`
	Notes    string            `json:"notes"`
	Extra    map[string]string `json:"extra"`
	Response json.RawMessage   `json:"response"`
}

// Load reads every *.json sample in dir, sorted by name. A file without
// doc, endpoint or response is an error: a sample must say where it came from.
func Load(dir string) ([]Sample, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Sample
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var s Sample
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if s.Doc == "" || s.Endpoint == "" || len(s.Response) == 0 {
			return nil, fmt.Errorf("%s: a sample needs doc, endpoint and response", f)
		}
		s.File = filepath.Base(f)
		out = append(out, s)
	}
	return out, nil
}

// Kind is a JSON type: "object", "array", "string", "number", "boolean",
// "null", or "any" for a placeholder of unknown type.
type Kind string

// elided is a sample's empty object: an object whose content it does not show.
const elided Kind = "{}"

// placeholders maps a type written in place of a value to its JSON type.
var placeholders = map[string]Kind{
	"string": "string", "int": "number", "integer": "number", "long": "number", "number": "number",
	"double": "number", "float": "number", "boolean": "boolean", "bool": "boolean",
}

// kindOf is v's JSON type, reading a documented placeholder as its type.
func kindOf(v any, placeholder bool) Kind {
	switch x := v.(type) {
	case map[string]any:
		if placeholder && len(x) == 0 {
			return elided
		}
		return "object"
	case []any:
		return "array"
	case string:
		if placeholder {
			t := strings.ToLower(strings.TrimSpace(x))
			if k, ok := placeholders[t]; ok {
				return k
			}
			if strings.HasPrefix(t, "<<") && strings.HasSuffix(t, ">>") {
				return "any"
			}
		}
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return "any"
}

// Shape maps each path of a JSON document to the kinds seen there: "a.b"
// for object keys, "a[]" for array elements (all elements merged).
// sample reads placeholders as types.
func Shape(doc []byte, sample bool) (map[string][]Kind, error) {
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	out := map[string][]Kind{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		k := kindOf(v, sample)
		if !slices.Contains(out[path], k) {
			out[path] = append(out[path], k)
		}
		switch x := v.(type) {
		case map[string]any:
			for key, e := range x {
				walk(join(path, key), e)
			}
		case []any:
			for _, e := range x {
				walk(path+"[]", e)
			}
		}
	}
	walk("", v)
	return out, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Compare lists where got's shape differs from the sample's: a path the
// sample has and got lacks, a path got has and the sample lacks (unless
// listed in the sample's extra, with the reason), and a kind got sends that
// the sample does not (null and "any" in the sample match every kind; a
// path under an array the sample leaves empty is not compared).
func Compare(s Sample, got []byte) ([]string, error) {
	want, err := Shape(s.Response, true)
	if err != nil {
		return nil, fmt.Errorf("%s: sample: %w", s.File, err)
	}
	have, err := Shape(got, false)
	if err != nil {
		return nil, fmt.Errorf("%s: response: %w", s.File, err)
	}
	var diffs []string
	for path, kinds := range want {
		if !covered(want, have, path) {
			continue
		}
		hk, ok := have[path]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: missing (the sample has %v)", show(path), kinds))
			continue
		}
		if slices.Contains(kinds, "any") || slices.Contains(kinds, "null") {
			continue
		}
		for _, k := range hk {
			if k != "null" && !slices.Contains(kinds, k) && !(k == "object" && slices.Contains(kinds, elided)) {
				diffs = append(diffs, fmt.Sprintf("%s: %s, the sample has %v", show(path), k, kinds))
			}
		}
	}
	for path := range have {
		if _, ok := want[path]; ok || !covered(have, want, path) {
			continue
		}
		if _, ok := s.Extra[path]; ok || underAny(want, path) {
			continue
		}
		diffs = append(diffs, fmt.Sprintf("%s: not in the sample", show(path)))
	}
	sort.Strings(diffs)
	return diffs, nil
}

// covered reports whether path's parent exists in other, as something that
// can hold it: a key of an object other also has, or an element of an
// array other has elements of too. Paths below a part the other document lacks
// are reported once, at that part.
func covered(self, other map[string][]Kind, path string) bool {
	if strings.HasSuffix(path, "[]") {
		// Elements are compared only where both documents have some: an
		// empty list is a valid answer.
		_, ok := other[path]
		return ok
	}
	parent := parentOf(path)
	if parent == "" && !strings.HasPrefix(path, "[]") {
		return true
	}
	_, ok := other[parent]
	return ok
}

func parentOf(path string) string {
	if strings.HasSuffix(path, "[]") {
		return strings.TrimSuffix(path, "[]")
	}
	if i := strings.LastIndexAny(path, "."); i >= 0 {
		return path[:i]
	}
	if i := strings.LastIndex(path, "[]"); i >= 0 {
		return path[:i+2]
	}
	return ""
}

// underAny reports whether path lies below a sample value of unknown type
// (a placeholder or null), which allows any content.
func underAny(want map[string][]Kind, path string) bool {
	for p := parentOf(path); ; p = parentOf(p) {
		if k, ok := want[p]; ok && (slices.Contains(k, "any") || slices.Contains(k, "null") || slices.Contains(k, elided)) {
			return true
		}
		if p == "" {
			return false
		}
	}
}

func show(path string) string {
	if path == "" {
		return "(the document)"
	}
	return path
}

// Unfilled decodes the sample into a new value of v's type (a pointer to a
// struct, or to a slice of them) and lists every field our type declares
// (by its json name) that stays zero although the sample has a non-null,
// non-empty value for it: a misnamed key or a wrong type loses data
// silently. Fields of types that decode themselves (json.Unmarshaler) are
// checked as a whole.
func Unfilled(s Sample, v any) ([]string, error) {
	doc, err := Concrete(s.Response)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.File, err)
	}
	if err := json.Unmarshal(doc, v); err != nil {
		return nil, fmt.Errorf("%s: decode into %T: %w", s.File, v, err)
	}
	var raw any
	if err := json.Unmarshal(doc, &raw); err != nil {
		return nil, err
	}
	var out []string
	check(reflect.ValueOf(v).Elem(), raw, "", &out)
	sort.Strings(out)
	return out, nil
}

// Concrete replaces the type placeholders of a sample by values of that
// type ("int" by 1, "boolean" by true), so that it decodes into our types;
// other strings, "<<…>>" placeholders included, stay as they are.
func Concrete(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		case string:
			switch kindOf(x, true) {
			case "number":
				return json.Number("1")
			case "boolean":
				return true
			}
		}
		return v
	}
	return json.Marshal(walk(v))
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

func check(v reflect.Value, raw any, path string, out *[]string) {
	if raw == nil {
		return
	}
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			*out = append(*out, show(path)+": nil")
			return
		}
		v = v.Elem()
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshaler) || v.Type().Implements(unmarshaler) {
		if v.IsZero() && !emptyJSON(raw) {
			*out = append(*out, show(path)+": zero")
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		obj, ok := raw.(map[string]any)
		if !ok {
			return
		}
		checkStruct(v, obj, path, out)
	case reflect.Slice, reflect.Array:
		arr, ok := raw.([]any)
		if !ok || v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			if v.IsZero() && !emptyJSON(raw) {
				*out = append(*out, show(path)+": zero")
			}
			return
		}
		if v.Len() != len(arr) {
			*out = append(*out, fmt.Sprintf("%s: %d elements, the sample has %d", show(path), v.Len(), len(arr)))
			return
		}
		for i := range arr {
			check(v.Index(i), arr[i], path+"[]", out)
		}
	case reflect.Map, reflect.Interface:
		if v.IsZero() && !emptyJSON(raw) {
			*out = append(*out, show(path)+": zero")
		}
	default:
		if v.IsZero() && !emptyJSON(raw) && !zeroJSON(raw) {
			*out = append(*out, show(path)+": zero")
		}
	}
}

func checkStruct(v reflect.Value, obj map[string]any, path string, out *[]string) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			fv := v.Field(i)
			if fv.Kind() == reflect.Struct {
				checkStruct(fv, obj, path, out)
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		val, ok := lookup(obj, name)
		if !ok {
			continue
		}
		check(v.Field(i), val, join(path, name), out)
	}
}

// lookup finds key as encoding/json does: exactly, else case-insensitively.
func lookup(obj map[string]any, key string) (any, bool) {
	if v, ok := obj[key]; ok {
		return v, true
	}
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// emptyJSON: a value that decodes to a zero Go value by right.
func emptyJSON(raw any) bool {
	switch x := raw.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// zeroJSON: false and 0 decode to Go's zero value too.
func zeroJSON(raw any) bool {
	switch x := raw.(type) {
	case bool:
		return !x
	case float64:
		return x == 0
	}
	return false
}
