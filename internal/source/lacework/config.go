package lacework

import (
	"errors"
	"fmt"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/lacework"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/source"
)

// Config is a tenant's lacework: section. Secrets are named by environment
// variable, never written in the file. Every field is optional: without a
// section the tenant is the lacework CLI's (~/.lacework.toml, LW_*).
type Config struct {
	Account      string   `yaml:"account"`
	SubAccount   string   `yaml:"subaccount"`     // scope to one sub-account
	APIKey       string   `yaml:"api_key"`        // the key id (not secret)
	APIKeyEnv    string   `yaml:"api_key_env"`    // or: variable holding the key id
	APISecretEnv string   `yaml:"api_secret_env"` // variable holding the secret; default LW_API_SECRET
	APIURL       string   `yaml:"api_url"`        // default https://<account>.lacework.net
	SubAccounts  []string `yaml:"subaccounts"`    // narrow discovery to these
	Frameworks   []string `yaml:"frameworks"`     // report names or API report types; default all (--framework replaces them)
	Accounts     []string `yaml:"accounts"`       // cloud account ids; default all (--account replaces them)
	// VendorPDF false leaves out Lacework's PDF of each report: one
	// request in the Reports bucket per cloud account and framework, half
	// of that bucket's budget. Default true.
	VendorPDF *bool `yaml:"vendor_pdf"`
	// APIKeys are more API keys of the account, each another user's: the
	// limits are per user and bucket (seed 000: 480 requests per hour), so
	// the run spreads its units over these and the key above, and a key
	// whose credentials are refused is dropped, the others carrying on.
	APIKeys []KeyConfig `yaml:"api_keys"`
	// RequestsPerHour and Burst are each key's budget per bucket: the
	// requests it may send per hour, and how many of them at once. 0
	// keeps the documented limit (seed 000: 480 requests per hour per
	// user, and a full hour's budget at once). For an account whose limit
	// Lacework set otherwise, and for runs against an emulator that scales
	// the limit down in time (the pooled-keys benchmark).
	RequestsPerHour int `yaml:"requests_per_hour"`
	Burst           int `yaml:"burst"`
}

// limits are the API limits of the tenant's keys: the opener's, with the
// section's budget where it sets one.
func (c Config) limits(l lacework.Limits) lacework.Limits {
	if c.RequestsPerHour > 0 {
		l.RequestsPerHour = c.RequestsPerHour
	}
	if c.Burst > 0 {
		l.Burst = c.Burst
	}
	return l
}

// KeyConfig is one more API key: its id (or the variable holding it) and
// the variable holding its secret.
type KeyConfig struct {
	APIKey       string `yaml:"api_key"`
	APIKeyEnv    string `yaml:"api_key_env"`
	APISecretEnv string `yaml:"api_secret_env"`
}

// vendorPDF reports whether the reports of req get Lacework's PDF.
func (c Config) vendorPDF(req source.Request) bool {
	return !req.NoVendorReports && (c.VendorPDF == nil || *c.VendorPDF)
}

// settings decodes the tenant's section and resolves its credentials: the
// lacework CLI's own sources first (the profile in home, LW_* variables),
// then the section's settings where it sets them. Every problem is
// returned, joined.
func settings(t config.Tenant, env source.Env) (Config, lacework.Credentials, error) {
	var cfg Config
	if err := source.DecodeSection(t, &cfg); err != nil {
		return cfg, lacework.Credentials{}, err
	}
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	creds, err := lacework.LoadCredentials(getenv, env.Home)
	if err != nil {
		return cfg, creds, inTenant(t, err)
	}
	if cfg.Account != "" {
		creds.Account = cfg.Account
	}
	if cfg.SubAccount != "" {
		creds.SubAccount = cfg.SubAccount
	}
	if cfg.APIURL != "" {
		creds.BaseURL = cfg.APIURL
	}
	if cfg.APIKey != "" {
		creds.KeyID = cfg.APIKey
	}
	if cfg.APIKeyEnv != "" {
		creds.KeyID = getenv(cfg.APIKeyEnv)
	}
	if cfg.APISecretEnv != "" {
		creds.Secret = httpx.Secret(getenv(cfg.APISecretEnv))
	}
	var errs []error
	if creds.Account == "" && creds.BaseURL == "" {
		errs = append(errs, errors.New("lacework: the account is not set (lacework.account in the config, LW_ACCOUNT, or ~/.lacework.toml)"))
	}
	// A key id or secret that is not set: the variable the section names
	// for it is empty, or nothing sets it.
	need := func(set bool, key, variable, unset string) {
		switch {
		case set:
		case variable != "":
			errs = append(errs, fmt.Errorf("lacework: %s names %s, which is empty or unset", key, variable))
		default:
			errs = append(errs, errors.New("lacework: "+unset))
		}
	}
	need(creds.KeyID != "", "api_key_env", cfg.APIKeyEnv, "the API key id is not set (lacework.api_key or api_key_env in the config, LW_API_KEY, or ~/.lacework.toml)")
	need(creds.Secret != "", "api_secret_env", cfg.APISecretEnv, "the API secret is not set (LW_API_SECRET, another variable named by api_secret_env, or ~/.lacework.toml)")
	if cfg.RequestsPerHour < 0 || cfg.Burst < 0 {
		errs = append(errs, fmt.Errorf("lacework: requests_per_hour %d and burst %d: want 0 (the documented limit) or more", cfg.RequestsPerHour, cfg.Burst))
	}
	for i, k := range cfg.APIKeys {
		id := k.APIKey
		if k.APIKeyEnv != "" {
			id = getenv(k.APIKeyEnv)
		}
		at := fmt.Sprintf("api_keys[%d].", i)
		need(id != "", at+"api_key_env", k.APIKeyEnv, at+"api_key or api_key_env is not set")
		need(k.APISecretEnv != "" && getenv(k.APISecretEnv) != "", at+"api_secret_env", k.APISecretEnv, at+"api_secret_env is not set: a key's secret is read from the variable it names")
	}
	if len(errs) > 0 {
		return cfg, creds, inTenant(t, errors.Join(errs...))
	}
	return cfg, creds, nil
}

// inTenant names the tenant in err, when it has a name (a run without a
// configuration file has one unnamed tenant: its messages need none).
func inTenant(t config.Tenant, err error) error {
	if t.Name == "" {
		return err
	}
	return fmt.Errorf("tenant %s: %w", t.Name, err)
}

// moreKeys are the credentials of the section's api_keys: creds (the
// account, sub-account and host) with each key's id and secret.
func (c Config) moreKeys(creds lacework.Credentials, getenv func(string) string) []lacework.Credentials {
	var out []lacework.Credentials
	for _, k := range c.APIKeys {
		kc := creds
		kc.KeyID = k.APIKey
		if k.APIKeyEnv != "" {
			kc.KeyID = getenv(k.APIKeyEnv)
		}
		kc.Secret = httpx.Secret(getenv(k.APISecretEnv))
		out = append(out, kc)
	}
	return out
}
