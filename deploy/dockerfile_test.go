package deploy

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// root is the module root, relative to this package's directory.
const root = ".."

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int    // 1-based line where it starts
	cmd  string // upper case: FROM, RUN, ...
	args string // the rest, as written
}

// stage is one FROM and the instructions after it.
type stage struct {
	image, name, platform string
	body                  []instruction
}

// parseDockerfile splits a Dockerfile into instructions: comments and
// blank lines are dropped, lines ending in a backslash are joined (comment
// lines inside a continuation are skipped, as BuildKit does).
func parseDockerfile(text string) ([]instruction, error) {
	var out []instruction
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		cont := strings.HasSuffix(trimmed, `\`)
		cur.WriteString(strings.TrimSpace(strings.TrimSuffix(trimmed, `\`)))
		cur.WriteByte(' ')
		if cont {
			continue
		}
		full := strings.TrimSpace(cur.String())
		cur.Reset()
		if full == "" {
			continue
		}
		cmd, args, _ := strings.Cut(full, " ")
		out = append(out, instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
	}
	if cur.Len() > 0 {
		return nil, fmt.Errorf("line %d: continuation never ends", start)
	}
	return out, sc.Err()
}

// stages groups instructions by FROM; instructions before the first FROM
// (global ARGs) are returned apart.
func stages(ins []instruction) (global []instruction, st []stage, err error) {
	for _, in := range ins {
		if in.cmd != "FROM" {
			if len(st) == 0 {
				if in.cmd != "ARG" {
					return nil, nil, fmt.Errorf("line %d: %s before the first FROM", in.line, in.cmd)
				}
				global = append(global, in)
				continue
			}
			st[len(st)-1].body = append(st[len(st)-1].body, in)
			continue
		}
		var s stage
		f := strings.Fields(in.args)
		for len(f) > 0 && strings.HasPrefix(f[0], "--") {
			if v, ok := strings.CutPrefix(f[0], "--platform="); ok {
				s.platform = v
			}
			f = f[1:]
		}
		switch {
		case len(f) == 1:
			s.image = f[0]
		case len(f) == 3 && strings.EqualFold(f[1], "AS"):
			s.image, s.name = f[0], f[2]
		default:
			return nil, nil, fmt.Errorf("line %d: FROM %q: want IMAGE [AS NAME]", in.line, in.args)
		}
		st = append(st, s)
	}
	return global, st, nil
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.body {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

func (s stage) last(cmd string) (instruction, bool) {
	all := s.all(cmd)
	if len(all) == 0 {
		return instruction{}, false
	}
	return all[len(all)-1], true
}

// args returns the names of the ARGs a stage declares.
func (s stage) args() []string {
	var names []string
	for _, in := range s.all("ARG") {
		for _, f := range strings.Fields(in.args) {
			name, _, _ := strings.Cut(f, "=")
			names = append(names, name)
		}
	}
	return names
}

// envs returns the ENV values a stage sets (KEY=VALUE forms).
func (s stage) envs() map[string]string {
	m := map[string]string{}
	for _, in := range s.all("ENV") {
		for _, f := range strings.Fields(in.args) {
			if k, v, ok := strings.Cut(f, "="); ok {
				m[k] = strings.Trim(v, `"`)
			}
		}
	}
	return m
}

type dockerfile struct {
	global []instruction
	stages []stage
}

func (d dockerfile) final() stage { return d.stages[len(d.stages)-1] }

// builder is the stage whose output the final stage copies: the stage named
// by the final stage's COPY --from.
func (d dockerfile) builder(t *testing.T) stage {
	t.Helper()
	for _, in := range d.final().all("COPY") {
		for _, f := range strings.Fields(in.args) {
			if name, ok := strings.CutPrefix(f, "--from="); ok {
				for _, s := range d.stages[:len(d.stages)-1] {
					if s.name == name {
						return s
					}
				}
				t.Fatalf("line %d: COPY --from=%s names no earlier stage", in.line, name)
			}
		}
	}
	t.Fatal("the final stage copies nothing from a build stage (no COPY --from=...)")
	return stage{}
}

func loadDockerfile(t *testing.T) dockerfile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	ins, err := parseDockerfile(string(b))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	g, st, err := stages(ins)
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	if len(st) == 0 {
		t.Fatal("Dockerfile: no FROM")
	}
	return dockerfile{global: g, stages: st}
}

// buildRun is the builder's RUN that holds `go build`.
func buildRun(t *testing.T, s stage) instruction {
	t.Helper()
	for _, in := range s.all("RUN") {
		if strings.Contains(in.args, "go build") {
			return in
		}
	}
	t.Fatal("the build stage has no RUN ... go build")
	return instruction{}
}

var ldflagsRE = regexp.MustCompile(`-ldflags[ =]("([^"]*)"|'([^']*)')`)

// ldflags returns the -ldflags value of a go build command line.
func ldflags(t *testing.T, cmd string) string {
	t.Helper()
	m := ldflagsRE.FindStringSubmatch(cmd)
	if m == nil {
		t.Fatalf("go build has no quoted -ldflags: %s", cmd)
	}
	return m[2] + m[3]
}

// stamps maps each main.X that ldflags sets with -X to its value.
func stamps(flags string) map[string]string {
	m := map[string]string{}
	f := strings.Fields(flags)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "-X" {
			if k, v, ok := strings.Cut(f[i+1], "="); ok {
				m[k] = v
			}
		}
	}
	return m
}

func TestDockerfileParser(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []instruction
		wantErr    bool
	}{
		{"continuation and comments", "# c\nFROM a AS b\nRUN x \\\n  # inside\n  y\n\nUSER 1:1\n", []instruction{
			{2, "FROM", "a AS b"}, {3, "RUN", "x y"}, {7, "USER", "1:1"},
		}, false},
		{"lower-case instruction", "from a\n", []instruction{{1, "FROM", "a"}}, false},
		{"unterminated continuation", "FROM a\nRUN x \\\n", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDockerfile(tc.text)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && !slices.Equal(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
	if _, _, err := stages([]instruction{{1, "RUN", "x"}}); err == nil {
		t.Error("RUN before FROM accepted")
	}
	for image, want := range map[string]bool{
		"golang:1.26": true, "golang:1.26.3": true, "golang:1.26-bookworm": true, "golang:1.26@sha256:ab": true,
		"golang:1.2": false, "golang:1.260": false, "golang:1.25": false, "golang": false, "example.com/golang:1.26": false,
	} {
		if got := goImage(image, "1.26"); got != want {
			t.Errorf("goImage(%s, 1.26) = %v, want %v", image, got, want)
		}
	}
}

// TestDockerfile checks what the image must be: a multi-stage build of a
// static, stamped binary, run as a numeric non-root user on a base with no
// shell.
func TestDockerfile(t *testing.T) {
	d := loadDockerfile(t)
	final := d.final()
	build := d.builder(t)
	run := buildRun(t, build)
	flags := ldflags(t, run.args)
	st := stamps(flags)
	mainVars := mainStringVars(t)
	goVersion := moduleGoVersion(t)

	checks := []struct {
		name string
		ok   bool
		why  string
	}{
		{"multi-stage", len(d.stages) >= 2, fmt.Sprintf("%d stage(s)", len(d.stages))},
		{"build stage is named", build.name != "", "FROM ... AS NAME"},
		{"builder is golang:" + goVersion + " (go.mod's go directive)", goImage(build.image, goVersion),
			"builder image " + build.image},
		{"builder runs on the build platform (cross-compiles)", build.platform == "$BUILDPLATFORM", "--platform=" + build.platform},
		{"CGO_ENABLED=0", build.envs()["CGO_ENABLED"] == "0" || strings.Contains(run.args, "CGO_ENABLED=0"),
			"set ENV CGO_ENABLED=0 in the build stage"},
		{"-trimpath", strings.Contains(run.args, "-trimpath"), run.args},
		{"-s -w", slices.Contains(strings.Fields(flags), "-s") && slices.Contains(strings.Fields(flags), "-w"), flags},
		{"builds ./cmd/evidence", slices.Contains(strings.Fields(run.args), "./cmd/evidence"), run.args},
		{"final image is distroless or scratch",
			final.image == "scratch" || strings.HasPrefix(final.image, "gcr.io/distroless/static"),
			final.image},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !c.ok {
				t.Errorf("%s", c.why)
			}
		})
	}

	// Every stamp: main.version, main.commit, main.date, each from a build ARG
	// of the same name, upper case, and each a string variable of package main.
	for _, v := range []string{"version", "commit", "date"} {
		t.Run("ldflags stamp main."+v, func(t *testing.T) {
			val, ok := st["main."+v]
			if !ok {
				t.Fatalf("-ldflags %q does not set -X main.%s=...", flags, v)
			}
			arg := strings.ToUpper(v)
			if val != "${"+arg+"}" && val != "$"+arg {
				t.Errorf("-X main.%s=%s: want the build ARG ${%s}", v, val, arg)
			}
			if !slices.Contains(build.args(), arg) {
				t.Errorf("build stage does not declare ARG %s", arg)
			}
			if !mainVars[v] {
				t.Errorf("cmd/evidence has no package-level string variable %q: the stamp would be ignored", v)
			}
		})
	}

	t.Run("USER is numeric and not root", func(t *testing.T) {
		u, ok := final.last("USER")
		if !ok {
			t.Fatal("final stage has no USER: the image would run as root")
		}
		uid, gid, hasGroup := strings.Cut(u.args, ":")
		ids := []string{uid}
		if hasGroup {
			ids = append(ids, gid)
		}
		for _, id := range ids {
			n, err := strconv.Atoi(id)
			if err != nil {
				t.Errorf("USER %s: %q is not numeric (runAsNonRoot cannot check a name)", u.args, id)
			} else if n == 0 {
				t.Errorf("USER %s: 0 is root", u.args)
			}
		}
	})

	t.Run("ENTRYPOINT runs the copied binary", func(t *testing.T) {
		e, ok := final.last("ENTRYPOINT")
		if !ok {
			t.Fatal("final stage has no ENTRYPOINT")
		}
		var argv []string
		if err := json.Unmarshal([]byte(e.args), &argv); err != nil || len(argv) == 0 {
			t.Fatalf("ENTRYPOINT %s: want exec form, a JSON array (no shell in distroless): %v", e.args, err)
		}
		var copied []string
		for _, c := range final.all("COPY") {
			if f := strings.Fields(c.args); len(f) > 0 && strings.HasPrefix(f[0], "--from=") {
				copied = append(copied, f[len(f)-1])
			}
		}
		if !slices.Contains(copied, argv[0]) {
			t.Errorf("ENTRYPOINT %s is not a file copied from the build stage (%v)", argv[0], copied)
		}
	})

	t.Run("OCI labels", func(t *testing.T) {
		var labels strings.Builder
		for _, l := range final.all("LABEL") {
			labels.WriteString(l.args + " ")
		}
		for _, k := range []string{"title", "description", "source", "version", "revision", "created"} {
			if !strings.Contains(labels.String(), "org.opencontainers.image."+k+"=") {
				t.Errorf("no LABEL org.opencontainers.image.%s", k)
			}
		}
	})

	t.Run("no secrets baked in", func(t *testing.T) {
		for _, s := range d.stages {
			for _, in := range slices.Concat(s.all("ENV"), s.all("ARG")) {
				if u := strings.ToUpper(in.args); strings.Contains(u, "SECRET") || strings.Contains(u, "LW_API") || strings.Contains(u, "AWS_") {
					t.Errorf("line %d: %s %s: credentials come from the runtime environment, never the image", in.line, in.cmd, in.args)
				}
			}
		}
	})
}

// goImage reports whether image is the official Go image of release
// major.minor: golang:1.26, golang:1.26.3, golang:1.26-bookworm, or any of
// those pinned by digest.
func goImage(image, majorMinor string) bool {
	tag, ok := strings.CutPrefix(image, "golang:"+majorMinor)
	if !ok {
		return false
	}
	tag, _, _ = strings.Cut(tag, "@")
	return tag == "" || tag[0] == '.' || tag[0] == '-'
}

// mainStringVars parses cmd/evidence and returns its package-level
// variables that -X can set (string variables with a constant initialiser
// or none).
func mainStringVars(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	dir := filepath.Join(root, "cmd", "evidence")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name != "main" {
			t.Fatalf("%s: package %s, want main (-X main.version would not apply)", e.Name(), f.Name.Name)
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				isString := vs.Type != nil && fmt.Sprint(vs.Type) == "string"
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							isString = true
						}
					}
					if isString {
						vars[n.Name] = true
					}
				}
			}
		}
	}
	return vars
}

// moduleGoVersion is go.mod's go directive as major.minor ("1.26").
func moduleGoVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "go" {
			parts := strings.SplitN(f[1], ".", 3)
			if len(parts) < 2 {
				t.Fatalf("go.mod: go %s: want major.minor", f[1])
			}
			return parts[0] + "." + parts[1]
		}
	}
	t.Fatal("go.mod: no go directive")
	return ""
}

// dockerignored reports whether a .dockerignore pattern list leaves p out
// of the build context (patterns are root-relative, as Docker reads them;
// a later "!pattern" brings a path back).
func dockerignored(patterns []string, p string) bool {
	ignored := false
	for _, pat := range patterns {
		neg := strings.HasPrefix(pat, "!")
		pat = strings.Trim(strings.TrimPrefix(pat, "!"), "/")
		pat = path.Clean(pat)
		match := false
		// A pattern matching a parent directory leaves out everything below it.
		for q := p; q != "." && q != "/"; q = path.Dir(q) {
			if ok, _ := path.Match(pat, q); ok {
				match = true
				break
			}
		}
		if match {
			ignored = !neg
		}
	}
	return ignored
}

func readDockerignore(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var pats []string
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.Contains(line, "**") {
			t.Fatalf(".dockerignore: %q: ** is not understood by this test's matcher; list root-relative paths", line)
		}
		pats = append(pats, line)
	}
	return pats
}

func TestDockerignore(t *testing.T) {
	pats := readDockerignore(t)
	// What go build ./cmd/evidence reads: go.mod, go.sum and every package
	// it imports, with their embedded files.
	need := []string{"go.mod", "go.sum", "cmd/evidence/main.go", "internal/config/config.go", "templates/templates.go", "templates/fonts/DejaVuSans.ttf"}
	for _, p := range need {
		t.Run("keeps "+p, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); err != nil {
				t.Fatalf("%s: %v (update this test's list)", p, err)
			}
			if dockerignored(pats, p) {
				t.Errorf(".dockerignore leaves %s out of the build context", p)
			}
		})
	}
	for _, p := range []string{".git/config", "out/acme/x.pdf", "bin/evidence"} {
		t.Run("drops "+p, func(t *testing.T) {
			if !dockerignored(pats, p) {
				t.Errorf(".dockerignore keeps %s in the build context", p)
			}
		})
	}
	// The matcher itself.
	for _, tc := range []struct {
		pats []string
		p    string
		want bool
	}{
		{[]string{"docs"}, "docs/a/b.md", true},
		{[]string{"*.prom"}, "x.prom", true},
		{[]string{"*.prom"}, "internal/x.prom", false},
		{[]string{"docs", "!docs/keep.md"}, "docs/keep.md", false},
		{[]string{"/bin/"}, "bin/evidence", true},
	} {
		if got := dockerignored(tc.pats, tc.p); got != tc.want {
			t.Errorf("dockerignored(%q, %s) = %v, want %v", tc.pats, tc.p, got, tc.want)
		}
	}
}

// TestDockerBuildCommand runs the Dockerfile's own go build command line
// (its environment, flags and ldflags, with test values for the ARGs) and
// checks that the binary is static and reports the stamped version: what
// `docker build` would produce, without a container engine.
func TestDockerBuildCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the image is linux")
	}
	d := loadDockerfile(t)
	build := d.builder(t)
	run := buildRun(t, build)
	args := map[string]string{"VERSION": "v9.9.9-test", "COMMIT": "c0ffee1", "DATE": "2026-01-02T03:04:05Z"}
	flags := os.Expand(ldflags(t, run.args), func(k string) string { return args[k] })
	out := filepath.Join(t.TempDir(), "evidence")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", flags, "-o", out, "./cmd/evidence")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	for k, v := range build.envs() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, b)
	}

	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("binary has an ELF interpreter: it is dynamically linked and will not start on distroless/static")
		}
	}
	if s := f.Section(".symtab"); s != nil {
		t.Error("binary has a symbol table: -s was not applied")
	}

	var stdout bytes.Buffer
	v := exec.Command(out, "version")
	v.Stdout = &stdout
	v.Stderr = &stdout
	if err := v.Run(); err != nil {
		t.Fatalf("evidence version: %v\n%s", err, stdout.String())
	}
	for _, want := range []string{args["VERSION"], args["COMMIT"], args["DATE"]} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("evidence version printed %q, want it to contain %q", strings.TrimSpace(stdout.String()), want)
		}
	}
}
