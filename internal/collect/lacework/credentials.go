package lacework

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/BurntSushi/toml"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

// profile is one section of the lacework CLI's ~/.lacework.toml.
type profile struct {
	Account    string `toml:"account"`
	Subaccount string `toml:"subaccount"`
	APIKey     string `toml:"api_key"`
	APISecret  string `toml:"api_secret"`
}

// LoadCredentials resolves credentials the way users of the lacework CLI
// expect: the profile file (~/.lacework.toml, section LW_PROFILE or
// "default") when present, overridden field by field by LW_ACCOUNT,
// LW_SUBACCOUNT, LW_API_KEY, LW_API_SECRET and LW_API_URL (or the CLI's
// LW_API_SERVER_URL). getenv and home are passed in so nothing reads the
// process environment behind the caller's back. A missing profile file is
// not an error; a named profile that does not exist is.
func LoadCredentials(getenv func(string) string, home string) (Credentials, error) {
	var c Credentials
	name := getenv("LW_PROFILE")
	if home != "" {
		path := filepath.Join(home, ".lacework.toml")
		profiles := map[string]profile{}
		_, err := toml.DecodeFile(path, &profiles)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if name != "" {
				return c, fmt.Errorf("lacework: LW_PROFILE=%q but %s does not exist", name, path)
			}
		case err != nil:
			return c, fmt.Errorf("lacework: read profile file %s: %w", path, err)
		default:
			p, ok := profiles[orDefault(name, "default")]
			if !ok && name != "" {
				return c, fmt.Errorf("lacework: profile %q is not in %s", name, path)
			}
			c = Credentials{Account: p.Account, SubAccount: p.Subaccount, KeyID: p.APIKey, Secret: httpx.Secret(p.APISecret)}
		}
	}
	set := func(dst *string, keys ...string) {
		for _, k := range keys {
			if v := getenv(k); v != "" {
				*dst = v
				return
			}
		}
	}
	set(&c.Account, "LW_ACCOUNT")
	set(&c.SubAccount, "LW_SUBACCOUNT")
	set(&c.KeyID, "LW_API_KEY")
	set(&c.BaseURL, "LW_API_URL", "LW_API_SERVER_URL")
	secret := string(c.Secret)
	set(&secret, "LW_API_SECRET")
	c.Secret = httpx.Secret(secret)
	return c, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
