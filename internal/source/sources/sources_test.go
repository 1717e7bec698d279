package sources_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/source"
	"github.com/evidence-pack/evidence/internal/source/sources"
)

// The commented tenants of the example configuration are valid sections of
// their sources: uncommented, every one opens.
func TestExampleConfigSections(t *testing.T) {
	b, err := os.ReadFile("../../../configs/evidence.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// "  # - name: x" and "  #   key: v" lines become YAML; "  #     # ..." stay comments.
	re := regexp.MustCompile(`(?m)^  # (-|  )( *[^#\s])`)
	doc := re.ReplaceAllString(string(b), "  $1$2")
	var cfg config.Config
	if err := config.Decode(strings.NewReader(doc), &cfg); err != nil {
		t.Fatalf("uncommented example: %v\n%s", err, doc)
	}
	env := map[string]string{"SOPHOS_OPTIX_API_KEY": "k", "IBMCLOUD_API_KEY": "k", "LW_EDGE_API_TOKEN": "t"}
	reg := sources.Registry(sources.Options{})
	seen := map[string]bool{}
	for _, tn := range cfg.Tenants {
		if tn.Source == "lacework" {
			continue
		}
		seen[tn.Source] = true
		if _, err := reg.Open(context.Background(), tn, source.Env{Getenv: func(k string) string { return env[k] }}); err != nil {
			t.Errorf("tenant %s (%s): %v", tn.Name, tn.Source, err)
		}
	}
	for _, name := range reg.Names() {
		if name != "lacework" && !seen[name] {
			t.Errorf("the example configuration has no %s tenant", name)
		}
	}
}
