package controller

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"sync"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
)

// TailOptions are the knobs of `zkctl tail`.
type TailOptions struct {
	Role   string // "" = every role and zookeeper
	Lines  int
	Follow bool
}

// Tail prints the logs of hosts, each line prefixed "HOST ROLE[-ID] |".
// Without Follow, hosts are printed one after the other; with it, lines of
// all hosts are interleaved as they come until ctx is done.
func (c *Cluster) Tail(ctx context.Context, hosts []inventory.Host, o TailOptions, w io.Writer) error {
	args := []string{"tail", "-n", strconv.Itoa(o.Lines)}
	if o.Follow {
		args = append(args, "-f")
	}
	if o.Role != "" {
		args = append(args, "--role", o.Role)
	}
	var mu sync.Mutex
	bufs := make([]bytes.Buffer, len(hosts))
	err := c.Each(ctx, hosts, func(ctx context.Context, h inventory.Host, t transport.Transport) error {
		var out io.Writer = &bufs[HostIndex(hosts, h.Name)]
		if o.Follow {
			out = &lockedWriter{mu: &mu, w: w}
		}
		lw := &linePrefixer{prefix: h.Name + " ", w: out}
		err := t.Run(ctx, agentCommand(h, args), lw, io.Discard)
		lw.flush()
		if ctx.Err() != nil {
			return nil
		}
		return StepError(h, "tail", err)
	})
	for i := range bufs {
		_, _ = w.Write(bufs[i].Bytes())
	}
	return err
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// linePrefixer writes whole lines to w, each with prefix.
type linePrefixer struct {
	prefix string
	w      io.Writer
	buf    []byte
}

func (l *linePrefixer) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := append([]byte(l.prefix), l.buf[:i+1]...)
		l.buf = l.buf[i+1:]
		if _, err := l.w.Write(line); err != nil {
			return len(p), err
		}
	}
}

func (l *linePrefixer) flush() {
	if len(l.buf) > 0 {
		_, _ = l.w.Write(append(append([]byte(l.prefix), l.buf...), '\n'))
		l.buf = nil
	}
}
