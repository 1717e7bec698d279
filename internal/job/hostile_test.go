package job_test

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/httpx/httpxtest"
	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/storage/local"
	"github.com/evidence-pack/evidence/internal/testtool"
)

// echoServer stands in front of the Lacework emulator and echoes the
// request's credential headers in error bodies: a 400 for every inventory
// search, a 500 for every report, and a 403 for the token request of the
// key refusedSecret. It remembers every bearer token it saw.
type echoServer struct {
	next          http.Handler
	refusedSecret string
	mu            sync.Mutex
	tokens        map[string]bool
}

func (e *echoServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(auth, "Bearer "); ok {
		e.mu.Lock()
		e.tokens[tok] = true
		e.mu.Unlock()
	}
	echo := func(status int) {
		msg := fmt.Sprintf("invalid request; you sent X-LW-UAKS: %s, Authorization: %s", r.Header.Get("X-LW-UAKS"), auth)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
	}
	switch {
	case r.URL.Path == "/api/v2/access/tokens" && r.Header.Get("X-LW-UAKS") == e.refusedSecret:
		echo(http.StatusForbidden)
	case r.URL.Path == "/api/v2/Inventory/search":
		echo(http.StatusBadRequest)
	case strings.HasPrefix(r.URL.Path, "/api/v2/Reports"):
		echo(http.StatusInternalServerError)
	default:
		e.next.ServeHTTP(w, r)
	}
}

// A server that echoes the API secret and the bearer token in its error
// bodies gets neither into any byte of the pack (unzipped workbooks and
// the text of the PDFs included), the logs or the run's error.
func TestEchoedSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const refusedSecret = "_refusedsecret_42"
	emu := emulator.New(emulator.Config{Now: func() time.Time { return now }, EvaluationsPerDay: 50, InventoryPerCSP: 20, AuditLogsPerDay: 20, Recommendations: 3})
	echo := &echoServer{next: emu, refusedSecret: refusedSecret, tokens: map[string]bool{}}
	srv := httptest.NewServer(echo)
	defer srv.Close()

	// One sub-account and framework: every kind of file is still written
	// (workbooks, PDFs, Parquet) for the secrets to leak into.
	refused := narrowConfig(t, srv.URL, func(v map[string]string) { v["LW_API_SECRET"] = refusedSecret }).Tenants[0]
	refused.Name = "refused"
	cfg := narrowConfig(t, srv.URL, nil)
	cfg.Tenants = append(cfg.Tenants, refused)
	dir := t.TempDir()
	store, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	var logs httpxtest.SyncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	res, err := job.Run(context.Background(), cfg, job.Deps{Getenv: testGetenv, Sources: testSources, Store: store, Logger: log, Now: func() time.Time { return now },
		Retry: httpx.Retry{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}})
	if !errors.Is(err, httpx.ErrAuth) {
		t.Fatalf("err = %v, want the refused tenant's ErrAuth", err)
	}
	if len(res.Packs) != 1 || len(res.Packs[0].Manifest.Failures) == 0 {
		t.Fatalf("packs %+v: want acme's, with failed units", res.Packs)
	}
	// The echo reached the pack, redacted.
	if f := res.Packs[0].Manifest.Failures[0]; !strings.Contains(f.Error, httpx.Redacted) {
		t.Errorf("failure %q: the echoed headers should be there, redacted", f.Error)
	}
	if !strings.Contains(err.Error(), httpx.Redacted) {
		t.Errorf("err %q: the echoed secret should be there, redacted", err)
	}

	secrets := []string{emulator.DefaultSecret, refusedSecret}
	echo.mu.Lock()
	for tok := range echo.tokens {
		secrets = append(secrets, tok)
	}
	echo.mu.Unlock()
	if len(secrets) < 3 {
		t.Fatal("no bearer token was seen")
	}
	texts := map[string]string{"run error": err.Error(), "logs": logs.String()}
	for name, text := range packTexts(t, dir) {
		texts[name] = text
	}
	for name, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s holds the secret %q", name, s)
			}
		}
	}
}

// packTexts returns the bytes of every file under dir, every entry of a
// workbook unzipped, and every PDF's inflated streams and pdftotext text.
func packTexts(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	stream := regexp.MustCompile(`(?s)stream\r?\n(.*?)endstream`)
	pdftotext := testtool.Poppler(t, "pdftotext")
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[p] = string(b)
		switch filepath.Ext(p) {
		case ".xlsx":
			zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			for _, f := range zr.File {
				rc, err := f.Open()
				if err != nil {
					return err
				}
				c, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					return err
				}
				out[p+"!"+f.Name] = string(c)
			}
		case ".pdf":
			for i, m := range stream.FindAllSubmatch(b, -1) {
				if zr, err := zlib.NewReader(bytes.NewReader(m[1])); err == nil {
					c, _ := io.ReadAll(zr)
					out[fmt.Sprintf("%s stream %d", p, i)] = string(c)
				}
			}
			txt, err := exec.Command(pdftotext, p, "-").Output()
			if err != nil {
				return fmt.Errorf("pdftotext %s: %w", p, err)
			}
			out[p+" (pdftotext)"] = string(txt)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
