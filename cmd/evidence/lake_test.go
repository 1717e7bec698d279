package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
)

// --lake copies the pack's Parquet files into the lake; a lake that cannot
// be written leaves the pack published and the run partial (exit 3).
func TestRunExportsToTheLake(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(emulator.New(emulator.Config{EvaluationsPerDay: 20, InventoryPerCSP: 5, AuditLogsPerDay: 5, Recommendations: 2}))
	defer srv.Close()
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		lake   string
		code   int
		stdout string
		stderr string
	}{
		{"exported", filepath.Join(t.TempDir(), "lake"), exitOK, "Data lake: ", ""},
		{"lake fails, pack stands", filepath.Join(notADir, "lake"), exitPartial, "Pack for acme written to", "evidence: data lake: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			code, stdout, stderr := cli(t, context.Background(), lwEnv(srv.URL), "run", "--out", out, "--dataset", "reports", "--lake", tc.lake)
			if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s", code, tc.code, stdout, stderr)
			}
			if len(manifests(t, out)) != 1 {
				t.Errorf("the pack is not published")
			}
		})
	}
}
