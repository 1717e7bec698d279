// Package config loads what a run needs: defaults, then a strict YAML file,
// then flags; Validate lists every problem at once.
//
// A tenant's settings are its source's: config keeps each tenant's section
// as YAML, and the source decodes it and reads the environment variables
// it names (source.Registry.OpenAll). Secrets never live in the file.
package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/reportgen"
)

// Config is everything a run needs.
type Config struct {
	Output      string   `yaml:"output"`      // directory or s3://bucket/prefix
	Lake        string   `yaml:"lake"`        // optional data lake for the Parquet datasets: directory or s3://bucket/prefix (internal/lake)
	Concurrency int      `yaml:"concurrency"` // collectors running at once (one per rate-limit bucket is enough)
	Datasets    []string `yaml:"datasets"`    // default: all
	Schedule    string   `yaml:"schedule"`    // cron spec for `evidence schedule`
	SignKey     string   `yaml:"sign_key"`    // ed25519 private key file: packs get manifest.sig
	Metrics     Metrics  `yaml:"metrics"`
	S3          S3       `yaml:"s3"`       // used when output is s3://bucket/prefix
	TimeZone    string   `yaml:"timezone"` // for the schedule; default UTC
	Tenants     []Tenant `yaml:"tenants"`
	// SecurityLake, optional, receives each pack's compliance results as
	// OCSF Compliance Findings in an Amazon Security Lake custom source's
	// layout (lake.ExportSecurityLake).
	SecurityLake SecurityLake `yaml:"security_lake"`
	// Timeout bounds the time a run reads the APIs (timeout:, --timeout):
	// units not finished by then fail, and the pack is still published.
	// 0 means unset: `evidence run` then uses DefaultTimeout, `evidence
	// schedule` the time until the next scheduled run.
	Timeout time.Duration `yaml:"timeout"`
	// Deadline, set by the scheduler, ends the run at the next tick, so
	// that runs never overlap; the earlier of it and Timeout applies.
	Deadline Deadline `yaml:"-"`

	// Period is set from flags (--from/--to); default: the previous UTC day.
	Period period.Window `yaml:"-"`
	// FileSHA256 is the SHA-256 of the configuration file read (hex), for
	// the manifest; "" when there was none.
	FileSHA256 string `yaml:"-"`
	// LoadedAt is when Load read the flags (the "now" of the period):
	// Validate refuses a period that ends after it.
	LoadedAt time.Time `yaml:"-"`
	// AuditFrom, when set, starts the audit-log window there instead of at
	// Period.From: the scheduler passes the last watermark.
	AuditFrom time.Time `yaml:"-"`
	// CatchUpDays bounds how many missed days a scheduled run fills.
	CatchUpDays int `yaml:"catch_up_days"`
	// Shard, from --shard i/n, runs only the units of shard i of n (an
	// Indexed Job's pods each take one).
	Shard Shard `yaml:"-"`
	// Accounts and Frameworks, from --account/--framework, narrow every
	// tenant's discovery (a source's own section may narrow it too).
	Accounts, Frameworks []string `yaml:"-"`
	// NoVendorPDF is --no-vendor-pdf (a tenant's section may also leave
	// them out: lacework vendor_pdf: false).
	NoVendorPDF bool `yaml:"-"`
	// Paper is the paper the pack's PDFs and workbooks are laid out for
	// (paper:, --paper): a4 (the default, reportgen.DefaultPaper) or
	// letter.
	Paper reportgen.Paper `yaml:"paper"`
}

// SecurityLake is an Amazon Security Lake custom source.
type SecurityLake struct {
	// Location is the custom source's location, s3://<bucket>/ext/<source-name>
	// (or a directory, to look at the files first); "" exports nothing.
	Location string `yaml:"location"`
	// Region is the lake's AWS Region: the region= of every object.
	Region string `yaml:"region"`
	// AccountID is the 12-digit AWS account that owns the lake: the
	// accountId= of results that are not in an AWS account (Azure, GCP,
	// IBM Cloud, Kubernetes, Edge).
	AccountID string `yaml:"account_id"`
}

var (
	awsRegion    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	awsAccountID = regexp.MustCompile(`^[0-9]{12}$`)
)

// DefaultTimeout is `evidence run`'s timeout. The shipped CronJob kills
// its pod after 4 hours (activeDeadlineSeconds: 14400), which publishes
// nothing; a timeout half an hour earlier leaves the run time to publish
// what it collected. A daily pack needs far less: a Lacework
// rate-limit bucket allows 480 requests an hour, and the buckets run side
// by side. Longer backfills pass --timeout.
const DefaultTimeout = 3*time.Hour + 30*time.Minute

// Deadline is a fixed end for a run and why it is there.
type Deadline struct {
	At     time.Time
	Reason string // e.g. "the next scheduled run"
}

// Shard selects one of Count disjoint parts of a run's units; Count 0 or 1
// means all of them.
type Shard struct{ Index, Count int }

// ParseShard reads "i/n" with 0 <= i < n.
func ParseShard(s string) (Shard, error) {
	var sh Shard
	if s == "" {
		return sh, nil
	}
	if _, err := fmt.Sscanf(s, "%d/%d", &sh.Index, &sh.Count); err != nil || sh.Count < 1 || sh.Index < 0 || sh.Index >= sh.Count {
		return Shard{}, fmt.Errorf("--shard %q: want i/n with 0 <= i < n, e.g. 0/4", s)
	}
	return sh, nil
}

// S3 configures an s3:// output. Credentials come from the AWS default
// chain (environment, shared profile, web identity / IRSA on EKS).
type S3 struct {
	Region         string `yaml:"region"`           // default AWS_REGION / the profile
	Endpoint       string `yaml:"endpoint"`         // S3-compatible server; default AWS_ENDPOINT_URL_S3
	PathStyle      bool   `yaml:"path_style"`       // bucket in the path, for S3-compatible servers
	SSE            string `yaml:"sse"`              // "", "AES256" (SSE-S3) or "aws:kms" (SSE-KMS)
	KMSKeyID       string `yaml:"kms_key_id"`       // for aws:kms
	ObjectLockMode string `yaml:"object_lock_mode"` // "", GOVERNANCE or COMPLIANCE
	RetainDays     int    `yaml:"retain_days"`      // Object Lock retention of every object
	PartSizeMiB    int    `yaml:"part_size_mib"`    // multipart part size; default 16
}

// Metrics says where a run's Prometheus metrics go.
type Metrics struct {
	Pushgateway string `yaml:"pushgateway"` // URL of a Pushgateway
	Textfile    string `yaml:"textfile"`    // path of a node_exporter textfile (*.prom)
}

// Tenant is one platform tenant to collect from.
type Tenant struct {
	// Name is the tenant's folder name in the pack; when empty, its source
	// names it (Lacework: the account) or refuses it (source.Registry.OpenAll).
	Name   string `yaml:"name,omitempty"`
	Source string `yaml:"source"` // lacework (DefaultSource), sophos, ibm_scc, lacework_edge
	// Concurrency overrides the top-level concurrency for this tenant:
	// how many of its collectors (one per rate-limit bucket) run at once.
	Concurrency int `yaml:"concurrency,omitempty"`
	// Sections holds the source's settings, keyed by source name (lacework:,
	// sophos:, ibm_scc:, lacework_edge:); each source's package decodes its
	// own, strictly (source.DecodeSection), and reads the environment
	// variables it names.
	Sections map[string]yaml.Node `yaml:",inline"`
}

// DefaultSource is the source of a tenant that names none, and of the one
// tenant of a run without a configuration file (its settings then come
// from the environment and the platform CLI's profile).
const DefaultSource = "lacework"

// Flags are the command-line overrides of a run.
type Flags struct {
	ConfigFile string
	Out        string
	Lake       string // --lake: data-lake directory or s3://bucket/prefix
	// SecurityLake is --security-lake, --security-lake-region and
	// --security-lake-account; each set one overrides the file's.
	SecurityLake SecurityLake
	From, To     string
	Accounts     []string // cloud accounts or sub-accounts
	Frameworks   []string
	Datasets     []string
	Source       string
	SignKey      string
	Shard        string // "i/n"
	Metrics      Metrics
	S3Endpoint   string
	Timeout      time.Duration // --timeout; 0: the file's, else the command's default
	// NoVendorPDF leaves out every tenant's vendor reports (--no-vendor-pdf).
	NoVendorPDF bool
	Paper       string // --paper: a4 or letter
}

// Load builds the Config: defaults, the YAML file (when flags name one),
// flags. now is the clock (the default period is the UTC day before now).
// The tenants' sections and the variables they name are the sources' to
// read (source.Registry.OpenAll). It does not validate; call Validate.
func Load(f Flags, now time.Time) (*Config, error) {
	cfg := &Config{Output: "./out", Concurrency: 4, TimeZone: "UTC", CatchUpDays: 7}
	var err error
	if f.ConfigFile != "" {
		b, err := os.ReadFile(f.ConfigFile)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := Decode(bytes.NewReader(b), cfg); err != nil {
			return nil, fmt.Errorf("config %s: %w", f.ConfigFile, err)
		}
		sum := sha256.Sum256(b)
		cfg.FileSHA256 = hex.EncodeToString(sum[:])
	}
	if len(cfg.Tenants) == 0 {
		// No file: one tenant of the default source, from the environment.
		cfg.Tenants = []Tenant{{}}
	}
	for i := range cfg.Tenants {
		if cfg.Tenants[i].Source == "" {
			cfg.Tenants[i].Source = DefaultSource
		}
	}
	if f.Out != "" {
		cfg.Output = f.Out
	}
	if f.Lake != "" {
		cfg.Lake = f.Lake
	}
	if v := f.SecurityLake.Location; v != "" {
		cfg.SecurityLake.Location = v
	}
	if v := f.SecurityLake.Region; v != "" {
		cfg.SecurityLake.Region = v
	}
	if v := f.SecurityLake.AccountID; v != "" {
		cfg.SecurityLake.AccountID = v
	}
	if f.SignKey != "" {
		cfg.SignKey = f.SignKey
	}
	if f.Timeout != 0 {
		cfg.Timeout = f.Timeout
	}
	if f.Paper != "" {
		cfg.Paper = reportgen.Paper(f.Paper)
	}
	if f.S3Endpoint != "" {
		cfg.S3.Endpoint, cfg.S3.PathStyle = f.S3Endpoint, true
	}
	if f.Metrics.Pushgateway != "" {
		cfg.Metrics.Pushgateway = f.Metrics.Pushgateway
	}
	if f.Metrics.Textfile != "" {
		cfg.Metrics.Textfile = f.Metrics.Textfile
	}
	if len(f.Datasets) > 0 {
		cfg.Datasets = f.Datasets
	}
	if len(cfg.Datasets) == 0 {
		cfg.Datasets = dataset.Names()
	}
	cfg.NoVendorPDF = f.NoVendorPDF
	cfg.Accounts, cfg.Frameworks = f.Accounts, f.Frameworks
	if f.Source != "" {
		cfg.Tenants = slices.DeleteFunc(cfg.Tenants, func(t Tenant) bool { return t.Source != f.Source })
	}
	if cfg.Shard, err = ParseShard(f.Shard); err != nil {
		return nil, err
	}
	p, err := period.Parse(f.From, f.To, now)
	if err != nil {
		return nil, err
	}
	cfg.Period, cfg.LoadedAt = p, now.UTC()
	return cfg, nil
}

// Decode reads YAML strictly: unknown keys are errors.
func Decode(r io.Reader, cfg *Config) error {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// Validate returns every problem of the configuration, joined.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Output == "" {
		add("output is empty: set --out DIR or output: in the config")
	}
	if c.Lake != "" && sameLocation(c.Lake, c.Output) {
		add("lake %s is the output location: give the data lake its own directory or s3:// prefix", c.Lake)
	}
	if sl := c.SecurityLake; sl.Location != "" {
		if sameLocation(sl.Location, c.Output) || (c.Lake != "" && sameLocation(sl.Location, c.Lake)) {
			add("security lake %s is the output or the data lake: give it its own s3:// prefix (s3://bucket/ext/<source-name>) or directory", sl.Location)
		}
		if !awsRegion.MatchString(sl.Region) {
			add("security lake region %q: want the lake's AWS Region, such as us-east-1 (--security-lake-region, security_lake.region)", sl.Region)
		}
		if !awsAccountID.MatchString(sl.AccountID) {
			add("security lake account %q: want the 12-digit AWS account that owns the lake, the accountId of results outside AWS (--security-lake-account, security_lake.account_id)", sl.AccountID)
		}
	} else if c.SecurityLake.Region != "" || c.SecurityLake.AccountID != "" {
		add("security lake region or account without a location: set --security-lake s3://bucket/ext/<source-name> (security_lake.location)")
	}
	if c.Timeout < 0 {
		add("timeout %s: want a positive duration such as 2h, or none", c.Timeout)
	}
	if _, err := reportgen.ParsePaper(string(c.Paper)); err != nil {
		add("%v (paper:, --paper)", err)
	}
	if c.Concurrency < 1 || c.Concurrency > 64 {
		add("concurrency %d: want 1..64", c.Concurrency)
	}
	for _, d := range c.Datasets {
		if !slices.Contains(dataset.Names(), d) {
			add("dataset %q: want one of %s", d, strings.Join(dataset.Names(), ", "))
		}
	}
	if len(c.Tenants) == 0 {
		add("no tenants to collect from")
	}
	names := map[string]bool{}
	folders := map[string]string{} // folder → the first tenant name given it
	for i, t := range c.Tenants {
		where := fmt.Sprintf("tenant %d", i+1)
		if t.Name != "" {
			// An unnamed tenant is named by its source, or refused by it
			// (source.Registry.OpenAll).
			where += " (" + t.Name + ")"
			if names[t.Name] {
				add("%s: tenant name used twice", where)
			} else if other, ok := folders[pack.TenantFolder(t.Name)]; ok {
				add("%s: tenants %q and %q would share the folder %q (their packs, state.json and latest.json): give one of them another name:",
					where, other, t.Name, pack.TenantFolder(t.Name))
			}
			names[t.Name] = true
			if _, ok := folders[pack.TenantFolder(t.Name)]; !ok {
				folders[pack.TenantFolder(t.Name)] = t.Name
			}
		}
		if t.Concurrency < 0 || t.Concurrency > 64 {
			add("%s: concurrency %d: want 1..64, or 0 for the top-level value", where, t.Concurrency)
		}
	}
	switch c.S3.SSE {
	case "", "AES256", "aws:kms":
	default:
		add("s3.sse %q: want AES256 or aws:kms", c.S3.SSE)
	}
	if c.S3.KMSKeyID != "" && c.S3.SSE != "aws:kms" {
		add("s3.kms_key_id is set but s3.sse is not aws:kms")
	}
	switch c.S3.ObjectLockMode {
	case "":
		if c.S3.RetainDays != 0 {
			add("s3.retain_days is set but s3.object_lock_mode is not")
		}
	case "GOVERNANCE", "COMPLIANCE":
		if c.S3.RetainDays < 1 {
			add("s3.object_lock_mode %s needs s3.retain_days >= 1", c.S3.ObjectLockMode)
		}
	default:
		add("s3.object_lock_mode %q: want GOVERNANCE or COMPLIANCE", c.S3.ObjectLockMode)
	}
	if !c.Period.From.Before(c.Period.To) {
		add("period %s: from must be before to", c.Period)
	}
	if now := c.LoadedAt; !now.IsZero() && c.Period.To.After(now) {
		// A pack is evidence of what happened: a period that has not
		// ended yet would be published as complete while its end is
		// still to come (and would move the scheduler's state past it).
		add("period %s ends after now (%s): a pack can only cover time that has passed; end it at or before now (--to %s), or leave --from and --to out for the previous UTC day",
			c.Period, now.Format(time.RFC3339), now.Truncate(time.Second).Format(time.RFC3339))
	}
	return errors.Join(errs...)
}

// sameLocation reports whether two output locations (directories or
// s3://bucket/prefix) name the same place.
func sameLocation(a, b string) bool {
	norm := func(s string) string {
		if strings.HasPrefix(s, "s3://") {
			return strings.TrimRight(s, "/")
		}
		return filepath.Clean(s)
	}
	return norm(a) == norm(b)
}
