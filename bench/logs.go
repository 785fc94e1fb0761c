package bench

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// writeCounter is a slog.Handler that counts the records of an in-process
// role whose "write" attribute is op (the roles log one line per successful
// write, see roles.RunMaster) and notes when the first and the n-th came.
// It also notes when the master logged its election (write
// "create-master"). It prints nothing.
type writeCounter struct{ s *counterState }

type counterState struct {
	op          string
	n           int
	mu          sync.Mutex
	count       int
	first, last time.Time
	claimed     time.Time // the first write "create-master": the master was elected
}

func newWriteCounter(op string, n int) *writeCounter {
	return &writeCounter{s: &counterState{op: op, n: n}}
}

// reached returns when the n-th write was logged, and whether it was.
func (c *writeCounter) reached() (time.Time, bool) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.s.last, c.s.count >= c.s.n
}

// first returns when the first write was logged (zero if none was).
func (c *writeCounter) first() time.Time {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.s.first
}

// elected returns when the master logged its election (its write of
// /master), zero if it did not.
func (c *writeCounter) elected() time.Time {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.s.claimed
}

// Enabled implements slog.Handler: only INFO and above carry writes.
func (c *writeCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

// Handle implements slog.Handler.
func (c *writeCounter) Handle(_ context.Context, r slog.Record) error {
	var write string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "write" {
			write = a.Value.String()
			return false
		}
		return true
	})
	if write != c.s.op && write != "create-master" {
		return nil
	}
	now := time.Now()
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if write != c.s.op {
		if c.s.claimed.IsZero() {
			c.s.claimed = now
		}
		return nil
	}
	c.s.count++
	if c.s.count == 1 {
		c.s.first = now
	}
	if c.s.count == c.s.n {
		c.s.last = now
	}
	return nil
}

// WithAttrs implements slog.Handler.
func (c *writeCounter) WithAttrs([]slog.Attr) slog.Handler { return c }

// WithGroup implements slog.Handler.
func (c *writeCounter) WithGroup(string) slog.Handler { return c }

// quiet returns l reduced to its warnings and errors: the in-process roles
// of the pipeline log one line per write, and formatting them only to
// throw them away would take CPU from the ensemble being measured.
func quiet(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(minLevel{min: slog.LevelWarn, Handler: l.Handler()})
}

// minLevel drops the records below min.
type minLevel struct {
	min slog.Level
	slog.Handler
}

// Enabled implements slog.Handler.
func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// WithAttrs implements slog.Handler.
func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{min: h.min, Handler: h.Handler.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{min: h.min, Handler: h.Handler.WithGroup(name)}
}
