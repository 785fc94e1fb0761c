package dataloss

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// Write is one write of the workload and what ZooKeeper answered.
type Write struct {
	Op    string    `json:"op"` // "create" or "delete"
	Path  string    `json:"path"`
	Data  string    `json:"data,omitempty"`
	Sent  time.Time `json:"sent"`
	Acked time.Time `json:"acked,omitzero"` // zero: not acknowledged
	Err   string    `json:"err,omitempty"`  // the error of a write not acknowledged
}

// writer creates unique znodes under root, one every interval, and
// deletes every fourth acknowledged one again (an acknowledged delete is a
// completed task: it must never come back). It records every write.
type writer struct {
	conn     *zk.Conn
	root     string
	interval time.Duration

	busy    sync.Mutex // held through each write, so that pause can wait out the one in flight
	mu      sync.Mutex
	writes  []Write
	live    []string // acknowledged creates not deleted, oldest first
	seq     int
	pauseCh chan struct{} // closed by resume

	stop chan struct{}
	done chan struct{}
}

func newWriter(conn *zk.Conn, root string, interval time.Duration) *writer {
	return &writer{conn: conn, root: root, interval: interval, stop: make(chan struct{}), done: make(chan struct{})}
}

// ensureRoot creates root's parents and root.
func ensureRoot(conn *zk.Conn, root string) error {
	p := ""
	for _, part := range strings.Split(strings.Trim(root, "/"), "/") {
		p += "/" + part
		if _, err := conn.Create(p, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("create %s: %w", p, err)
		}
	}
	return nil
}

// run writes until finish is called; while paused it waits.
func (w *writer) run() {
	defer close(w.done)
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-tick.C:
		}
		w.busy.Lock()
		w.mu.Lock()
		paused := w.pauseCh
		w.mu.Unlock()
		if paused == nil {
			w.step()
		}
		w.busy.Unlock()
		if paused != nil {
			select {
			case <-paused:
			case <-w.stop:
				return
			}
		}
	}
}

// step makes one write: a delete after every third acknowledged create,
// else a create.
func (w *writer) step() {
	w.mu.Lock()
	w.seq++
	seq := w.seq
	var del string
	if seq%4 == 0 && len(w.live) > 0 {
		del, w.live = w.live[0], w.live[1:]
	}
	w.mu.Unlock()
	wr := Write{Op: "create", Path: fmt.Sprintf("%s/w-%07d", w.root, seq), Sent: time.Now()}
	var err error
	if del != "" {
		wr.Op, wr.Path = "delete", del
		err = w.conn.Delete(del, -1)
	} else {
		wr.Data = wr.Path
		_, err = w.conn.Create(wr.Path, []byte(wr.Data), 0, zk.WorldACL(zk.PermAll))
	}
	if err == nil {
		wr.Acked = time.Now()
	} else {
		wr.Err = err.Error()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, wr)
	if err == nil && wr.Op == "create" {
		w.live = append(w.live, wr.Path)
	}
}

// pause stops the writes after the one in flight, until resume.
func (w *writer) pause() {
	w.mu.Lock()
	if w.pauseCh == nil {
		w.pauseCh = make(chan struct{})
	}
	w.mu.Unlock()
	w.busy.Lock() // the write in flight, if any, has ended
	w.busy.Unlock()
}

func (w *writer) resume() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pauseCh != nil {
		close(w.pauseCh)
		w.pauseCh = nil
	}
}

// acked counts the acknowledged writes so far.
func (w *writer) acked() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, wr := range w.writes {
		if !wr.Acked.IsZero() {
			n++
		}
	}
	return n
}

// waitAcked waits until n more writes than before are acknowledged.
func (w *writer) waitAcked(ctx context.Context, n int, bound time.Duration) error {
	want := w.acked() + n
	deadline := time.Now().Add(bound)
	for w.acked() < want {
		if time.Now().After(deadline) {
			return fmt.Errorf("wait for %d acknowledged writes: none within %v", n, bound)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// finish stops the writer and returns every write it made.
func (w *writer) finish() []Write {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes
}
