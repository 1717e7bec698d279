package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/storage"

	"github.com/evidence-pack/evidence/internal/testtool"
)

// An independent client, the AWS CLI, lists what the store wrote and
// downloads it; the files hash to what Put returned.
func TestAWSCLIReadsPacks(t *testing.T) {
	aws := testtool.Program(t, "aws", testtool.InstallAWSCLI, "--version")
	version, _ := exec.Command(aws, "--version").Output()
	t.Logf("%s: %s", aws, bytes.TrimSpace(version))
	g := startGateway(t)
	cfg := g.config(g.bucket(t, false))
	cfg.Prefix = "evidence"
	s := g.store(t, cfg)
	sizes := map[string]int64{
		"acme/run/manifest.json":     900,
		"acme/run/SHA256SUMS":        0,
		"acme/run/xlsx/evidence.bin": 11 << 20, // three parts
	}
	want := map[string]storage.Object{}
	for key, size := range sizes {
		obj, err := s.Put(t.Context(), key, newGen(size, uint64(size)), storage.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want[key] = obj
	}

	run := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, aws, append([]string{"--endpoint-url", g.endpoint, "--region", region}, args...)...)
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "AWS_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID="+g.access, "AWS_SECRET_ACCESS_KEY="+g.secret,
			"AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
			"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("aws %q: %v\n%s", args, err, stderr)
		}
		return out
	}

	var listing struct {
		Contents []struct {
			Key  string
			Size int64
		}
	}
	if err := json.Unmarshal(run("s3api", "list-objects-v2", "--bucket", cfg.Bucket, "--prefix", "evidence/acme/", "--output", "json"), &listing); err != nil {
		t.Fatal(err)
	}
	if len(listing.Contents) != len(sizes) {
		t.Errorf("aws lists %d objects, want %d: %+v", len(listing.Contents), len(sizes), listing.Contents)
	}
	for _, o := range listing.Contents {
		key := o.Key[len("evidence/"):]
		if size, ok := sizes[key]; !ok || size != o.Size {
			t.Errorf("aws lists %s of %d bytes", o.Key, o.Size)
		}
	}

	dir := t.TempDir()
	run("s3", "cp", "--recursive", "--only-show-errors", "s3://"+cfg.Bucket+"/evidence/acme/", dir)
	for key, obj := range want {
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(key[len("acme/"):])))
		if err != nil {
			t.Errorf("aws s3 cp did not bring %s: %v", key, err)
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil || n != obj.Size || hex.EncodeToString(h.Sum(nil)) != obj.SHA256 {
			t.Errorf("%s downloaded by aws: %d bytes, sha256 %x (%v); Put said %d, %s", key, n, h.Sum(nil), err, obj.Size, obj.SHA256)
		}
	}
}
