package pack_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/evidence-pack/evidence/internal/pack"
)

// Stats encode exactly as the map of counters they replaced: packs written
// before and after have the same "stats" bytes, and readers of the JSON see
// no change.
func TestStatsJSONAsMap(t *testing.T) {
	var st pack.Stats
	v := reflect.ValueOf(&st).Elem()
	asMap := map[string]int64{}
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			t.Fatalf("field %s has no JSON name", v.Type().Field(i).Name)
		}
		v.Field(i).SetInt(int64(i*1000 + 7))
		asMap[name] = int64(i*1000 + 7)
	}
	got, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.MarshalIndent(asMap, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Stats encode as\n%s\nthe map as\n%s", got, want)
	}
	var back pack.Stats
	if err := json.Unmarshal(want, &back); err != nil || back != st {
		t.Errorf("the map's JSON decodes to %+v (%v), want %+v", back, err, st)
	}
}
