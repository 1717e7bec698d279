// Package metrics publishes what a run did as Prometheus metrics: pushed to
// a Pushgateway (a CronJob lives too short to be scraped) and/or written as
// a node_exporter textfile. Each run replaces the previous values of its
// tenant; the metrics are gauges of the last run, so alerts can be written
// as "last success older than 26 hours" or "failed units > 0".
package metrics

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	"github.com/prometheus/common/expfmt"
)

// Run is the outcome of one tenant's run.
type Run struct {
	Tenant      string
	Success     bool // a pack was published
	UnitsOK     int64
	UnitsFailed int64
	Rows        int64
	Bytes       int64 // bytes of the pack's files
	Requests    int64
	RateLimited int64 // 429 responses
	Retries     int64
	Duration    time.Duration
	Finished    time.Time
}

// Registry returns a registry holding runs' metrics.
func Registry(runs []Run) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	g := func(name, help string) *prometheus.GaugeVec {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "evidence", Name: name, Help: help}, []string{"tenant"})
		reg.MustRegister(v)
		return v
	}
	units := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "evidence", Name: "last_run_units",
		Help: "Units of the last run, by result."}, []string{"tenant", "result"})
	reg.MustRegister(units)
	finished := g("last_run_timestamp_seconds", "When the last run ended (Unix time).")
	success := g("last_run_success", "1 if the last run published a pack, else 0.")
	lastSuccess := g("last_success_timestamp_seconds", "When the last run that published a pack ended (Unix time); absent before the first.")
	rows := g("last_run_rows", "Rows collected by the last run.")
	bytes := g("last_run_bytes", "Bytes of the files of the last run's pack.")
	requests := g("last_run_requests", "API requests made by the last run, retries included.")
	limited := g("last_run_rate_limited", "429 responses received by the last run.")
	retries := g("last_run_retries", "Requests retried by the last run.")
	duration := g("last_run_duration_seconds", "Wall time of the last run.")
	for _, r := range runs {
		finished.WithLabelValues(r.Tenant).Set(float64(r.Finished.Unix()))
		ok := 0.0
		if r.Success {
			ok = 1
			lastSuccess.WithLabelValues(r.Tenant).Set(float64(r.Finished.Unix()))
		}
		success.WithLabelValues(r.Tenant).Set(ok)
		units.WithLabelValues(r.Tenant, "ok").Set(float64(r.UnitsOK))
		units.WithLabelValues(r.Tenant, "failed").Set(float64(r.UnitsFailed))
		rows.WithLabelValues(r.Tenant).Set(float64(r.Rows))
		bytes.WithLabelValues(r.Tenant).Set(float64(r.Bytes))
		requests.WithLabelValues(r.Tenant).Set(float64(r.Requests))
		limited.WithLabelValues(r.Tenant).Set(float64(r.RateLimited))
		retries.WithLabelValues(r.Tenant).Set(float64(r.Retries))
		duration.WithLabelValues(r.Tenant).Set(r.Duration.Seconds())
	}
	return reg
}

// Push sends the runs' metrics to a Pushgateway under job "evidence" and
// the grouping labels (e.g. shard="2-of-4", so that the pods of an Indexed
// Job do not replace each other's values), replacing the group's previous
// values.
func Push(ctx context.Context, url string, hc *http.Client, runs []Run, grouping map[string]string) error {
	p := push.New(url, "evidence").Gatherer(Registry(runs))
	for k, v := range grouping {
		p = p.Grouping(k, v)
	}
	if hc != nil {
		p = p.Client(hc)
	}
	if err := p.PushContext(ctx); err != nil {
		return fmt.Errorf("metrics: push to %s: %w", url, err)
	}
	return nil
}

// WriteTextfile writes the metrics in the text exposition format to path,
// atomically (temp file + rename), as node_exporter's textfile collector
// expects.
func WriteTextfile(path string, runs []Run) error {
	mfs, err := Registry(runs).Gather()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".evidence-metrics-*")
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("metrics: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("metrics: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}
