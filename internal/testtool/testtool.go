// Package testtool gates tests on the programs outside Go that check the
// project's outputs independently: DuckDB (Parquet), openpyxl and
// LibreOffice (XLSX), poppler's pdftotext and pdftoppm (PDF), the AWS CLI
// and versitygw (S3), sha256sum and openssl (a pack's checksums and
// signature).
//
// Every gate behaves alike. On a developer's machine a missing program
// skips the test, loudly: the message says which check did not run and how
// to install what it needs. In CI (the CI variable set to anything, as
// .ci/run and every CI service do) it fails the test: a check that silently
// did not run is no check. .ci/run installs everything named here.
package testtool

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// InCI reports whether the tests run in CI: the CI variable is set.
func InCI() bool { return os.Getenv("CI") != "" }

// Missing ends the test because what needs is not available (err says
// why): it fails in CI and is skipped, loudly, elsewhere. install says how
// to get it.
func Missing(t testing.TB, needs, install string, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s is not available (%v), so this independent check did NOT run; install it: %s", needs, err, install)
	if InCI() {
		t.Fatalf("%s\n(CI is set: every check must run; .ci/run installs it)", msg)
	}
	bar := strings.Repeat("!", 78)
	t.Skipf("\n%s\n!!! SKIPPED: %s\n%s", bar, msg, bar)
}

// Install hints, for Debian (what .ci/run installs).
const (
	InstallPoppler     = "apt-get install poppler-utils"
	InstallOpenpyxl    = "apt-get install python3-openpyxl"
	InstallLibreOffice = "apt-get install libreoffice-calc-nogui"
	InstallAWSCLI      = "apt-get install awscli"
	InstallCoreutils   = "apt-get install coreutils"
	InstallOpenSSL     = "apt-get install openssl"
	InstallChromium    = "apt-get install chromium"
	InstallDuckDB      = "install node, run `npm install @duckdb/node-api@1.5.6-r.1` in a folder and set EVIDENCE_DUCKDB_NODE_MODULES to it"
)

// Program returns the path of the program name (looked up on PATH unless
// it is a path), after running it with probe when probe is given (a
// version flag, or an import) to check that it works.
func Program(t testing.TB, name, install string, probe ...string) string {
	t.Helper()
	p, err := find(name, probe)
	if err != nil {
		Missing(t, name, install, err)
	}
	return p
}

func find(name string, probe []string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", err
	}
	if len(probe) > 0 {
		if out, err := exec.Command(p, probe...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s %s: %w: %s", p, strings.Join(probe, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return p, nil
}

// Poppler returns the path of a poppler-utils program: pdftotext or
// pdftoppm.
func Poppler(t testing.TB, name string) string {
	t.Helper()
	return Program(t, name, InstallPoppler, "-v")
}

// Headless runs Chromium headless on args (a file:// URL last) as the
// tests do: no sandbox (CI runs as root), no GPU, nothing fetched in the
// background; it returns what Chromium printed on stdout (--dump-dom: the
// page's DOM after loading).
func Headless(t testing.TB, args ...string) []byte {
	t.Helper()
	chromium := Program(t, "chromium", InstallChromium, "--version")
	cmd := exec.Command(chromium, append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--no-first-run", "--user-data-dir=" + t.TempDir()}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return out
}

// Python returns a Python 3 that imports openpyxl: $EVIDENCE_PYTHON when
// set, else Debian's /usr/bin/python3 (where python3-openpyxl installs it),
// else python3 on PATH.
func Python(t testing.TB) string {
	t.Helper()
	var candidates []string
	if p := os.Getenv("EVIDENCE_PYTHON"); p != "" {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/python3", "python3")
	var errs []error
	for _, c := range candidates {
		p, err := find(c, []string{"-c", "import openpyxl"})
		if err == nil {
			return p
		}
		errs = append(errs, err)
	}
	Missing(t, "a Python 3 with openpyxl", InstallOpenpyxl, errors.Join(errs...))
	return ""
}

// LibreOffice returns the path of LibreOffice's soffice (or libreoffice).
func LibreOffice(t testing.TB) string {
	t.Helper()
	var errs []error
	for _, name := range []string{"soffice", "libreoffice"} {
		p, err := exec.LookPath(name)
		if err == nil {
			return p
		}
		errs = append(errs, err)
	}
	Missing(t, "LibreOffice (soffice)", InstallLibreOffice, errors.Join(errs...))
	return ""
}

// DuckDB returns node and the folder holding npm's @duckdb/node-api
// ($EVIDENCE_DUCKDB_NODE_MODULES), for the tests' DuckDB scripts.
func DuckDB(t testing.TB) (node, modules string) {
	t.Helper()
	modules = os.Getenv("EVIDENCE_DUCKDB_NODE_MODULES")
	var err error
	switch {
	case modules == "":
		err = errors.New("EVIDENCE_DUCKDB_NODE_MODULES is not set")
	default:
		_, err = os.Stat(filepath.Join(modules, "node_modules", "@duckdb", "node-api"))
	}
	if err == nil {
		node, err = exec.LookPath("node")
	}
	if err != nil {
		Missing(t, "DuckDB (node with @duckdb/node-api)", InstallDuckDB, err)
	}
	return node, modules
}
