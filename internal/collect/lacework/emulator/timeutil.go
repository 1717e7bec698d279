package emulator

import (
	"fmt"
	"time"
)

const (
	msPerDay = int64(24 * time.Hour / time.Millisecond)

	// dataRetention is how far before Now generated data exists.
	dataRetention = 120 * 24 * time.Hour
	// maxSearchHistory: ComplianceEvaluations/search accepts startTime no
	// older than this before Now (API document: "within the last 90 days").
	maxSearchHistory = 90 * 24 * time.Hour
	// maxSearchWindow: "The maximum time range per API request is 7 days."
	maxSearchWindow = 7 * 24 * time.Hour
	// defaultWindow is used when a search has no timeFilter.
	defaultWindow = 24 * time.Hour

	// rfc3339Milli is the timestamp layout of API responses.
	rfc3339Milli = "2006-01-02T15:04:05.000Z"

	// timeFormatsHelp names the accepted request formats in error messages.
	timeFormatsHelp = "yyyy-MM-dd, yyyy-MM-ddTHH, yyyy-MM-ddTHH:mm:ssZ or yyyy-MM-ddTHH:mm:ss.SSSZ (UTC)"
)

// apiTimeFormats are the four request formats of the API document
// ("Date & Time Formats"). pattern: 'd' is a decimal digit, every other byte
// must match literally. The explicit pattern check is needed because
// time.Parse silently accepts a fractional second the layout does not have.
var apiTimeFormats = [...]struct{ pattern, layout string }{
	{"dddd-dd-dd", "2006-01-02"},
	{"dddd-dd-ddTdd", "2006-01-02T15"},
	{"dddd-dd-ddTdd:dd:ddZ", "2006-01-02T15:04:05Z"},
	{"dddd-dd-ddTdd:dd:dd.dddZ", "2006-01-02T15:04:05.000Z"},
}

// parseAPITime parses v in one of the API's four UTC formats. field names the
// parameter in the error message.
func parseAPITime(field, v string) (time.Time, error) {
	for _, f := range apiTimeFormats {
		if !matchPattern(f.pattern, v) {
			continue
		}
		t, err := time.ParseInLocation(f.layout, v, time.UTC)
		if err != nil {
			break
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("invalid %s %q: supported formats are %s", field, v, timeFormatsHelp)
}

func matchPattern(p, v string) bool {
	if len(p) != len(v) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] == 'd' {
			if v[i] < '0' || v[i] > '9' {
				return false
			}
		} else if p[i] != v[i] {
			return false
		}
	}
	return true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// msCeil is the smallest whole millisecond at or after t. Rows carry
// millisecond timestamps, so "row time >= t" is "row ms >= msCeil(t)" and
// "row time < t" is "row ms < msCeil(t)".
func msCeil(t time.Time) int64 {
	return t.Unix()*1000 + ceilDiv(int64(t.Nanosecond()), int64(time.Millisecond))
}

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// fmtMs formats a millisecond timestamp as rfc3339Milli. It is on the hot
// path of every row, hence hand-rolled (same output as time.Format).
func fmtMs(ms int64) string {
	t := msTime(ms)
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.Format(rfc3339Milli)
	}
	h, mi, sec := t.Clock()
	milli := int(ms - floorDiv(ms, 1000)*1000)
	var b [24]byte
	put := func(at, v, n int) {
		for i := at + n - 1; i >= at; i-- {
			b[i] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, y, 4)
	b[4] = '-'
	put(5, int(mo), 2)
	b[7] = '-'
	put(8, d, 2)
	b[10] = 'T'
	put(11, h, 2)
	b[13] = ':'
	put(14, mi, 2)
	b[16] = ':'
	put(17, sec, 2)
	b[19] = '.'
	put(20, milli, 3)
	b[23] = 'Z'
	return string(b[:])
}

// series places perDay rows in every UTC day, evenly spaced: row n of day d
// (global index g = d*perDay + n, d counted from the Unix epoch) is stamped
// d*24h + floor(n*24h/perDay), in milliseconds. Counting the rows of a
// window is therefore arithmetic; no row is ever stored.
type series struct{ perDay int64 }

// at is the millisecond timestamp of row g.
func (s series) at(g int64) int64 {
	d := floorDiv(g, s.perDay)
	n := g - d*s.perDay
	return d*msPerDay + n*msPerDay/s.perDay
}

// first is the smallest g with at(g) >= ms.
func (s series) first(ms int64) int64 {
	d := floorDiv(ms, msPerDay)
	o := ms - d*msPerDay
	return d*s.perDay + ceilDiv(o*s.perDay, msPerDay)
}

// span is the index range [lo, hi) of the rows stamped in [fromMs, toMs).
func (s series) span(fromMs, toMs int64) (lo, hi int64) {
	lo, hi = s.first(fromMs), s.first(toMs)
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// collectionHour is the UTC hour of the daily inventory collection.
const collectionHour = 2

// lastCollection returns the start (ms) of the last daily collection stamped
// in [fromMs, toMs), and false when there is none.
func lastCollection(fromMs, toMs int64) (int64, bool) {
	if toMs <= fromMs {
		return 0, false
	}
	off := int64(collectionHour) * int64(time.Hour/time.Millisecond)
	d := floorDiv(toMs-1-off, msPerDay)
	c := d*msPerDay + off
	if c < fromMs {
		return 0, false
	}
	return c, true
}
