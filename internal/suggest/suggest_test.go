package suggest

import "testing"

func TestNearest(t *testing.T) {
	have := []string{"run", "plan", "verify", "frameworks", "from", "framework", "PCI"}
	for _, tc := range []struct{ w, want string }{
		{"runn", "run"}, {"frmo", "from"}, {"framwork", "framework"}, {"PCl", "PCI"}, {"pci", "PCI"},
		{"verfy", "verify"}, {"x", ""}, {"completely-else", ""},
	} {
		if got := Nearest(tc.w, have); got != tc.want {
			t.Errorf("Nearest(%q) = %q, want %q", tc.w, got, tc.want)
		}
	}
	if Nearest("run", nil) != "" {
		t.Error("nothing to choose from")
	}
}
