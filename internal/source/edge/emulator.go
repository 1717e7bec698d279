package edge

import (
	"go.yaml.in/yaml/v3"

	"github.com/evidence-pack/evidence/internal/collect/edge/emulator"
	"github.com/evidence-pack/evidence/internal/config"
)

// EmulatorTenant returns a lacework_edge tenant named name that reads the
// emulator (internal/collect/edge/emulator, default Config) at baseURL, and
// the environment variables (name → value) holding the emulator's API
// token (the default api_token login). The demo and the pipeline tests use it. Local pacing is off
// (requests_per_hour: -1): the emulator's injected 429s pace the client,
// and after a 429 the default budget (480/h) would space requests 7.5 s
// apart.
func EmulatorTenant(name, baseURL string) (config.Tenant, map[string]string) {
	scalar := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	section := yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		scalar("api_url"), scalar(baseURL),
		scalar("account"), scalar(emulator.DefaultAccount),
		scalar("requests_per_hour"), {Kind: yaml.ScalarNode, Tag: "!!int", Value: "-1"},
	}}
	t := config.Tenant{Name: name, Source: Name, Sections: map[string]yaml.Node{Name: section}}
	return t, map[string]string{EnvAPIToken: emulator.DefaultAPIToken}
}
