package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage/storetest"
)

// Daily signed runs make a chain that `verify --chain` accepts, a rerun
// included; deleting a day's packs, or signing a manifest with another
// key, is named. In a folder and on S3 (versitygw).
func TestChainOfDailyPacks(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	srv := httptest.NewServer(emulator.New(emulator.Config{EvaluationsPerDay: 20, InventoryPerCSP: 5, AuditLogsPerDay: 5, Recommendations: 3}))
	t.Cleanup(srv.Close) // after the parallel subtests, which run once this function returns
	keys := t.TempDir()
	if code, out, errs := cli(t, context.Background(), nil, "keygen", "--out", keys); code != exitOK {
		t.Fatalf("keygen %d %s %s", code, out, errs)
	}
	pub := filepath.Join(keys, "evidence-signing.pub")

	gw := s3Env(t)
	for _, out := range []string{t.TempDir(), "s3://" + gw.Bucket(t, false) + "/packs"} {
		t.Run(strings.SplitN(out, ":", 2)[0], func(t *testing.T) {
			t.Parallel()
			tenant := strings.TrimSuffix(out, "/") + "/acme"
			if !strings.HasPrefix(out, "s3://") {
				tenant = filepath.Join(out, "acme")
			}
			ev := func(args ...string) (int, string, string) {
				if strings.HasPrefix(out, "s3://") { // flags before the location
					args = append([]string{args[0], "--s3-endpoint", gw.Endpoint}, args[1:]...)
				}
				return cli(t, context.Background(), lwEnvOne(srv.URL), args...)
			}
			days := make([]string, 3)
			for i := range days {
				days[i] = time.Now().UTC().AddDate(0, 0, i-4).Format(time.DateOnly)
			}
			for _, d := range append(days, days[1]) { // the last: a rerun of the middle day
				// One framework: the chain does not depend on what a pack holds.
				if code, stdout, stderr := ev("run", "--out", out, "--dataset", "reports", "--framework", "AWS_CIS_14", "--from", d, "--to", d,
					"--sign-key", filepath.Join(keys, "evidence-signing.key")); code != exitOK {
					t.Fatalf("run %s: exit %d\n%s\n%s", d, code, stdout, stderr)
				}
			}
			code, stdout, stderr := ev("verify", "--chain", "--pub", pub, tenant)
			if code != exitOK || !strings.Contains(stdout, "chain "+tenant+": OK: 4 packs, "+days[0]+" to "+days[2]) {
				t.Fatalf("verify --chain: exit %d\n%s\n%s", code, stdout, stderr)
			}

			store, err := openLocation(context.Background(), tenant, gw.Endpoint)
			if err != nil {
				t.Fatal(err)
			}
			packs, err := pack.Packs(context.Background(), store, "")
			if err != nil || len(packs) != 4 {
				t.Fatalf("packs %q, %v", packs, err)
			}
			var third string // the last day's pack
			for _, p := range packs {
				if strings.HasPrefix(p, days[2]+"/") {
					third = p
				}
			}
			// Another key's signature on the last day's manifest.
			_, other, _ := ed25519.GenerateKey(rand.Reader)
			m := storetest.Get(t, store, third+"/"+pack.ManifestName)
			if err := store.Delete(context.Background(), third+"/"+pack.SignatureName); err != nil {
				t.Fatal(err)
			}
			storetest.Put(t, store, third+"/"+pack.SignatureName, ed25519.Sign(other, m))
			code, stdout, _ = ev("verify", "--chain", "--pub", pub, tenant)
			if code != exitFailed || !strings.Contains(stdout, "signature: "+third+": manifest.sig does not verify") {
				t.Errorf("another key's signature: exit %d\n%s", code, stdout)
			}
			// The middle day's two packs deleted: a missing day, and the
			// last day's link to its predecessor broken.
			for _, p := range packs {
				if strings.HasPrefix(p, days[1]+"/") {
					storetest.DeletePrefix(t, store, p)
				}
			}
			code, stdout, _ = ev("verify", "--chain", "--pub", pub, tenant)
			if code != exitFailed || !strings.Contains(stdout, "gap: "+days[1]+": no verifying pack covers it") ||
				!strings.Contains(stdout, "link: "+third+": its predecessor") {
				t.Errorf("deleted day: exit %d\n%s", code, stdout)
			}
		})
	}
}
