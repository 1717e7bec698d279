package s3_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/evidence-pack/evidence/internal/storage/s3"
	"github.com/evidence-pack/evidence/internal/storage/s3/s3test"
)

const region = s3test.Region

// gateway is the package's view of the s3test server.
type gateway struct {
	*s3test.Gateway
	endpoint       string
	access, secret string
	client         *s3sdk.Client
}

func TestMain(m *testing.M) {
	code := m.Run()
	s3test.Stop()
	os.Exit(code)
}

func startGateway(t *testing.T) *gateway {
	t.Helper()
	g := s3test.Start(t)
	return &gateway{Gateway: g, endpoint: g.Endpoint, access: g.Access, secret: g.Secret, client: g.Client}
}

func (g *gateway) creds() aws.CredentialsProvider {
	access, secret := g.access, g.secret
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: access, SecretAccessKey: secret, Source: "test"}, nil
	})
}

func (g *gateway) bucket(t *testing.T, lock bool) string { return g.Gateway.Bucket(t, lock) }

// config is a store configuration for bucket on this gateway: small parts,
// so that the multipart paths run on small objects.
func (g *gateway) config(bucket string) s3.Config {
	return s3.Config{
		Bucket:      bucket,
		Region:      region,
		Endpoint:    g.endpoint,
		PathStyle:   true,
		PartSize:    s3.MinPartSize,
		Concurrency: 4,
		Credentials: g.creds(),
	}
}

func (g *gateway) store(t *testing.T, cfg s3.Config) *s3.Store {
	t.Helper()
	s, err := s3.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("s3.New(%+v): %v", cfg, err)
	}
	return s
}
