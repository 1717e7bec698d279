package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/reportgen"
)

var now = time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)

// Without a file, a run has one tenant of the default source, whose
// settings its source reads from the environment (source.Registry.OpenAll).
func TestLoadWithoutFile(t *testing.T) {
	cfg, err := Load(Flags{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Tenants) != 1 || cfg.Tenants[0].Source != DefaultSource || cfg.Tenants[0].Name != "" {
		t.Fatalf("tenants %+v", cfg.Tenants)
	}
	if len(cfg.Datasets) != 4 || cfg.Output != "./out" {
		t.Fatalf("defaults %+v", cfg)
	}
}

func TestExampleConfigLoads(t *testing.T) {
	cfg, err := Load(Flags{ConfigFile: "../../configs/evidence.example.yaml", Out: "/tmp/x", Datasets: []string{"reports"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Output != "/tmp/x" || len(cfg.Datasets) != 1 || cfg.Tenants[0].Source != DefaultSource || cfg.Tenants[0].Sections[DefaultSource].Kind == 0 {
		t.Fatalf("%+v", cfg)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", "outptu: x\n", []string{"outptu"}},
		{"bad dataset and concurrency", "concurrency: 0\ndatasets: [reprots]\ntenants:\n- lacework: {account: a, api_key: k}\n",
			[]string{"concurrency 0", `dataset "reprots"`}},
		{"tenant concurrency out of range", "tenants:\n- name: x\n  source: sophos\n  concurrency: 99\n", []string{"concurrency 99"}},
		{"names used twice", "tenants:\n- {name: x, source: sophos}\n- {name: x, source: lacework}\n", []string{"tenant 2 (x): tenant name used twice"}},
		{"security lake without region and account", "security_lake: {location: s3://b/ext/evidence}\n",
			[]string{`security lake region ""`, `security lake account ""`}},
		{"security lake account not AWS", "security_lake: {location: s3://b/ext/evidence, region: us-east-1, account_id: acme-proj}\n",
			[]string{`security lake account "acme-proj"`}},
		{"security lake in the output", "output: s3://b/ext/evidence\nsecurity_lake: {location: s3://b/ext/evidence, region: eu-west-1, account_id: '123456789012'}\n",
			[]string{"security lake s3://b/ext/evidence is the output"}},
		{"security lake region alone", "security_lake: {region: eu-west-1}\n", []string{"without a location"}},
		{"unknown paper", "paper: A3\n", []string{`paper "A3": want a4 or letter (paper:, --paper)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(p, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(Flags{ConfigFile: p}, now)
			if err == nil {
				err = cfg.Validate()
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// The paper comes from the file, a flag overrides it, and none is the
// default.
func TestPaper(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, flag string
		want             reportgen.Paper
	}{
		{"none", "", "", reportgen.A4},
		{"file", "paper: letter\n", "", reportgen.Letter},
		{"flag over file", "paper: letter\n", "a4", reportgen.A4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(p, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(Flags{ConfigFile: p, Paper: tc.flag}, now)
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := cfg.Paper.OrDefault(); got != tc.want {
				t.Errorf("paper %q, want %q", got, tc.want)
			}
		})
	}
}

// A valid Security Lake from the file, a flag overriding its location.
func TestSecurityLakeConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("security_lake: {location: s3://b/ext/a, region: eu-central-1, account_id: '123456789012'}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(Flags{ConfigFile: p, SecurityLake: SecurityLake{Location: "s3://b/ext/evidence"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := SecurityLake{Location: "s3://b/ext/evidence", Region: "eu-central-1", AccountID: "123456789012"}
	if cfg.SecurityLake != want {
		t.Errorf("security lake %+v, want %+v", cfg.SecurityLake, want)
	}
	if err := cfg.Validate(); err != nil && strings.Contains(err.Error(), "security lake") {
		t.Errorf("Validate: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	b, _ := os.ReadFile("../../configs/evidence.example.yaml")
	f.Add(b)
	f.Add([]byte("tenants: [{lacework: {frameworks: [a, b]}}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var cfg Config
		_ = Decode(strings.NewReader(string(b)), &cfg)
	})
}

// Tenants whose names clean up to one folder would share state.json and
// latest.json: Validate refuses each pair, naming both and the folder.
func TestTenantsSharingAFolderAreRefused(t *testing.T) {
	tenant := func(name string) Tenant { return Tenant{Name: name, Source: "sophos"} }
	for _, tc := range []struct {
		name    string
		tenants []string
		want    []string
	}{
		{"space and underscore", []string{"acme prod", "acme_prod"}, []string{`"acme prod" and "acme_prod" would share the folder "acme_prod"`}},
		{"non-Latin", []string{"東京", "大阪", "ok"}, []string{`"東京" and "大阪" would share the folder "_"`}},
		{"distinct", []string{"acme", "acme-prod", "東京"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{Output: "out", Concurrency: 1, Period: period.Window{From: now.Add(-time.Hour), To: now}}
			for _, n := range tc.tenants {
				cfg.Tenants = append(cfg.Tenants, tenant(n))
			}
			err := cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err %q, want %q", err, w)
				}
			}
		})
	}
}
