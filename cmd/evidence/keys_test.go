package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
)

// A tenant with several API keys (api_keys:, each another user with its
// own budget) spreads its units over them; the pages of one result set
// stay on the key that started it; a key whose credentials are refused is
// named in a warning and left out, and the run completes with the others.
func TestAPIKeysArePooled(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Config{EvaluationsPerDay: 400, InventoryPerCSP: 300, AuditLogsPerDay: 10, Recommendations: 4,
		PageSize: 50, MoreKeys: map[string]string{"SECOND_KEY_ID": "_second_secret"}})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	cfgFile := filepath.Join(t.TempDir(), "evidence.yaml")
	err := os.WriteFile(cfgFile, []byte(`tenants:
  - source: lacework
    lacework:
      account: acme
      subaccount: acme
      api_url: `+srv.URL+`
      api_keys:
        - {api_key: SECOND_KEY_ID, api_secret_env: SECOND_SECRET}
        - {api_key: REFUSED_KEY_ID, api_secret_env: REFUSED_SECRET}
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	vars := lwEnv(srv.URL)
	vars["SECOND_SECRET"], vars["REFUSED_SECRET"] = "_second_secret", "_not_the_secret"
	out := t.TempDir()
	code, stdout, stderr := cli(t, context.Background(), vars, "run", "--config", cfgFile, "--out", out, "--dataset", "reports,evaluations,inventory")
	if code != exitOK {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	m := readManifest(t, manifests(t, out)[0])
	if !slices.ContainsFunc(m.Warnings, func(w string) bool { return strings.Contains(w, "REFU") && strings.Contains(w, "credentials refused") }) {
		t.Errorf("no warning names the refused key: %q", m.Warnings)
	}
	data := map[string]int{}    // data requests by key
	sets := map[string]string{} // result set → the key of its pages
	for _, r := range emu.Requests() {
		if r.Bucket == "" || strings.Contains(r.Path, "access/tokens") || r.Status != 200 {
			continue
		}
		data[r.KeyID]++
		if r.PageID != "" {
			set := r.PageID[:strings.LastIndex(r.PageID, "|")]
			if k, ok := sets[set]; ok && k != r.KeyID {
				t.Errorf("result set %s read with keys %s and %s", set, k, r.KeyID)
			}
			sets[set] = r.KeyID
		}
	}
	if data[emulator.DefaultKeyID] == 0 || data["SECOND_KEY_ID"] == 0 || data["REFUSED_KEY_ID"] != 0 {
		t.Errorf("data requests by key %v: want both good keys used, the refused one not", data)
	}
	paged := 0
	for range sets {
		paged++
	}
	if paged < 2 {
		t.Errorf("%d paged result sets: the test checks too little", paged)
	}
	// Two shards of an Indexed Job, given the same configuration, each use
	// their own keys (key j goes to shard j mod 2: the first and the
	// refused one to shard 0, the second to shard 1), and hold together
	// the same rows as the one pod with the keys pooled.
	rowIDs := func(packDir string) map[string][]string {
		out := map[string][]string{}
		for _, table := range []string{"controls", "violations", "evaluations", "inventory"} {
			for _, r := range readRows[struct {
				ID *string `parquet:"row_id,optional"`
			}](t, packDir, table) {
				out[table] = append(out[table], *r.ID)
			}
			slices.Sort(out[table])
		}
		return out
	}
	pooled := rowIDs(filepath.Dir(manifests(t, out)[0]))
	sharded := map[string][]string{}
	for i, want := range []string{emulator.DefaultKeyID, "SECOND_KEY_ID"} {
		dir := t.TempDir()
		before := len(emu.Requests())
		if code, stdout, stderr := cli(t, context.Background(), vars, "run", "--config", cfgFile, "--out", dir, "--dataset", "reports,evaluations,inventory",
			"--shard", []string{"0/2", "1/2"}[i]); code != exitOK {
			t.Fatalf("shard %d: exit %d\n%s\n%s", i, code, stdout, stderr)
		}
		for _, r := range emu.Requests()[before:] {
			if r.Bucket != "" && !strings.Contains(r.Path, "access/tokens") && r.KeyID != want {
				t.Errorf("shard %d: a request with key %s, want only %s: %s", i, r.KeyID, want, r.Path)
			}
		}
		for table, ids := range rowIDs(filepath.Dir(manifests(t, dir)[0])) {
			sharded[table] = append(sharded[table], ids...)
		}
	}
	for table, ids := range pooled {
		slices.Sort(sharded[table])
		if len(ids) == 0 || !slices.Equal(ids, sharded[table]) {
			t.Errorf("%s: %d rows pooled, %d in the shards together, or not the same", table, len(ids), len(sharded[table]))
		}
	}

	// The plan gives each key's share of a bucket its own line.
	code, stdout, _ = cli(t, context.Background(), vars, "plan", "--config", cfgFile, "--probe=false", "--dataset", "reports")
	if code != exitOK || !strings.Contains(stdout, "Reports · API key EMUL") || !strings.Contains(stdout, "Reports · API key SECO") {
		t.Errorf("plan: exit %d\n%s", code, stdout)
	}
}
