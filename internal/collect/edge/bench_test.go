package edge_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/edge"
	"github.com/evidence-pack/evidence/internal/collect/edge/emulator"
	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

// BenchmarkUnpagedDirectory reads 100,000 users answered in one response,
// as the document shows lists, and reports rows/s and the response size.
// The client spools the response and decodes it one record at a time; the
// in-process emulator, which renders the whole response in memory, makes a
// heap figure here meaningless.
func BenchmarkUnpagedDirectory(b *testing.B) {
	const rows = 100_000
	emu := emulator.New(emulator.Config{Users: rows, Now: func() time.Time { return now }})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	var bytesIn int64
	b.ResetTimer()
	for range b.N {
		c, err := edge.New(edge.Credentials{Account: emu.Account(), APIToken: emulator.DefaultAPIToken, BaseURL: srv.URL},
			edge.Options{Options: httpx.Options{Now: func() time.Time { return now }, SpoolDir: b.TempDir()}})
		if err != nil {
			b.Fatal(err)
		}
		var st httpx.QueryStats
		n := 0
		for _, err := range c.Users(context.Background(), &st) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != rows || st.Pages != 1 {
			b.Fatalf("%d rows in %d pages, want %d in 1", n, st.Pages, rows)
		}
		bytesIn = c.Stats().BytesIn.Load()
	}
	b.StopTimer()
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(bytesIn)/(1<<20), "response-MiB")
}
