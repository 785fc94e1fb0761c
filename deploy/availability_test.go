package deploy_test

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/deploy"
	"zkctl/roles"
)

// writer is a client that writes all the time while a roll runs: one
// session to the whole ensemble (through the controller's tunnels where
// needed) setting one znode in a loop. A write that fails with a lost
// connection is retried (the client library moves the session to another
// server); any other failure, and the session's expiry, are recorded.
type writer struct {
	conn    *zk.Conn
	stop    chan struct{}
	done    chan struct{}
	expired atomic.Bool

	mu       sync.Mutex
	writes   int
	retries  int
	failures []string
	last     time.Time
	longest  time.Duration
}

// quiet drops the client library's log lines (every reconnection).
type quiet struct{}

func (quiet) Printf(string, ...any) {}

// writeGap is the writer's pause between two writes.
const writeGap = 10 * time.Millisecond

// startWriter connects and starts writing to /zkctl-availability.
func startWriter(t *testing.T, c *deploy.Cluster) *writer {
	t.Helper()
	cfg, err := c.RoleConfig("availability", c.Inv.ServerHosts())
	if err != nil {
		t.Fatal(err)
	}
	w := &writer{stop: make(chan struct{}), done: make(chan struct{})}
	conn, events, err := zk.Connect(cfg.Servers, cfg.SessionTimeout, roles.Through(cfg.Dialer), zk.WithLogger(quiet{}),
		zk.WithEventCallback(func(e zk.Event) {
			if e.State == zk.StateExpired {
				w.expired.Store(true)
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	w.conn = conn
	deadline := time.After(20 * time.Second)
	for conn.State() != zk.StateHasSession {
		select {
		case <-events:
		case <-deadline:
			conn.Close()
			t.Fatalf("writer: no session within 20s (state %v)", conn.State())
		}
	}
	const path = "/zkctl-availability"
	if _, err := conn.Create(path, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
		conn.Close()
		t.Fatalf("writer: create %s: %v", path, err)
	}
	w.last = time.Now()
	go w.loop(path)
	return w
}

func (w *writer) loop(path string) {
	defer close(w.done)
	for n := 0; ; n++ {
		select {
		case <-w.stop:
			return
		case <-time.After(writeGap):
		}
		for {
			_, err := w.conn.Set(path, []byte(strconv.Itoa(n)), -1)
			w.mu.Lock()
			switch {
			case err == nil:
				now := time.Now()
				w.writes++
				w.longest = max(w.longest, now.Sub(w.last))
				w.last = now
			case errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrNoServer):
				w.retries++
			default:
				w.failures = append(w.failures, fmt.Sprintf("%s: write %d: %v", time.Now().Format("15:04:05.000"), n, err))
			}
			w.mu.Unlock()
			if err == nil || !(errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrNoServer)) {
				break
			}
			select {
			case <-w.stop:
				return
			case <-time.After(writeGap):
			}
		}
	}
}

// availability is what a writer saw.
type availability struct {
	writes, retries int
	longest         time.Duration // the longest time between two successful writes
	failures        []string
	expired         bool
}

// finish stops the writer and closes its session.
func (w *writer) finish() availability {
	close(w.stop)
	<-w.done
	w.conn.Close()
	w.mu.Lock()
	defer w.mu.Unlock()
	return availability{writes: w.writes, retries: w.retries, longest: w.longest, failures: w.failures, expired: w.expired.Load()}
}

// check fails t on a write that failed other than by a lost connection,
// or an expired session, and logs the figures.
func (a availability) check(t *testing.T, what string) {
	t.Helper()
	t.Logf("%s: %d writes, %d retried after a lost connection, longest pause between writes %v", what, a.writes, a.retries, a.longest.Round(time.Millisecond))
	if a.expired {
		t.Errorf("%s: the writer's session expired", what)
	}
	if len(a.failures) > 0 {
		t.Errorf("%s: %d writes failed: %q", what, len(a.failures), a.failures)
	}
	if a.writes == 0 {
		t.Errorf("%s: no write succeeded", what)
	}
}
