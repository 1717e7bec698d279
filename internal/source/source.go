// Package source is the seam between the pipeline and the platforms it
// reads. A platform (Lacework, Sophos Cloud Optix, IBM Cloud SCC Workload
// Protection, Lacework Edge) is a sub-package that implements Source: it
// authenticates, discovers what a tenant holds, and returns a Plan of units
// whose records stream from paging iterators. The pipeline (internal/job)
// turns units into the pack's XLSX, Parquet and PDF files; it never sees a
// vendor's records. Periods and query windows are period.Window.
//
// A source maps its records onto the pack's tables (internal/dataset):
// framework reports become controls and violations, everything else a
// TableUnit of evaluations, inventory or audit logs.
package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/period"
)

// Info describes a platform for the manifest and the files' About pages.
type Info struct {
	System  string // the source name (lacework, sophos, ibm_scc, lacework_edge): the rows' "source" column
	API     string // human name of the API, e.g. "Lacework API v2"
	BaseURL string // where requests go
	// Credential is the public id of the credential the source reads with
	// (an API key id), for the manifest; never the secret.
	Credential string
	// FailingOnly: the platform reports failing rules only (Sophos Cloud
	// Optix alerts), so no control is ever reported as passing and no
	// compliance percentage can be computed from its reports.
	FailingOnly bool
}

// Request is what a run asks of a source.
type Request struct {
	Period   period.Window // the pack's period
	Audit    period.Window // the audit-log window: may start earlier (a scheduler's watermark)
	Datasets []string
	// Accounts and Frameworks narrow discovery (--account, --framework); a
	// source's own settings may narrow it further. Empty means all.
	Accounts, Frameworks []string
	// InShard reports whether the unit with this stable key belongs to this
	// run (sharded Indexed Jobs); nil means every unit does.
	InShard func(key string) bool
	// Shard is this run's shard, i of n (Count 0 or 1: not sharded). A
	// source with several credentials gives each shard its own share
	// of them.
	Shard struct{ Index, Count int }
	// NoVendorReports leaves out the platforms' own renderings of their
	// reports (Lacework's PDF: a request per report), --no-vendor-pdf.
	NoVendorReports bool
}

// Wants reports whether the request includes dataset ds.
func (r Request) Wants(ds string) bool {
	for _, d := range r.Datasets {
		if d == ds {
			return true
		}
	}
	return false
}

// Has reports whether the unit named key belongs to this run's shard.
func (r Request) Has(key string) bool { return r.InShard == nil || r.InShard(key) }

// Source is one tenant of one platform.
type Source interface {
	Info() Info
	// Plan authenticates and discovers the tenant, and returns the units to
	// collect. Refused credentials return an error wrapping httpx.ErrAuth; a part
	// of the tenant that cannot be discovered (a sub-account the key cannot
	// reach) is a Plan.Failure, not an error.
	Plan(ctx context.Context, req Request) (*Plan, error)
	// Stats are the source's request counters (for the manifest and metrics).
	Stats() *httpx.Stats
}

// Checker is a Source that can tell, before any request, that a request
// cannot be met: a period older than the platform keeps. Each problem says
// what to change. The pipeline asks every tenant's source before it reads
// any, and refuses the run (ErrRefused) with every problem listed.
type Checker interface {
	Check(req Request, now time.Time) []error
}

// Named is implemented by a source whose tenant takes a name from its
// settings when the configuration gives none (Lacework: the account).
type Named interface {
	TenantName() string
}

// MaskID shows a credential's public id as a manifest may keep it: its
// first and last four characters, enough to tell keys apart, not to use
// one (the pipeline redacts the whole id from server text).
func MaskID(id string) string {
	r := []rune(id)
	if len(r) <= 10 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:4]) + "…" + string(r[len(r)-4:])
}

// Fingerprint names a secret that has no public id (an IBM IAM API key, a
// Sophos API key, an API token) as a manifest may keep it: "sha256:" and
// the first 12 hex digits of the secret's SHA-256. Its holder can check it
// (printf %s "$KEY" | sha256sum | cut -c1-12); nobody can recover the key
// from it.
func Fingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:])[:12]
}

// ErrRefused marks a request refused before any API call: a usage problem
// (exit 2), not a failure of the platform.
var ErrRefused = errors.New("request refused before any API call")

// Plan is what a source will collect.
type Plan struct {
	SubAccounts []string // the scopes inside the tenant that were discovered
	Accounts    []string // cloud accounts, as "<sub-account>/<cloud>:<id>"
	Frameworks  []Framework
	Tables      []TableUnit
	Failures    []Failure // discovery failures: recorded, the run goes on
	Warnings    []string
	// Excluded lists the accounts discovery found and left out, each with
	// the reason ("AWS:123456789012: the integration is disabled"): the
	// manifest's scope.excluded.
	Excluded []string
	// Filters, when the source reports it, is what the request's
	// --framework and --account values matched in this tenant; nil when the
	// source does not say.
	Filters *Filters
}

// Filters is what a tenant's discovery made of the request's filters: the
// values that named nothing it has, and what it has. The pipeline refuses
// a value that names nothing in every tenant (ErrRefused).
type Filters struct {
	UnmatchedFrameworks, UnmatchedAccounts []string
	Frameworks, Accounts                   []string // what the tenant has, for the message
}

// Units counts the plan's units.
func (p *Plan) Units() int {
	n := len(p.Tables)
	for _, f := range p.Frameworks {
		n += len(f.Units)
	}
	return n
}

// Failure is a part of the tenant that could not be discovered.
type Failure struct {
	Unit       string
	SubAccount string
	Err        error
}

// Framework is one compliance framework and the reports that are its
// evidence: one per (sub-account, cloud account) it applies to, in any
// order (the pipeline groups them by sub-account).
type Framework struct {
	Name  string // as the platform names it; the pack folder is derived from it
	Cloud string // AWS, Azure, GCP, or "" when the framework spans clouds
	Units []ReportUnit
}

// ReportUnit fetches one report of a framework.
type ReportUnit struct {
	SubAccount string
	Account    string // cloud account id the report covers
	Cloud      string
	// Call is the request behind the unit, for the manifest.
	Call Call
	// Lane names the rate-limit budget the unit's requests draw on (the
	// credential they are sent with), "" when the source has one. The
	// pipeline fetches a few reports ahead of the one it writes, a bounded
	// number per lane at once, lanes side by side; the pack's content does
	// not depend on it.
	Lane string
	// Fetch gets the report. An error fails this unit only, unless the
	// context is done. The pipeline may call the Fetch of several units at
	// once (never one unit's twice), each in its own goroutine.
	Fetch func(ctx context.Context) (Report, error)
}

// Call is the request behind a unit, as the manifest records it so that an
// auditor can repeat it: method, path and parameters (dataset, window,
// filters, ids, report type). Never a credential.
type Call struct {
	Method, Path string
	Params       map[string]string
}

// Report is one fetched framework report. The pipeline iterates Controls
// once, spooling what it needs to read again, and asks AccountAlias and
// ReportTime after that iteration: a source may stream its controls from
// the API and learn the report's time as it goes. An error from Controls
// fails the unit (the controls before it are kept; a report failing before
// its first control was not collected).
type Report interface {
	AccountAlias() string
	ReportTime() time.Time
	Controls() iter.Seq2[Control, error]
	// Vendor is the platform's own rendering of the report (Lacework's PDF),
	// stored verbatim beside ours as <name>.<ext>; a nil reader means none.
	// The pipeline asks for it as soon as the controls were read, and may
	// read it a while later (a prefetched report waits for its turn): the
	// reader must not depend on a connection kept open meanwhile (Lacework's
	// is spooled to a file).
	Vendor(ctx context.Context) (r io.ReadCloser, ext string, err error)
	Close() error
}

// Caveats is optionally implemented by a Report whose figures need a
// warning beside them (e.g. a review that found nothing to review, which
// must not read as a pass). The pipeline records each caveat as a warning
// of the run, in the manifest and the summary.
type Caveats interface {
	Caveats() []string
}

// Control is one control (recommendation, rule, requirement) of a report.
type Control struct {
	ID       string
	Title    string
	Category string // framework section
	// Requirement is the framework's own id of the requirement the
	// control belongs to (a CIS section number, a SOC 2 criterion), only
	// where the platform gives it; never mapped by us.
	Requirement  string
	Service      string
	Severity     string // Critical, High, Medium, Low, Info
	SeverityRank int    // 1 (Critical) .. 5 (Info)
	Status       dataset.Status
	Assessed     int64 // resources evaluated
	Violations   []Violation
	Suppressions []string // a summary of the exceptions, for the controls table's suppressions column
	// Exceptions are the control's failures the platform excepts
	// (suppressed, risk accepted), one per resource where the platform
	// names them: the exception register.
	Exceptions []Exception
	InfoLink   string
}

// Exception is one failure the platform excepts from a control's result,
// with what the platform says of it; the zero value of a field means the
// platform does not say.
type Exception struct {
	Kind        string    `json:"kind"`     // ExceptionSuppression or ExceptionRiskAccepted
	Resource    string    `json:"resource"` // the resource excepted
	Reason      string    `json:"reason,omitempty"`
	Description string    `json:"description,omitempty"`
	By          string    `json:"by,omitempty"`     // who made the exception
	Created     time.Time `json:"created,omitzero"` // when it was made
	Expires     time.Time `json:"expires,omitzero"` // when it lapses; zero: no expiry given
}

// Kinds of exceptions.
const (
	ExceptionSuppression  = "suppression"
	ExceptionRiskAccepted = "risk accepted"
)

// Violation is a resource that fails a control.
type Violation struct {
	Region   string
	Resource string
	Reasons  []string
}

// TableUnit streams one part of an evaluations, inventory or audit-log
// table: one Parquet file, and rows on one sheet of the table's workbook.
type TableUnit struct {
	Table string // dataset.Evaluations, dataset.Inventory or dataset.AuditLogs
	// Sheet names the workbook sheet (e.g. "AwsCompliance"; the pipeline
	// groups a sheet's units). "" uses the table's title.
	Sheet string
	// Partition names the unit's file ("dataset=AwsCompliance" gives
	// dataset-AwsCompliance.parquet under account=<sub-account>).
	Partition string
	// Call is the request behind the unit, for the manifest.
	Call       Call
	SubAccount string
	Account    string
	Window     period.Window
	// Rows streams the records; stats, filled as it goes (the API client's
	// pager fills them), are recorded in the manifest. An error ends the
	// unit: the rows before it are kept and the unit is marked incomplete.
	Rows func(ctx context.Context, stats *httpx.QueryStats) iter.Seq2[dataset.Record, error]
}

// Records maps an API client's rows onto the pack's records: a TableUnit's
// Rows is Records of the client's iterator, which fills the unit's stats.
func Records[T any, R dataset.Record](rows iter.Seq2[T, error], conv func(T) R) iter.Seq2[dataset.Record, error] {
	return httpx.Map(rows, func(v T) dataset.Record { return conv(v) })
}

// Env is what every source gets from the program: no globals.
type Env struct {
	Getenv func(string) string
	// Home is the user's home directory, where a platform's own CLI keeps
	// its profiles (~/.lacework.toml); "" reads none.
	Home       string
	HTTPClient *http.Client
	Retry      httpx.Retry
	Logger     *slog.Logger
	UserAgent  string
	Now        func() time.Time
	SpoolDir   string // temporary files
	// Redactor collects the tenant's secrets: a source adds every credential
	// it reads (API secret, key id, passwords) and its clients add every token
	// they obtain, so that the pipeline can redact server text before it logs
	// or stores it. Never nil when the pipeline builds the Env.
	Redactor *httpx.Redactor
}

// HTTP returns what the Env sets of the options every API client shares,
// with a logger, a clock and a user agent where it has none.
func (e Env) HTTP() httpx.Options {
	return httpx.Options{HTTPClient: e.HTTPClient, Retry: e.Retry, Logger: e.Logger, UserAgent: e.UserAgent,
		Now: e.Now, SpoolDir: e.SpoolDir, Redactor: e.Redactor}.WithDefaults()
}

// Bucket is one rate-limit bucket's share of a plan, for `evidence plan`.
type Bucket struct {
	Name     string
	Units    int
	Requests int   // data requests: exact when probed, else a floor
	Rows     int64 // rows the probe counted (0 when not probed)
	PerHour  int   // the bucket's rate limit
	Burst    int   // requests that may go at once; PerHour when 0
	// Latency is the time one request of the bucket took while planning
	// (a probe of its kind, from sending it to its body read); 0 when none
	// was timed.
	Latency time.Duration
	Detail  string
	// Reports: the bucket's requests are those of the report units, in
	// the plan's order of its frameworks (the plan models when each
	// framework's last report is in, and the run writes its files).
	Reports bool
}

// Estimator is implemented by sources that can predict a plan's requests.
// With probe, it may ask the API for each result set's size (one small
// request each) to predict the pages; without, it gives a floor.
type Estimator interface {
	Estimate(ctx context.Context, p *Plan, req Request, probe bool) ([]Bucket, error)
}
