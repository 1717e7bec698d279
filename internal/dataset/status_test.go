package dataset

import (
	"slices"
	"testing"
)

// Control and requirement ids sort by the value of their numbers, as a
// reader expects (the framework PDF's appendix, the OSCAL document).
func TestCompareIDs(t *testing.T) {
	ids := []string{"lacework-global-10", "1.10", "CC6.1", "1.2", "lacework-global-2", "01", "1", "CC10.1", "1.2.3", "a"}
	slices.SortFunc(ids, CompareIDs)
	want := []string{"01", "1", "1.2", "1.2.3", "1.10", "CC6.1", "CC10.1", "a", "lacework-global-2", "lacework-global-10"}
	if !slices.Equal(ids, want) {
		t.Errorf("sorted %q, want %q", ids, want)
	}
}
