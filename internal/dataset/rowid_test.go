package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"
)

// oldRowID is RowID as first written, with fmt: the ids in every pack
// published so far are its, and must stay so.
func oldRowID(fields ...string) string {
	h := sha256.New()
	for _, f := range fields {
		fmt.Fprintf(h, "%d:%s", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func TestRowIDUnchanged(t *testing.T) {
	long := strings.Repeat("ä", 400) // past the stack buffer
	for _, fields := range [][]string{nil, {""}, {"", ""}, {"a"}, {"lacework", "acme", "prod", "AwsCompliance", "123456789012", "lacework-global-1", "arn:aws:s3:::b"},
		{long, long, "x"}, {"1:a", "b"}, {"1", ":ab"}} {
		if got, want := RowID(fields...), oldRowID(fields...); got != want {
			t.Errorf("RowID(%q) = %s, want %s", fields, got, want)
		}
	}
	sc := Scope{Source: "lacework", Tenant: "acme", SubAccount: "prod"}
	for _, at := range []time.Time{{}, time.Date(2026, 11, 20, 3, 4, 5, 123_000_000, time.UTC), time.Date(2026, 11, 20, 3, 4, 5, 0, time.FixedZone("x", 3600))} {
		e := Evaluation{Dataset: "AwsCompliance", AccountID: "1", ControlID: "c", Resource: strings.Repeat("r", 600), ReportTime: at}
		want := oldRowID(sc.Source, sc.Tenant, sc.SubAccount, e.Dataset, e.AccountID, e.ControlID, e.Resource, stamp(e.ReportTime))
		if got := e.Row(sc)[len(e.Row(sc))-1]; got != want {
			t.Errorf("evaluation at %v: row id %v, want %s", at, got, want)
		}
	}
}

func BenchmarkEvaluationRow(b *testing.B) {
	sc := Scope{Source: "lacework", Tenant: "acme", SubAccount: "prod"}
	e := Evaluation{Dataset: "AwsCompliance", AccountID: "123456789012", AccountAlias: "prod-1", ReportTime: time.Date(2026, 11, 20, 3, 4, 5, 0, time.UTC),
		ControlID: "lacework-global-12", Recommendation: "Ensure S3 bucket access logging is enabled", Section: "Logging", Severity: "High",
		Status: "NonCompliant", Resource: "arn:aws:s3:::bucket-12345", Reason: "Access logging is disabled", EvalType: "Cis"}
	b.ReportAllocs()
	for b.Loop() {
		_ = e.Row(sc)
	}
}
