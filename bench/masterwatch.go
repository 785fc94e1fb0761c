package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/ops"
	"zkctl/roles/protocol"
)

// startOne starts one instance of role on host through the journal.
func startOne(ctx context.Context, j *ops.Journal, role, host string) (ops.Started, error) {
	rec, err := j.Do(ctx, ops.Start{Role: role, Host: host, Count: 1})
	if err != nil {
		return ops.Started{}, err
	}
	if len(rec.Procs) != 1 {
		return ops.Started{}, fmt.Errorf("%s: start %s: %d processes started, want 1", host, role, len(rec.Procs))
	}
	return ops.Started{Host: host, Proc: rec.Procs[0]}, nil
}

// signalOne sends sig to p through the journal.
func signalOne(ctx context.Context, j *ops.Journal, p ops.Started, sig syscall.Signal) error {
	_, err := j.Do(ctx, ops.Signal{Role: p.Role, Host: p.Host, ID: p.ID, Signal: sig})
	return err
}

// masterObs is one observation of /master: its content (nil when absent)
// and when the change was seen.
type masterObs struct {
	at   time.Time
	info *protocol.MasterInfo
}

// masterWatch records every change of /master that a watch reports.
type masterWatch struct {
	mu   sync.Mutex
	obs  []masterObs
	err  error
	wake chan struct{}
}

// watchMaster follows /master with watches until ctx ends.
func watchMaster(ctx context.Context, conn *zk.Conn) *masterWatch {
	w := &masterWatch{wake: make(chan struct{})}
	go w.run(ctx, conn)
	return w
}

func (w *masterWatch) run(ctx context.Context, conn *zk.Conn) {
	seen := time.Now()
	for ctx.Err() == nil {
		data, _, ch, err := conn.GetW(protocol.MasterPath)
		var info *protocol.MasterInfo
		switch {
		case errors.Is(err, zk.ErrNoNode):
			var exists bool
			exists, _, ch, err = conn.ExistsW(protocol.MasterPath)
			if err == nil && exists {
				continue // created meanwhile: read it
			}
		case err == nil:
			if m, perr := protocol.ParseMasterInfo(data); perr == nil {
				info = &m
			}
		}
		if err != nil {
			w.add(masterObs{}, fmt.Errorf("watch %s: %w", protocol.MasterPath, err))
			return
		}
		w.add(masterObs{at: seen, info: info}, nil)
		select {
		case <-ctx.Done():
			return
		case <-ch:
			seen = time.Now()
		}
	}
}

func (w *masterWatch) add(o masterObs, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.err = err
	} else {
		w.obs = append(w.obs, o)
	}
	close(w.wake)
	w.wake = make(chan struct{})
}

// mark returns the number of observations so far.
func (w *masterWatch) mark() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.obs)
}

// current is the latest observation.
func (w *masterWatch) current() masterObs {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.obs) == 0 {
		return masterObs{}
	}
	return w.obs[len(w.obs)-1]
}

// failed returns the error that ended the watch, if any.
func (w *masterWatch) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// waitFrom returns the first observation at index from or later that
// satisfies ok.
func (w *masterWatch) waitFrom(ctx context.Context, from int, timeout time.Duration, what string, ok func(masterObs) bool) (masterObs, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		w.mu.Lock()
		for i := from; i < len(w.obs); i++ {
			if ok(w.obs[i]) {
				o := w.obs[i]
				w.mu.Unlock()
				return o, nil
			}
		}
		from = len(w.obs)
		err, wake := w.err, w.wake
		w.mu.Unlock()
		if err != nil {
			return masterObs{}, err
		}
		select {
		case <-ctx.Done():
			return masterObs{}, ctx.Err()
		case <-timer.C:
			return masterObs{}, fmt.Errorf("wait for %s: not within %v", what, timeout)
		case <-wake:
		}
	}
}
