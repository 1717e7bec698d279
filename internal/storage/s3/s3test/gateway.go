// Package s3test runs a real S3-compatible server for tests: versitygw
// (github.com/versity/versitygw) with its posix backend, on a free loopback
// port, with bucket versioning (so Object Lock works) and random root
// credentials. It is found on PATH or in $(go env GOPATH)/bin, or installed
// with go install (minutes; CI installs it beforehand). Without it, tests
// skip loudly, or fail when CI=true. The process is stopped by its own pid.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/evidence-pack/evidence/internal/testtool"
)

const (
	versitygwModule  = "github.com/versity/versitygw/cmd/versitygw"
	versitygwVersion = "v1.8.0"
	// Region is what the gateway is addressed with.
	Region = "us-east-1"
)

// Gateway is a running versitygw.
type Gateway struct {
	Endpoint       string // http://127.0.0.1:PORT
	Access, Secret string
	Client         *s3sdk.Client // an SDK client of its own, for checks behind a store's back
	dir            string        // its root, versioning directory and log
	cmd            *exec.Cmd
	done           chan struct{} // closed when the process has exited
}

// The test binary's gateway: one per process, started on first use, stopped
// by Stop (call it from TestMain).
var (
	gwOnce   sync.Once
	skipOnce sync.Once
	gw       *Gateway
	gwErr    error
)

// Stop ends the process's gateway, if one was started.
func Stop() {
	if gw != nil {
		gw.stop()
	}
}

// Start returns the test binary's versitygw, starting it on first use.
// Without one the test is skipped, loudly, or fails in CI (testtool).
func Start(t testing.TB) *Gateway {
	t.Helper()
	gwOnce.Do(func() { gw, gwErr = launchGateway() })
	if gwErr != nil {
		install := fmt.Sprintf("go install %s@%s", versitygwModule, versitygwVersion)
		if !testtool.InCI() {
			skipOnce.Do(func() { // seen even without -v
				fmt.Fprintf(os.Stderr, "\n!!! S3 TESTS NOT RUN: no versitygw S3 server: %v\n!!! install it: %s\n", gwErr, install)
			})
		}
		testtool.Missing(t, "versitygw (an S3-compatible server)", install, gwErr)
	}
	return gw
}

// findVersitygw looks on PATH and in $(go env GOPATH)/bin, then installs it.
func findVersitygw() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOPATH: %w", err)
	}
	var bins []string
	for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
		bins = append(bins, filepath.Join(dir, "bin", "versitygw"))
	}
	if gobin, err := exec.Command("go", "env", "GOBIN").Output(); err == nil && len(bytes.TrimSpace(gobin)) > 0 {
		bins = append([]string{filepath.Join(string(bytes.TrimSpace(gobin)), "versitygw")}, bins...)
	}
	for _, b := range bins {
		if _, err := os.Stat(b); err == nil {
			return b, nil
		}
	}
	fmt.Fprintf(os.Stderr, "s3 tests: versitygw not found; running go install %s@%s (this takes minutes)\n", versitygwModule, versitygwVersion)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", versitygwModule+"@"+versitygwVersion)
	cmd.Dir = os.TempDir() // outside this module
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %w\n%s", versitygwModule, versitygwVersion, err, tail(out))
	}
	for _, b := range bins {
		if _, err := os.Stat(b); err == nil {
			return b, nil
		}
	}
	return "", errors.New("go install succeeded but versitygw is not in GOBIN or GOPATH/bin")
}

func launchGateway() (*Gateway, error) {
	bin, err := findVersitygw()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 { // the free port may be taken before versitygw binds it
		g, err := tryLaunch(bin)
		if err == nil {
			return g, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func tryLaunch(bin string) (*Gateway, error) {
	dir, err := os.MkdirTemp("", "evidence-s3-test-")
	if err != nil {
		return nil, err
	}
	root, vdir := filepath.Join(dir, "root"), filepath.Join(dir, "versions")
	for _, d := range []string{root, vdir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	g := &Gateway{
		Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port),
		Access:   "AK" + randHex(8),
		Secret:   randHex(20),
		dir:      dir,
		done:     make(chan struct{}),
	}
	logf, err := os.Create(filepath.Join(dir, "versitygw.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	g.cmd = exec.Command(bin, "--port", fmt.Sprintf("127.0.0.1:%d", port), "--quiet",
		"posix", "--versioning-dir", vdir, root)
	g.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+g.Access, "ROOT_SECRET_KEY="+g.Secret)
	g.cmd.Stdout, g.cmd.Stderr = logf, logf
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := g.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	go func() { _ = g.cmd.Wait(); close(g.done) }()

	deadline := time.Now().Add(20 * time.Second)
	hc := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-g.done:
			log, _ := os.ReadFile(filepath.Join(dir, "versitygw.log"))
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("versitygw exited at start: %s\n%s", g.cmd.ProcessState, tail(log))
		default:
		}
		if resp, err := hc.Get(g.Endpoint + "/"); err == nil {
			resp.Body.Close()
			break // any answer, 403 included, means it is serving
		}
		if time.Now().After(deadline) {
			g.stop()
			return nil, errors.New("versitygw did not answer within 20 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	g.Client = g.NewClient(g.Endpoint)
	return g, nil
}

// stop ends the gateway process (by its own pid) and removes its files.
func (g *Gateway) stop() {
	if g.cmd.Process != nil {
		_ = g.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-g.done:
		case <-time.After(5 * time.Second):
			_ = g.cmd.Process.Kill()
			<-g.done
		}
	}
	_ = os.RemoveAll(g.dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Creds are the gateway's root credentials.
func (g *Gateway) Creds() aws.CredentialsProvider {
	access, secret := g.Access, g.Secret
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: access, SecretAccessKey: secret, Source: "test"}, nil
	})
}

// NewClient is an SDK client for the gateway at endpoint (a proxy's, say).
func (g *Gateway) NewClient(endpoint string) *s3sdk.Client {
	return s3sdk.New(s3sdk.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  g.Creds(),
	})
}

var bucketSeq atomic.Int64

// Bucket creates a new empty bucket, with Object Lock if lock is set.
func (g *Gateway) Bucket(t testing.TB, lock bool) string {
	t.Helper()
	name := fmt.Sprintf("t%d-%s", bucketSeq.Add(1), randHex(4))
	in := &s3sdk.CreateBucketInput{Bucket: &name}
	if lock {
		in.ObjectLockEnabledForBucket = aws.Bool(true)
	}
	if _, err := g.Client.CreateBucket(context.Background(), in); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
	return name
}
