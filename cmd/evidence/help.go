package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// help is what `evidence COMMAND -h` prints besides the flags: the same
// commands, in the same order, make the top-level usage (usage).
type help struct {
	name    string
	args    string // after the name: "[flags]", "[--pub KEY] PATH"
	summary string // one line in the top-level usage
	about   string // what the command does, a paragraph or two
	// examples are command lines, each with a comment line above it.
	examples [][2]string
	// vars are the environment variables the command reads.
	vars []string
}

// helps lists every command's help, in the order of the top-level usage.
func helps() []help {
	// The environment of the commands that read the platforms: the
	// Lacework variables of a run without --config, the variables tenants'
	// sections name, and the AWS default chain for s3:// locations.
	platformVars := []string{
		"LW_ACCOUNT, LW_API_KEY, LW_API_SECRET",
		"    the Lacework tenant without --config (or a ~/.lacework.toml profile)",
		"LW_SUBACCOUNT, LW_API_URL, LW_PROFILE",
		"    one sub-account; another API host; another profile of ~/.lacework.toml",
		"the variables each tenant of --config names (defaults SOPHOS_OPTIX_API_KEY,",
		"    IBMCLOUD_API_KEY, LW_EDGE_API_TOKEN: configs/evidence.example.yaml)",
	}
	s3Vars := []string{
		"AWS_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID, …",
		"    s3:// locations: the AWS SDK's default credential chain",
		"AWS_ENDPOINT_URL_S3",
		"    an S3-compatible server (or --s3-endpoint)",
	}
	return []help{
		{name: "run", args: "[flags]", summary: "publish a pack per tenant for a period (default: yesterday, UTC)",
			about: "Reads every configured tenant for the period and publishes, per tenant, a pack: workbooks, PDFs, Parquet tables and the platform's own reports, with manifest.json and SHA256SUMS listing the SHA-256 of every file. A request no tenant can meet (a future period, an unknown account) is refused before any API call, every problem listed.\n\nExit codes: 0 complete; 1 failed, no pack; 2 usage or configuration error; 3 pack published with failed units (listed in it) or the lake export failed.",
			examples: [][2]string{
				{"yesterday (UTC), Lacework from LW_* variables, into ./out", "evidence run"},
				{"a month for one framework, signed, to S3", "evidence run --from 2026-11-01 --to 2026-11-30 --framework \"CIS 1.4\" \\\n      --sign-key evidence-signing.key --out s3://audit-bucket/evidence"},
				{"every tenant of a configuration file", "evidence run --config evidence.yaml"},
			},
			vars: append(append([]string{}, platformVars...), s3Vars...)},
		{name: "plan", args: "[flags]", summary: "show the units, requests and time a run would take",
			about: "Discovers what a run with the same flags would collect and prints its units, the requests they need and the time they take under each platform's rate limits. With --probe (the default) it reads the first page of each result set to count its rows; --probe=false reads no data at all, and gives a floor.",
			examples: [][2]string{
				{"what a quarter would cost", "evidence plan --from 2026-07-01 --to 2026-09-30"},
				{"no data requests at all", "evidence plan --probe=false --config evidence.yaml"},
			},
			vars: platformVars},
		{name: "frameworks", args: "[flags]", summary: "list the frameworks and cloud accounts each tenant's key can see",
			about:    "Lists, per tenant, the frameworks (report types) and the cloud accounts discovery finds for the period (default: yesterday, UTC): the names --framework and --account accept.",
			examples: [][2]string{{"", "evidence frameworks --config evidence.yaml"}},
			vars:     platformVars},
		{name: "verify", args: "[--pub KEY] [--chain] PATH", summary: "check a pack's files against its manifest (and signature)",
			about: "Checks every file of the pack at PATH (a folder or s3://bucket/prefix/ holding manifest.json) against the SHA-256 and size its manifest records, and that the pack holds no other file. With --pub it also checks manifest.sig. On S3 it compares the checksums S3 stored and reports Object Lock. Given a folder that holds packs (a period's or a tenant's), it lists them; with --chain it checks a tenant's folder as a chain: every pack, the link each manifest holds to the pack published before it (and to the pack of its period it replaces), and which days of the range no verifying pack covers.\n\nWithout the program: cd PATH && sha256sum -c SHA256SUMS",
			examples: [][2]string{
				{"", "evidence verify out/acme/2026-11-21/20261122T021500Z-3f9a1c"},
				{"with the signature", "evidence verify --pub evidence-signing.pub \\\n      s3://audit-bucket/evidence/acme/2026-11-21/20261122T021500Z-3f9a1c/"},
				{"a tenant's whole observation period, every pack signed by the key", "evidence verify --chain --pub evidence-signing.pub out/acme"},
			},
			vars: s3Vars},
		{name: "diff", args: "[--json] PACK_A PACK_B", summary: "what changed between two packs of a tenant",
			about: "Compares two packs of a tenant (folders or s3:// locations, the earlier first), from their Parquet tables alone: controls newly failing, newly passing and still failing, with the first day each still failing control failed along the second pack's chain of packs; other status changes; exceptions (suppressions, accepted risks) added, removed, changed and newly expired; and the inventory's resources added and gone. A control is one framework's control on one cloud account of one sub-account; failing means NonCompliant (Suppressed is an other status).",
			examples: [][2]string{
				{"", "evidence diff out/acme/2026-11-20/20261121T021500Z-aaaaaa \\\n      out/acme/2026-11-21/20261122T021500Z-3f9a1c"},
				{"for machines", "evidence diff --json PACK_A PACK_B > drift.json"},
			},
			vars: s3Vars},
		{name: "report", args: "--packs LOCATION --tenant T --from D1 --to D2 [flags]", summary: "a period report of a tenant's daily packs",
			about: "Reads a tenant's published daily packs of the days D1 to D2 (their manifests and controls tables only; no API is called) and writes a report pack, itself a pack with manifest.json, SHA256SUMS and, with --sign-key, a signature, under <out>/_reports/<tenant>/: compliance per framework per day as a chart and a table (days with no pack are gaps), the controls that failed at some time (first and last day failing, days failing) and those that failed every day, the daily packs read with the SHA-256 of each manifest.json (the population), and with --sample N --seed S a sample of days anyone can draw again (the method is printed). The same figures are in report.xlsx and tables/*.parquet. A day's pack is the newest of the day (its latest.json); a day without one takes a pack whose period covers it among others (a run over several days, a weekly run, a catch-up: the shortest period, then the latest start), whose one assessment then stands for each day it covers, as the report says beside those days. Two frameworks of one name (Lacework: one per cloud) are reported apart. Impossible requests (a range that runs backwards or into a day not over, no such tenant folder, --sample without --seed) are refused with exit 2 before any pack is read, every problem listed.",
			examples: [][2]string{
				{"a quarter, beside the packs", "evidence report --packs ./out --tenant acme --from 2026-07-01 --to 2026-09-30"},
				{"the auditor's sample of 25 days, signed, from S3", "evidence report --packs s3://audit-bucket/evidence --tenant acme \\\n      --from 2026-01-01 --to 2026-06-30 --sample 25 --seed 20260701 \\\n      --sign-key evidence-signing.key"},
			},
			vars: s3Vars},
		{name: "keygen", args: "[--out DIR]", summary: "make an ed25519 key pair for signing packs",
			about:    "Writes evidence-signing.key (0600, keep it secret) and evidence-signing.pub; never overwrites a key.",
			examples: [][2]string{{"", "evidence keygen --out /etc/evidence/signing"}}},
		{name: "schedule", args: "--config FILE [flags]", summary: "run on the config's cron schedule until SIGTERM",
			about:    "Runs the same job as run on the configuration's schedule: (cron or @daily), in its timezone:, until SIGTERM or Ctrl-C; a run in progress gets --grace to finish. Each run first fills the days that have no pack yet (state.json beside the packs), at most catch_up_days.",
			examples: [][2]string{{"", "evidence schedule --config evidence.yaml"}},
			vars:     append(append([]string{}, platformVars...), s3Vars...)},
		{name: "demo", args: "[flags]", summary: "a full run against built-in emulators: no account needed",
			about: "Starts an emulator of each platform (Lacework, Sophos Cloud Optix, IBM Cloud SCC, Lacework Edge) on a loopback port and runs the whole pipeline against them: a pack per platform in --out. Nothing leaves the machine and the process's environment is never read.\n\nWith --serve the emulators keep running instead, and the command prints the configuration and variables with which run, plan, frameworks, schedule and signing can be tried against them.",
			examples: [][2]string{
				{"", "evidence demo"},
				{"one platform, a sub-account that refuses the key (a partial pack, exit 3)", "evidence demo --source lacework --forbid acme-dev"},
				{"keep the emulators running for other commands", "evidence demo --serve"},
			}},
		{name: "version", args: "", summary: "print the version, commit and build date (also --version)"},
	}
}

// usage is the top-level help.
func usage() string {
	var b strings.Builder
	b.WriteString("evidence — audit evidence packs from cloud-security platforms\n\nUsage:\n  evidence COMMAND [flags]\n\nCommands:\n")
	for _, h := range helps() {
		fmt.Fprintf(&b, "  %-11s %s\n", h.name, h.summary)
	}
	b.WriteString(`
Run "evidence COMMAND -h" for a command's flags, examples and variables.
Lacework reads LW_ACCOUNT, LW_API_KEY and LW_API_SECRET (or ~/.lacework.toml);
--config FILE adds Sophos Cloud Optix, IBM Cloud SCC and Lacework Edge
(configs/evidence.example.yaml). Try it without an account: evidence demo.
`)
	return b.String()
}

// printHelp writes the help of fs's command: usage line, description,
// flags (with two dashes, as the README writes them), examples and
// variables.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	var h help
	for _, c := range helps() {
		if c.name == fs.Name() {
			h = c
		}
	}
	fmt.Fprintf(w, "Usage: evidence %s %s\n", h.name, h.args)
	if h.about != "" {
		fmt.Fprintf(w, "\n%s\n", wrap(h.about, helpWidth, ""))
	}
	fmt.Fprint(w, "\nFlags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		name, text := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
			text += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s\n%s\n", line, wrap(text, helpWidth, "      "))
	})
	if len(h.examples) > 0 {
		fmt.Fprint(w, "\nExamples:\n")
		for _, ex := range h.examples {
			if ex[0] != "" {
				fmt.Fprintf(w, "  # %s\n", ex[0])
			}
			fmt.Fprintf(w, "  %s\n", ex[1])
		}
	}
	if len(h.vars) > 0 {
		fmt.Fprint(w, "\nEnvironment:\n")
		for _, v := range h.vars {
			fmt.Fprintf(w, "  %s\n", v)
		}
	}
}

// helpWidth fits help to an 80-column terminal.
const helpWidth = 79

// wrap fills each paragraph of text (separated by blank lines) into lines
// of at most width columns, each starting with indent; a word longer than
// a line stays whole.
func wrap(text string, width int, indent string) string {
	var paras []string
	for para := range strings.SplitSeq(text, "\n\n") {
		var b strings.Builder
		n := 0
		for i, word := range strings.Fields(para) {
			switch {
			case i == 0:
				b.WriteString(indent)
				n = len(indent)
			case n+1+utf8.RuneCountInString(word) > width:
				b.WriteString("\n" + indent)
				n = len(indent)
			default:
				b.WriteByte(' ')
				n++
			}
			b.WriteString(word)
			n += utf8.RuneCountInString(word)
		}
		paras = append(paras, b.String())
	}
	return strings.Join(paras, "\n\n")
}
