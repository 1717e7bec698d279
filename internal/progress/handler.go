package progress

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// Handler is the log on a terminal: records at or above its level print
// as sentences above the progress lines ("warning: acme: the integration
// is disabled (unit: report CIS)"), not as key=value lines in the middle of
// them. Attributes that only a machine needs (time, run id, source) are
// left out; JSON logs keep everything.
type Handler struct {
	screen *Screen
	level  slog.Leveler
	attrs  []slog.Attr
}

// NewHandler returns a Handler printing through screen.
func NewHandler(screen *Screen, level slog.Leveler) *Handler {
	return &Handler{screen: screen, level: level}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// quiet are the attributes left out of a terminal's line.
var quiet = []string{"run_id", "source", "time"}

// Handle implements slog.Handler.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	var tenant string
	var rest []string
	add := func(a slog.Attr) bool {
		switch {
		case a.Key == "tenant":
			tenant = a.Value.String()
		case slices.Contains(quiet, a.Key) || a.Value.String() == "":
		default:
			rest = append(rest, strings.ReplaceAll(a.Key, "_", " ")+": "+a.Value.String())
		}
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	var b strings.Builder
	b.WriteString(label(r.Level))
	b.WriteString(": ")
	if tenant != "" {
		b.WriteString(tenant)
		b.WriteString(": ")
	}
	b.WriteString(r.Message)
	if len(rest) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(rest, ", "))
	}
	h.screen.Print(b.String())
	return nil
}

func label(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "error"
	case l >= slog.LevelWarn:
		return "warning"
	case l >= slog.LevelInfo:
		return "info"
	}
	return "debug"
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(slices.Clip(h.attrs), attrs...)
	return &c
}

// WithGroup implements slog.Handler: groups are flattened, a terminal line
// has no room for them.
func (h *Handler) WithGroup(string) slog.Handler { return h }
