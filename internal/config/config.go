// Package config loads what a run needs: defaults, then a strict YAML file,
// then the environment, then flags; Validate lists every problem at once.
//
// Secrets never live in the file: a tenant names the environment variables
// that hold them (api_secret_env), and the loaded value is an httpx.Secret
// that prints as "[redacted]".
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
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/lacework"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/period"
)

// Datasets a pack can hold; --dataset narrows to some of them.
const (
	DatasetReports     = "reports"
	DatasetEvaluations = "evaluations"
	DatasetInventory   = "inventory"
	DatasetAuditLogs   = "audit_logs"
)

// AllDatasets lists the datasets in pack order.
func AllDatasets() []string {
	return []string{DatasetReports, DatasetEvaluations, DatasetInventory, DatasetAuditLogs}
}

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
}

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
	Name   string `yaml:"name"`   // folder name in the pack; default the account
	Source string `yaml:"source"` // lacework (default), sophos, ibm_scc, lacework_edge
	// Concurrency overrides the top-level concurrency for this tenant:
	// how many of its collectors (one per rate-limit bucket) run at once.
	Concurrency int             `yaml:"concurrency"`
	Lacework    *LaceworkTenant `yaml:"lacework"`
	// Sections holds the settings of the other sources, keyed by source name
	// (sophos:, ibm_scc:, lacework_edge:); each source's package decodes its
	// own, strictly (source.DecodeSection).
	Sections map[string]yaml.Node `yaml:",inline"`
}

// LaceworkTenant holds a Lacework tenant's settings. Secrets are named by
// environment variable, never written in the file.
type LaceworkTenant struct {
	Account      string   `yaml:"account"`
	SubAccount   string   `yaml:"subaccount"`     // scope to one sub-account
	APIKey       string   `yaml:"api_key"`        // the key id (not secret)
	APIKeyEnv    string   `yaml:"api_key_env"`    // or: variable holding the key id
	APISecretEnv string   `yaml:"api_secret_env"` // variable holding the secret; default LW_API_SECRET
	APIURL       string   `yaml:"api_url"`        // default https://<account>.lacework.net
	SubAccounts  []string `yaml:"subaccounts"`    // narrow discovery to these
	Frameworks   []string `yaml:"frameworks"`     // report names or API report types; default all
	Accounts     []string `yaml:"accounts"`       // cloud account ids; default all

	Credentials lacework.Credentials `yaml:"-"` // resolved by Resolve
}

// Flags are the command-line overrides of a run.
type Flags struct {
	ConfigFile string
	Out        string
	Lake       string // --lake: data-lake directory or s3://bucket/prefix
	From, To   string
	Accounts   []string // cloud accounts or sub-accounts
	Frameworks []string
	Datasets   []string
	Source     string
	SignKey    string
	Shard      string // "i/n"
	Metrics    Metrics
	S3Endpoint string
	Timeout    time.Duration // --timeout; 0: the file's, else the command's default
}

// Load builds the Config: defaults, the YAML file (when flags name one),
// environment, flags. now is the clock (the default period is the UTC day
// before now). It does not validate; call Validate.
func Load(f Flags, getenv func(string) string, home string, now time.Time) (*Config, error) {
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
		// No file: one Lacework tenant from the environment / lacework profile.
		cfg.Tenants = []Tenant{{Source: "lacework", Lacework: &LaceworkTenant{}}}
	}
	for i := range cfg.Tenants {
		if err := cfg.Tenants[i].resolve(getenv, home); err != nil {
			return nil, err
		}
	}
	if f.Out != "" {
		cfg.Output = f.Out
	}
	if f.Lake != "" {
		cfg.Lake = f.Lake
	}
	if f.SignKey != "" {
		cfg.SignKey = f.SignKey
	}
	if f.Timeout != 0 {
		cfg.Timeout = f.Timeout
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
		cfg.Datasets = AllDatasets()
	}
	cfg.Accounts, cfg.Frameworks = f.Accounts, f.Frameworks
	for i := range cfg.Tenants {
		if lw := cfg.Tenants[i].Lacework; lw != nil {
			if len(f.Frameworks) > 0 {
				lw.Frameworks = f.Frameworks
			}
			if len(f.Accounts) > 0 {
				lw.Accounts = f.Accounts
			}
		}
	}
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

func (t *Tenant) resolve(getenv func(string) string, home string) error {
	if t.Source == "" {
		t.Source = "lacework"
	}
	if t.Source != "lacework" || t.Lacework == nil {
		return nil
	}
	lw := t.Lacework
	// Start from the lacework CLI's own sources (profile file, LW_* vars),
	// then let the file's settings win where it sets them.
	creds, err := lacework.LoadCredentials(getenv, home)
	if err != nil {
		return err
	}
	if lw.Account != "" {
		creds.Account = lw.Account
	}
	if lw.SubAccount != "" {
		creds.SubAccount = lw.SubAccount
	}
	if lw.APIURL != "" {
		creds.BaseURL = lw.APIURL
	}
	if lw.APIKey != "" {
		creds.KeyID = lw.APIKey
	}
	if lw.APIKeyEnv != "" {
		creds.KeyID = getenv(lw.APIKeyEnv)
	}
	if lw.APISecretEnv != "" {
		creds.Secret = httpx.Secret(getenv(lw.APISecretEnv))
	}
	lw.Credentials = creds
	if t.Name == "" {
		t.Name = creds.AccountName()
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
	if c.Timeout < 0 {
		add("timeout %s: want a positive duration such as 2h, or none", c.Timeout)
	}
	if c.Concurrency < 1 || c.Concurrency > 64 {
		add("concurrency %d: want 1..64", c.Concurrency)
	}
	for _, d := range c.Datasets {
		if !slices.Contains(AllDatasets(), d) {
			add("dataset %q: want one of %s", d, strings.Join(AllDatasets(), ", "))
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
			where += " (" + t.Name + ")"
		}
		if names[t.Name] {
			add("%s: tenant name used twice", where)
		} else if other, ok := folders[pack.TenantFolder(t.Name)]; ok && t.Name != "" {
			add("%s: tenants %q and %q would share the folder %q (their packs, state.json and latest.json): give one of them another name:",
				where, other, t.Name, pack.TenantFolder(t.Name))
		}
		names[t.Name] = true
		if _, ok := folders[pack.TenantFolder(t.Name)]; !ok {
			folders[pack.TenantFolder(t.Name)] = t.Name
		}
		if t.Concurrency < 0 || t.Concurrency > 64 {
			add("%s: concurrency %d: want 1..64, or 0 for the top-level value", where, t.Concurrency)
		}
		if t.Source != "lacework" {
			// Other sources check their own section when they are opened.
			if t.Name == "" {
				add("%s: name is required for source %s", where, t.Source)
			}
			continue
		}
		if t.Lacework == nil {
			add("%s: the lacework: section is missing", where)
			continue
		}
		if err := t.Lacework.Credentials.Validate(); err != nil {
			add("%s: %w", where, err)
		}
		if v := t.Lacework.APISecretEnv; v != "" && t.Lacework.Credentials.Secret == "" {
			add("%s: api_secret_env names %s, which is empty or unset", where, v)
		}
		if v := t.Lacework.APIKeyEnv; v != "" && t.Lacework.Credentials.KeyID == "" {
			add("%s: api_key_env names %s, which is empty or unset", where, v)
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
