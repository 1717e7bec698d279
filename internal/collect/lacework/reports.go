package lacework

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

// GCPNoOrganization is the primaryQueryId of a project-level GCP
// integration's reports.
const GCPNoOrganization = "n/a"

// ReportQuery selects one compliance report: a framework for a target.
type ReportQuery struct {
	Target Target
	// Framework is a report definition's reportName; ReportType, when set
	// instead, is the API's report type (e.g. AWS_CIS_14).
	Framework  string
	ReportType string
}

func (q ReportQuery) request(format string) (httpx.Request, error) {
	v := url.Values{"format": {format}}
	switch {
	case q.Target.Primary != "":
		v.Set("primaryQueryId", q.Target.Primary)
	case q.Target.Cloud == GCP:
		// A project-level GCP integration has no organization: the
		// lacework CLI sends "n/a" (go-sdk cli/cmd/compliance_gcp.go,
		// extractGcpProjects); the document marks neither id required.
		v.Set("primaryQueryId", GCPNoOrganization)
	}
	if q.Target.Secondary != "" {
		v.Set("secondaryQueryId", q.Target.Secondary)
	}
	switch {
	case q.ReportType != "":
		v.Set("reportType", q.ReportType)
	case q.Framework != "":
		v.Set("reportName", q.Framework)
	default:
		return httpx.Request{}, errors.New("report query names neither a framework nor a report type")
	}
	return httpx.Request{Method: http.MethodGet, Path: pathReports, Query: v, Bucket: pathReports}, nil
}

// Params are the report request's query parameters (format=json), for
// the manifest's record of the call.
func (q ReportQuery) Params() map[string]string {
	r, err := q.request("json")
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range r.Query {
		out[k] = strings.Join(v, ",")
	}
	return out
}

func (q ReportQuery) String() string {
	f := q.Framework
	if q.ReportType != "" {
		f = q.ReportType
	}
	return fmt.Sprintf("report %q for %s", f, q.Target)
}

// Report is a downloaded compliance report (format=json). The document is
// kept in a temporary file and read as a stream: Header is decoded up front,
// Recommendations are decoded one at a time. Close removes the file.
type Report struct {
	Header ReportHeader
	file   *httpx.Spooled
	name   string
	// budget bounds each value the current walk decodes (reset per key and
	// per recommendation); walks are sequential, as the file's offset is.
	budget *httpx.ValueBudget
}

// Report downloads q's report as JSON. The caller must Close it.
func (c *Client) Report(ctx context.Context, q ReportQuery) (*Report, error) {
	req, err := q.request("json")
	if err != nil {
		return nil, fmt.Errorf("lacework %s: %w", c.Name(), err)
	}
	f, err := c.http.Spool(ctx, c.opts.SpoolDir, req)
	if err != nil {
		return nil, fmt.Errorf("lacework %s: %s: %w", c.Name(), q, c.wrap(err))
	}
	r := &Report{file: f, name: fmt.Sprintf("lacework %s: %s", c.Name(), q)}
	if err := r.readHeader(); err != nil {
		_ = f.Close()
		return nil, err
	}
	return r, nil
}

// Close removes the report's temporary file.
func (r *Report) Close() error { return r.file.Close() }

// readHeader decodes everything of data[0] except its recommendations.
func (r *Report) readHeader() error {
	found := false
	err := r.walk(func(dec *json.Decoder, index int, key string) error {
		if index > 0 || key == "recommendations" {
			return httpx.SkipValue(dec)
		}
		found = true
		return decodeField(dec, &r.Header, key)
	})
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%s: the response holds no report (empty data); check that the framework applies to this cloud account", r.name)
	}
	return nil
}

// Recommendations streams the recommendations of every report in the
// document, with their violations.
func (r *Report) Recommendations() iter.Seq2[Recommendation, error] {
	return func(yield func(Recommendation, error) bool) {
		stop := errors.New("stop")
		err := r.walk(func(dec *json.Decoder, _ int, key string) error {
			if key != "recommendations" {
				return httpx.SkipValue(dec)
			}
			return eachArray(dec, func() error {
				r.budget.Reset()
				var rec Recommendation
				if err := dec.Decode(&rec); err != nil {
					return err
				}
				if !yield(rec, nil) {
					return stop
				}
				return nil
			})
		})
		if err != nil && !errors.Is(err, stop) {
			yield(Recommendation{}, err)
		}
	}
}

// walk reads {"data": [ {key: value, …}, … ], …} from the start of the file
// and calls field for each key of each report object, with the decoder
// positioned before the value. Top-level keys other than data are skipped.
func (r *Report) walk(field func(dec *json.Decoder, index int, key string) error) error {
	if _, err := r.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	budget := httpx.NewValueBudget(r.file, httpx.DefaultMaxValueBytes)
	r.budget = budget
	dec := json.NewDecoder(budget)
	err := eachObject(dec, func(key string) error {
		budget.Reset()
		if key != "data" {
			return httpx.SkipValue(dec)
		}
		index := 0
		return eachArray(dec, func() error {
			defer func() { index++ }()
			return eachObject(dec, func(k string) error { budget.Reset(); return field(dec, index, k) })
		})
	})
	if err != nil {
		return fmt.Errorf("%s: decode report: %w", r.name, err)
	}
	return nil
}

// eachObject reads an object, calling fn with the decoder before each value.
// fn must consume the value.
func eachObject(dec *json.Decoder, fn func(key string) error) error {
	if err := httpx.ExpectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := t.(string)
		if !ok {
			return fmt.Errorf("want an object key, got %v", t)
		}
		if err := fn(key); err != nil {
			return err
		}
	}
	return httpx.ExpectDelim(dec, '}')
}

// eachArray reads an array (or null), calling fn before each element; fn
// must consume it.
func eachArray(dec *json.Decoder, fn func() error) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if d, ok := t.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("want an array, got %v", t)
	}
	for dec.More() {
		if err := fn(); err != nil {
			return err
		}
	}
	return httpx.ExpectDelim(dec, ']')
}

// decodeField decodes one value into the field of v whose JSON key is key,
// by decoding {"key": value} into v; unknown keys are consumed and dropped.
func decodeField(dec *json.Decoder, v any, key string) error {
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	k, _ := json.Marshal(key)
	var b bytes.Buffer
	b.WriteByte('{')
	b.Write(k)
	b.WriteByte(':')
	b.Write(raw)
	b.WriteByte('}')
	return json.Unmarshal(b.Bytes(), v)
}

// ReportPDF downloads q's report as the vendor's PDF, verbatim. The caller
// must Close the result; its Size is known before reading.
func (c *Client) ReportPDF(ctx context.Context, q ReportQuery) (*httpx.Spooled, error) {
	req, err := q.request("pdf")
	if err != nil {
		return nil, fmt.Errorf("lacework %s: %w", c.Name(), err)
	}
	req.Header = http.Header{"Accept": {"application/pdf"}}
	f, err := c.http.Spool(ctx, c.opts.SpoolDir, req)
	if err != nil {
		return nil, fmt.Errorf("lacework %s: %s as PDF: %w", c.Name(), q, c.wrap(err))
	}
	magic := make([]byte, 5)
	if _, err := io.ReadFull(f, magic); err != nil || string(magic) != "%PDF-" {
		_ = f.Close()
		return nil, fmt.Errorf("lacework %s: %s as PDF: the response is not a PDF document", c.Name(), q)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}
