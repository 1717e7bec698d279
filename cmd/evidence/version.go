package main

import (
	"cmp"
	"context"
	"fmt"
	"runtime/debug"
)

// Set at build time with -ldflags "-X main.version=… -X main.commit=… -X main.date=…"
// (make build, make image). Without them (go install, go run) they come
// from the build information Go records: see init.
var (
	version = ""
	commit  = ""
	date    = ""
)

// init fills what ldflags did not set from the binary's build information:
// the module version of `go install …@v1.2.3`, else "devel" and the VCS
// revision (with "+dirty" for uncommitted changes) and commit time of a
// build from a checkout. The one string reaches the manifest, the PDFs,
// the workbooks, Parquet's created_by and the User-Agent alike.
func init() {
	bi, ok := debug.ReadBuildInfo()
	version, commit, date = buildVersion(version, commit, date, bi, ok)
}

// buildVersion completes the ldflags values v, c, d from bi.
func buildVersion(v, c, d string, bi *debug.BuildInfo, ok bool) (string, string, string) {
	if !ok {
		return cmp.Or(v, "devel"), c, d
	}
	var rev, at string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty && rev != "" {
		rev += "+dirty"
	}
	if v == "" {
		v = "devel"
		if mv := bi.Main.Version; mv != "" && mv != "(devel)" {
			v = mv
		} else if rev != "" {
			v = "devel-" + rev
		}
	}
	return v, cmp.Or(c, rev), cmp.Or(d, at)
}

func cmdVersion(_ context.Context, _ []string, e env) error {
	fmt.Fprintf(e.stdout, "evidence %s (commit %s, built %s)\n", version, cmp.Or(commit, "-"), cmp.Or(date, "-"))
	return nil
}
