package lacework_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/lacework"
	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	"github.com/evidence-pack/evidence/internal/period"
)

// BenchmarkEvaluations pulls 100,000 compliance evaluations (20 pages of
// 5,000) from the emulator over loopback HTTP and reports rows/s and the
// requests made against the minimum (one token + one request per page).
func BenchmarkEvaluations(b *testing.B) {
	const rows = 100_000
	emu := emulator.New(emulator.Config{EvaluationsPerDay: rows, Now: func() time.Time { return now }})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	w := period.Window{From: day(21), To: day(22)}
	want := emu.CountEvaluations("acme-prod", "AwsCompliance", w.From, w.To)
	b.ResetTimer()
	var requests int64
	for range b.N {
		c, err := lacework.New(lacework.Credentials{Account: "acme", KeyID: emulator.DefaultKeyID, Secret: emulator.DefaultSecret, BaseURL: srv.URL},
			lacework.Options{Options: httpx.Options{Now: func() time.Time { return now }}})
		if err != nil {
			b.Fatal(err)
		}
		sub, _ := c.SubAccount("acme-prod")
		n := 0
		for _, err := range sub.Evaluations(context.Background(), lacework.EvaluationQuery{Dataset: "AwsCompliance", Window: w}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != want {
			b.Fatalf("%d rows, want %d", n, want)
		}
		requests = c.Stats().Requests.Load() // the token request included
	}
	b.StopTimer()
	minimum := 1 + (want+4999)/5000
	b.ReportMetric(float64(want)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(requests), "requests")
	b.ReportMetric(float64(minimum), "min-requests")
}
