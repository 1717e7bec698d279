package pack

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/templates"
)

// IndexName is the pack's landing page: a static page (no script, nothing
// fetched) that says what the pack is, how to verify it, and lists every
// other file with what it is, its size and SHA-256, linked. Publish writes
// it after the data files; it is listed in SHA256SUMS and manifest.json
// like a data file, and cannot list its own checksum.
const IndexName = "index.html"

// Describe says what the file at path p of a pack is, from the layout:
// "" for a path the layout does not build.
func Describe(p string) string {
	switch {
	case p == SummaryPDF:
		return "Summary: scope, failures and warnings, results per framework, the files"
	case p == ReportPDF:
		return "The period report: compliance per framework per day, controls that failed, the daily packs read, the sample"
	case p == ReportWorkbook:
		return "The period report's tables (workbook)"
	case strings.HasPrefix(p, tablesDir+"/"):
		if t, err := ParseReportTable(p); err == nil {
			return "Table " + t + " of the period report (Parquet)"
		}
	case p == DuckDBViews:
		return "DuckDB views of the Parquet tables (run duckdb -init pack.duckdb.sql here)"
	case p == SumsName:
		return "SHA-256 of every file but manifest.json (sha256sum -c SHA256SUMS)"
	case p == ManifestName:
		return "What the pack holds and covers, every file's size and SHA-256; written last"
	case p == SignatureName:
		return "ed25519 signature of manifest.json's bytes"
	case InParquet(p):
		if f, err := ParseParquet(p); err == nil {
			return fmt.Sprintf("Table %s, sub-account %s (Parquet)", f.Table, f.SubAccount)
		}
	case strings.HasPrefix(p, frameworksDir+"/"):
		parts := strings.Split(p, "/")
		switch {
		case len(parts) == 3 && parts[2] == "evidence.pdf":
			return "Framework " + parts[1] + ": the report (PDF)"
		case len(parts) == 3 && parts[2] == "evidence.xlsx":
			return "Framework " + parts[1] + ": controls, violations and resources (workbook)"
		case len(parts) == 4 && parts[2] == vendorDir:
			return "Framework " + parts[1] + ": the platform's own report of one cloud account, as delivered"
		}
	case strings.HasSuffix(p, ".xlsx") && !strings.Contains(p, "/"):
		return "Table " + strings.ReplaceAll(strings.TrimSuffix(p, ".xlsx"), "-", "_") + " (workbook)"
	}
	return ""
}

// indexPage is the data of the index template.
type indexPage struct {
	M      Manifest
	Files  []indexFile
	Verify string
}

type indexFile struct {
	File
	About string
	Human string // the size for people
}

// writeIndex writes the landing page of the pack m describes, listing
// files; key is the signing key's fingerprint, "" when unsigned.
func writeIndex(w io.Writer, m Manifest, files []File, key string) error {
	verify, err := templates.Text("verify", map[string]any{"Key": key})
	if err != nil {
		return err
	}
	page := indexPage{M: m, Verify: verify}
	for _, f := range files {
		page.Files = append(page.Files, indexFile{File: f, About: Describe(f.Path), Human: humanSize(f.Size)})
	}
	t, err := template.New("index").Funcs(template.FuncMap{
		"utc": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	}).Parse(indexTemplate)
	if err != nil {
		return err
	}
	return t.Execute(w, page)
}

// humanSize is n bytes in B, KiB, MiB or GiB, one decimal above bytes.
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n)/unit, "KiB"
	for _, s := range []string{"MiB", "GiB", "TiB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}

// indexTemplate is the page. Its Content-Security-Policy lets it load
// nothing at all: the styles are inline, and there is no script.
const indexTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evidence pack {{.M.Tenant}} {{.M.Period.Label}} ({{.M.PackID}})</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { font-weight: bold; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; table-layout: fixed; }
th, td { text-align: left; padding: 0.25em 0.5em; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #1f3864; color: white; }
td.n { text-align: right; white-space: nowrap; }
code, td.h { font-family: ui-monospace, monospace; font-size: 0.85em; }
td { overflow-wrap: anywhere; }
pre { background: #f4f4f4; padding: 0.8em; white-space: pre-wrap; }
.warn { background: #fde2e2; padding: 0.5em; }
</style>
</head>
<body>
<h1>Evidence pack</h1>
<p>{{.M.Tenant}} · {{.M.Period.Label}}</p>
<dl>
<dt>Tenant</dt><dd>{{.M.Tenant}}</dd>
<dt>Period (UTC)</dt><dd>{{utc .M.Period.From}} to {{utc .M.Period.To}} (exclusive)</dd>
<dt>Source</dt><dd>{{with .M.Source.API}}{{.}}{{else}}{{.M.Source.System}}{{end}}{{with .M.Source.BaseURL}} at {{.}}{{end}}</dd>
<dt>Generated at (UTC)</dt><dd>{{utc .M.GeneratedAt}}</dd>
<dt>Pack id</dt><dd><code>{{.M.PackID}}</code></dd>
<dt>Generator</dt><dd>{{.M.Generator.Name}} {{.M.Generator.Version}}</dd>
</dl>
{{with .M.Failures}}<p class="warn">{{len .}} unit(s) failed: their data is missing from this pack. summary.pdf and manifest.json list them.</p>
{{end}}<p>Start with <a href="summary.pdf">summary.pdf</a>. <a href="manifest.json">manifest.json</a> is written last: without it the pack is not complete.</p>
<h2>How to verify this pack</h2>
<pre>{{.Verify}}</pre>
<p>This page is a file of the pack: its own SHA-256 is in <a href="SHA256SUMS">SHA256SUMS</a> and manifest.json.</p>
<h2>Files ({{len .Files}})</h2>
<table>
<colgroup><col style="width: 34%"><col style="width: 30%"><col style="width: 8%"><col style="width: 28%"></colgroup>
<thead><tr><th>File</th><th>What it is</th><th>Size</th><th>SHA-256</th></tr></thead>
<tbody>
{{range .Files}}<tr><td><a href="{{.Path}}">{{.Path}}</a></td><td>{{.About}}</td><td class="n" title="{{.Size}} bytes">{{.Human}}</td><td class="h">{{.SHA256}}</td></tr>
{{end}}</tbody>
</table>
</body>
</html>
`
