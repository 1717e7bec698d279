package sources_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/source"
	"github.com/evidence-pack/evidence/internal/source/sources"
)

func envOf(m map[string]string, home string) func() source.Env {
	return func() source.Env {
		return source.Env{Getenv: func(k string) string { return m[k] }, Home: home, Redactor: httpx.NewRedactor()}
	}
}

// The example configuration, its commented tenants uncommented, opens:
// every tenant of every source, the Lacework one named after its account.
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
	env := map[string]string{"LW_API_KEY": "KEY", "LW_API_SECRET": "_secret", "SOPHOS_OPTIX_API_KEY": "k", "IBMCLOUD_API_KEY": "k", "LW_EDGE_API_TOKEN": "t",
		"GLOBEX_LW_API_KEY": "GK", "GLOBEX_LW_API_SECRET": "_gs"}
	reg := sources.Registry(sources.Options{})
	srcs, err := reg.OpenAll(context.Background(), &cfg, envOf(env, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, tn := range cfg.Tenants {
		seen[tn.Source] = srcs[i] != nil
		if tn.Name == "" {
			t.Errorf("tenant %d (%s) has no name", i+1, tn.Source)
		}
	}
	for _, name := range reg.Names() {
		if !seen[name] {
			t.Errorf("the example configuration has no %s tenant that opens", name)
		}
	}
}

// OpenAll reports every problem of every tenant at once, before any
// request: a Lacework tenant's settings come from its section, the
// environment and the lacework CLI's profile, and a tenant without a name
// takes its account's.
func TestOpenAll(t *testing.T) {
	home := t.TempDir()
	profile := "[default]\naccount = \"profiled\"\napi_key = \"PROFILE_KEY_1\"\napi_secret = \"_profile_secret\"\n"
	if err := os.WriteFile(filepath.Join(home, ".lacework.toml"), []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		home       string
		names      []string // the tenants' names after OpenAll
		errs       []string // each in the joined error; none: no error
	}{
		{"environment only", "", map[string]string{"LW_ACCOUNT": "acme", "LW_API_KEY": "K", "LW_API_SECRET": "s"}, "", []string{"acme"}, nil},
		{"profile", "", nil, home, []string{"profiled"}, nil},
		{"section over profile", "tenants:\n- lacework: {account: sect.lacework.net}\n", nil, home, []string{"sect"}, nil},
		{"named tenant keeps its name", "tenants:\n- name: mine\n  lacework: {account: acme, api_key: K}\n", map[string]string{"LW_API_SECRET": "s"}, "", []string{"mine"}, nil},
		{"every problem of every tenant", "tenants:\n- lacework: {account: a, api_key: k, api_secret_env: MY_SECRET}\n- source: sophos\n  sophos: {api_key_env: NO_SUCH_KEY}\n- source: ibm_scc\n  ibm_scc: {instance_idd: x}\n",
			nil, "", []string{"", "", ""}, []string{"tenant 1: ", "MY_SECRET", "tenant 2: sophos: NO_SUCH_KEY is empty or unset", "tenant 3: ibm_scc section", "instance_idd"}},
		{"a source that cannot name its tenant", "tenants:\n- source: sophos\n", map[string]string{"SOPHOS_OPTIX_API_KEY": "k"}, "", []string{""}, []string{"tenant 1: name is required for source sophos"}},
		{"a section of another source", "tenants:\n- name: x\n  source: sophos\n  lacework: {account: a}\n", map[string]string{"SOPHOS_OPTIX_API_KEY": "k"}, "", []string{"x"}, []string{`section "lacework" does not belong to source "sophos"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flags := config.Flags{}
			if tc.yaml != "" {
				flags.ConfigFile = filepath.Join(t.TempDir(), "c.yaml")
				if err := os.WriteFile(flags.ConfigFile, []byte(tc.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := config.Load(flags, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			_, err = sources.Registry(sources.Options{}).OpenAll(context.Background(), cfg, envOf(tc.env, tc.home))
			switch {
			case len(tc.errs) == 0 && err != nil:
				t.Fatal(err)
			case len(tc.errs) > 0 && err == nil:
				t.Fatal("no error")
			}
			for _, w := range tc.errs {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			for i, n := range tc.names {
				if cfg.Tenants[i].Name != n {
					t.Errorf("tenant %d named %q, want %q", i+1, cfg.Tenants[i].Name, n)
				}
			}
		})
	}
}
