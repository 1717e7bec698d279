package source_test

import (
	"context"
	"strings"
	"testing"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/source"
)

type fake struct{ cfg fakeConfig }

type fakeConfig struct {
	URL    string `yaml:"api_url"`
	KeyEnv string `yaml:"api_key_env"`
}

func (f *fake) Info() source.Info { return source.Info{System: "fake", BaseURL: f.cfg.URL} }
func (f *fake) Plan(context.Context, source.Request) (*source.Plan, error) {
	return &source.Plan{}, nil
}
func (f *fake) Stats() *httpx.Stats { return &httpx.Stats{} }

func openFake(_ context.Context, t config.Tenant, _ source.Env) (source.Source, error) {
	f := &fake{}
	if err := source.DecodeSection(t, &f.cfg); err != nil {
		return nil, err
	}
	return f, nil
}

func tenant(t *testing.T, doc string) config.Tenant {
	t.Helper()
	var cfg config.Config
	if err := config.Decode(strings.NewReader(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg.Tenants[0]
}

func TestRegistryOpen(t *testing.T) {
	reg := source.Registry{"fake": openFake}
	tests := []struct {
		name, doc, wantErr, wantURL string
	}{
		{"decodes its section", "tenants:\n- name: a\n  source: fake\n  fake: {api_url: 'https://x', api_key_env: K}\n", "", "https://x"},
		{"section may be absent", "tenants:\n- name: a\n  source: fake\n", "", ""},
		{"unknown source names the known ones", "tenants:\n- name: a\n  source: wiz\n", `tenant a: source "wiz" is not supported (want one of fake)`, ""},
		{"foreign section", "tenants:\n- name: a\n  source: fake\n  sophos: {}\n", `section "sophos" does not belong to source "fake"`, ""},
		{"unknown key is an error naming the tenant", "tenants:\n- name: a\n  source: fake\n  fake: {api_urll: x}\n", "tenant a: fake section", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := reg.Open(context.Background(), tenant(t, tc.doc), source.Env{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := src.Info().BaseURL; got != tc.wantURL {
				t.Errorf("api_url = %q, want %q", got, tc.wantURL)
			}
		})
	}
}
