package demo

import (
	"strings"

	"go.yaml.in/yaml/v3"

	edgeemu "github.com/evidence-pack/evidence/internal/collect/edge/emulator"
	ibmemu "github.com/evidence-pack/evidence/internal/collect/ibmscc/emulator"
	lwemu "github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	collectsophos "github.com/evidence-pack/evidence/internal/collect/sophos"
	sophosemu "github.com/evidence-pack/evidence/internal/collect/sophos/emulator"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/source/edge"
	"github.com/evidence-pack/evidence/internal/source/ibmscc"
	"github.com/evidence-pack/evidence/internal/source/sophos"
)

// The tenants below are written as a user's configuration would be (a
// section of the source's name, secrets in the environment), so the demo
// and the tests exercise the same decoding a real run does.

// LaceworkEnv returns the environment that points a Lacework tenant at the
// Lacework emulator (default Config) listening on baseURL: the LW_*
// variables the lacework CLI uses, from which the Lacework source reads the
// configuration's default tenant as it does for a user without a config
// file.
func LaceworkEnv(baseURL string) map[string]string {
	return map[string]string{"LW_ACCOUNT": lwemu.DefaultAccount, "LW_API_KEY": lwemu.DefaultKeyID,
		"LW_API_SECRET": lwemu.DefaultSecret, "LW_API_URL": baseURL}
}

// SophosTenant returns a tenant named name whose sophos: section points at
// a Cloud Optix emulator (internal/collect/sophos/emulator) listening on
// baseURL, and the environment variables (name → value) that hold the
// emulator's default API key.
func SophosTenant(name, baseURL string) (config.Tenant, map[string]string) {
	section := mapping(
		pair{"api_url", str(baseURL)},
		pair{"api_key_env", str(collectsophos.DefaultKeyEnv)},
	)
	t := config.Tenant{Name: name, Source: sophos.Name, Sections: map[string]yaml.Node{sophos.Name: section}}
	return t, map[string]string{collectsophos.DefaultKeyEnv: sophosemu.DefaultAPIKey}
}

// IBMSCCTenant returns a tenant that reads the IBM Cloud SCC emulator
// served at baseURL (api_url baseURL, iam_url baseURL/identity/token, the
// emulator's default instance), and the environment (name → value) that
// holds its API key. Client-side pacing is off: the emulator has no rate
// limit of its own, only injected 429s.
func IBMSCCTenant(name, baseURL string) (config.Tenant, map[string]string) {
	base := strings.TrimRight(baseURL, "/")
	section := mapping(
		pair{"api_url", str(base)},
		pair{"iam_url", str(base + ibmemu.PathToken)},
		pair{"instance_id", str(ibmemu.DefaultInstanceID)},
		pair{"api_key_env", str(ibmscc.DefaultAPIKeyEnv)},
		pair{"requests_per_minute", integer("-1")},
	)
	t := config.Tenant{Name: name, Source: ibmscc.Name, Sections: map[string]yaml.Node{ibmscc.Name: section}}
	return t, map[string]string{ibmscc.DefaultAPIKeyEnv: ibmemu.DefaultAPIKey}
}

// EdgeTenant returns a lacework_edge tenant named name that reads the
// Lacework Edge emulator (internal/collect/edge/emulator, default Config)
// at baseURL, and the environment variables (name → value) holding the
// emulator's API token (the default api_token login). Local pacing is off
// (requests_per_hour: -1): the emulator's injected 429s pace the client,
// and after a 429 the default budget (480/h) would space requests 7.5 s
// apart.
func EdgeTenant(name, baseURL string) (config.Tenant, map[string]string) {
	section := mapping(
		pair{"api_url", str(baseURL)},
		pair{"account", str(edgeemu.DefaultAccount)},
		pair{"requests_per_hour", integer("-1")},
	)
	t := config.Tenant{Name: name, Source: edge.Name, Sections: map[string]yaml.Node{edge.Name: section}}
	return t, map[string]string{edge.EnvAPIToken: edgeemu.DefaultAPIToken}
}

func str(v string) *yaml.Node     { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
func integer(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: v} }

// pair is a key of a section and its value.
type pair struct {
	key   string
	value *yaml.Node
}

// mapping builds a section from its pairs, in order.
func mapping(pairs ...pair) yaml.Node {
	n := yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, p := range pairs {
		n.Content = append(n.Content, str(p.key), p.value)
	}
	return n
}

// LaceworkTenant returns a lacework tenant, named by its account, that
// reads the Lacework emulator at baseURL with the variables LaceworkEnv
// sets: the default tenant written out as a configuration file's.
func LaceworkTenant(baseURL string) config.Tenant {
	section := mapping(
		pair{"account", str(lwemu.DefaultAccount)},
		pair{"api_url", str(baseURL)},
		pair{"api_key_env", str("LW_API_KEY")},
		pair{"api_secret_env", str("LW_API_SECRET")},
	)
	return config.Tenant{Source: config.DefaultSource, Sections: map[string]yaml.Node{config.DefaultSource: section}}
}
