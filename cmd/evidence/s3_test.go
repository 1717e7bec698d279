package main

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	"github.com/evidence-pack/evidence/internal/storage/s3/s3test"
	"github.com/evidence-pack/evidence/internal/testtool"
)

func TestMain(m *testing.M) {
	if os.Getenv(asCLI) != "" {
		os.Exit(terminalCLI())
	}
	code := m.Run()
	s3test.Stop()
	os.Exit(code)
}

// s3Env starts the tests' S3 server (s3test.Start: one per process) and
// points the AWS SDK at it through the process environment, where the S3
// store reads its credentials as the SDK does. Every S3 test sets the same
// values and no other test reads them, so they are set once and stay:
// t.Setenv would keep these slow tests out of the parallel phase.
func s3Env(t *testing.T) *s3test.Gateway {
	t.Helper()
	gw := s3test.Start(t)
	s3EnvOnce.Do(func() {
		for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": gw.Access, "AWS_SECRET_ACCESS_KEY": gw.Secret, "AWS_REGION": s3test.Region} {
			if err := os.Setenv(k, v); err != nil {
				t.Fatal(err)
			}
		}
	})
	return gw
}

var s3EnvOnce sync.Once

// TestRunToS3 writes a pack to a real S3-compatible server (versitygw) and
// verifies it there; a replaced object makes verify fail.
func TestRunToS3(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	gw := s3Env(t)
	bucket := gw.Bucket(t, false)
	srv := httptest.NewServer(emulator.New(emulator.Config{EvaluationsPerDay: 300, InventoryPerCSP: 50, AuditLogsPerDay: 50, Recommendations: 5}))
	defer srv.Close()

	out := "s3://" + bucket + "/packs"
	code, stdout, stderr := cli(t, context.Background(), lwEnvOne(srv.URL), "run", "--out", out, "--s3-endpoint", gw.Endpoint)
	if code != exitOK {
		t.Fatalf("run exit %d\n%s\n%s", code, stdout, stderr)
	}
	loc := regexp.MustCompile(`written to (s3://\S+)`).FindStringSubmatch(stdout)
	if loc == nil {
		t.Fatalf("no location in:\n%s", stdout)
	}
	if code, vout, verr := cli(t, context.Background(), nil, "verify", "--s3-endpoint", gw.Endpoint, loc[1]); code != exitOK ||
		!strings.Contains(vout, "s3: Object Lock: ") || !strings.Contains(vout, "checksums S3 stored agree") {
		t.Fatalf("verify exit %d\n%s\n%s", code, vout, verr)
	}
	// --out inside that pack is refused before any request, naming it.
	for _, o := range []string{loc[1], loc[1] + "frameworks/more"} {
		code, stdout, stderr := cli(t, context.Background(), lwEnv("http://127.0.0.1:1"), "run", "--out", o, "--s3-endpoint", gw.Endpoint)
		if code != exitUsage || !strings.Contains(stderr, strings.TrimSuffix(strings.TrimPrefix(loc[1], "s3://"+bucket+"/"), "/")) {
			t.Errorf("--out %s: exit %d\n%s\n%s", o, code, stdout, stderr)
		}
	}
	// An independent client (the AWS CLI) downloads the pack, and
	// sha256sum -c accepts it.
	dl := t.TempDir()
	awsCmd := exec.Command(testtool.Program(t, "aws", testtool.InstallAWSCLI, "--version"), "--endpoint-url", gw.Endpoint, "--region", s3test.Region, "s3", "cp", "--recursive", "--only-show-errors", loc[1], dl)
	awsCmd.Env = append(os.Environ(), "AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull, "AWS_EC2_METADATA_DISABLED=true")
	if out, err := awsCmd.CombinedOutput(); err != nil {
		t.Fatalf("aws s3 cp: %v\n%s", err, out)
	}
	sums := exec.Command(testtool.Program(t, "sha256sum", testtool.InstallCoreutils, "--version"), "--quiet", "-c", "SHA256SUMS")
	sums.Dir = dl
	if out, err := sums.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c on the downloaded pack: %v\n%s", err, out)
	}

	// Every object names its pack and carries its SHA-256 in its metadata.
	key := strings.TrimPrefix(loc[1], "s3://"+bucket+"/") + "summary.pdf"
	head, err := gw.Client.HeadObject(context.Background(), &s3sdk.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	if id := head.Metadata["evidence-pack-id"]; id == "" || !strings.Contains(key, id) || len(head.Metadata["sha256"]) != 64 {
		t.Errorf("metadata %v", head.Metadata)
	}
	// Replace one object behind the store's back: verify catches it.
	if _, err := gw.Client.PutObject(context.Background(), &s3sdk.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader("%PDF-1.4 forged")}); err != nil {
		t.Fatal(err)
	}
	code, vout, _ := cli(t, context.Background(), nil, "verify", "--s3-endpoint", gw.Endpoint, loc[1])
	if code != exitFailed || !strings.Contains(vout, "summary.pdf") {
		t.Fatalf("verify after replacing summary.pdf: exit %d\n%s", code, vout)
	}
}
