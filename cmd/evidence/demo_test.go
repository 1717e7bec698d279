package main

import (
	"bufio"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// `evidence demo --serve` keeps the emulators running and prints a
// configuration and variables with which the other commands read them:
// frameworks and plan see every platform, and a run of another period than
// the default publishes a pack, whose period folder verify then lists.
func TestDemoServe(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, w := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- cliTo(t, ctx, nil, w, io.Discard, "demo", "--serve", "--out", out)
		w.Close()
	}()
	vars := map[string]string{}
	var cfgFile string
	lines := bufio.NewScanner(r)
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		if kv, ok := strings.CutPrefix(line, "export "); ok {
			k, v, _ := strings.Cut(kv, "=")
			vars[k] = v
		}
		if f, ok := strings.CutPrefix(line, "evidence frameworks --config "); ok {
			cfgFile = f
		}
		if strings.Contains(line, "evidence schedule --config") {
			break // the last command printed: the emulators serve
		}
	}
	go func() { _, _ = io.Copy(io.Discard, r) }()
	if cfgFile != filepath.Join(out, "evidence-demo.yaml") || len(vars) == 0 {
		t.Fatalf("config %q, variables %v", cfgFile, vars)
	}

	code, stdout, stderr := cli(t, ctx, vars, "frameworks", "--config", cfgFile)
	if code != exitOK {
		t.Fatalf("frameworks: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, tenant := range []string{"acme", "optix-demo", "scc-demo", "edge-demo"} {
		if !strings.Contains(stdout, tenant) {
			t.Errorf("frameworks does not show tenant %s:\n%s", tenant, stdout)
		}
	}
	if code, stdout, stderr := cli(t, ctx, vars, "plan", "--config", cfgFile, "--probe=false"); code != exitOK {
		t.Errorf("plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	day := time.Now().UTC().AddDate(0, 0, -5).Format(time.DateOnly)
	code, stdout, stderr = cli(t, ctx, vars, "run", "--config", cfgFile, "--source", "lacework", "--dataset", "reports", "--from", day, "--to", day)
	if code != exitOK {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	periodDir := filepath.Join(out, "acme", day)
	code, stdout, stderr = cli(t, ctx, nil, "verify", periodDir)
	if code != exitUsage || !strings.Contains(stderr, "a folder of packs (1)") || !strings.Contains(stderr, "(latest.json") ||
		!strings.Contains(stderr, "\n  "+periodDir+string(filepath.Separator)) {
		t.Errorf("verify of a period folder: exit %d\n%s\n%s", code, stdout, stderr)
	}

	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("demo --serve: exit %d after Ctrl-C", code)
	}
}
