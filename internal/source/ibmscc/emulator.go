package ibmscc

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/evidence-pack/evidence/internal/collect/ibmscc/emulator"
	"github.com/evidence-pack/evidence/internal/config"
)

// EmulatorTenant returns a tenant that reads the emulator served at baseURL
// (api_url baseURL, iam_url baseURL/identity/token, the emulator's default
// instance), and the environment (name → value) that holds its API key. The
// demo and the pipeline tests use it. Client-side pacing is off: the
// emulator has no rate limit of its own, only injected 429s.
func EmulatorTenant(name, baseURL string) (config.Tenant, map[string]string) {
	base := strings.TrimRight(baseURL, "/")
	section := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	set := func(key, tag, value string) {
		section.Content = append(section.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value})
	}
	set("api_url", "!!str", base)
	set("iam_url", "!!str", base+emulator.PathToken)
	set("instance_id", "!!str", emulator.DefaultInstanceID)
	set("api_key_env", "!!str", DefaultAPIKeyEnv)
	set("requests_per_minute", "!!int", "-1")
	t := config.Tenant{Name: name, Source: Name, Sections: map[string]yaml.Node{Name: *section}}
	return t, map[string]string{DefaultAPIKeyEnv: emulator.DefaultAPIKey}
}
