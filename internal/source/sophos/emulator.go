package sophos

import (
	"go.yaml.in/yaml/v3"

	"github.com/evidence-pack/evidence/internal/collect/sophos"
	"github.com/evidence-pack/evidence/internal/collect/sophos/emulator"
	"github.com/evidence-pack/evidence/internal/config"
)

// EmulatorTenant returns a tenant named name whose sophos: section points
// at a Cloud Optix emulator (internal/collect/sophos/emulator) listening on
// baseURL, and the environment variables (name → value) that hold the
// emulator's default API key. The demo and the pipeline tests use it.
func EmulatorTenant(name, baseURL string) (config.Tenant, map[string]string) {
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	section := yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		str("api_url"), str(baseURL),
		str("api_key_env"), str(sophos.DefaultKeyEnv),
	}}
	t := config.Tenant{Name: name, Source: Name, Sections: map[string]yaml.Node{Name: section}}
	return t, map[string]string{sophos.DefaultKeyEnv: emulator.DefaultAPIKey}
}
