package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/deploy"
	"zkctl/deploy/transport"
	"zkctl/node"
	"zkctl/roles/protocol"
)

// procs are the role processes the bench started through the controller;
// stopAll ends those still alive.
type procs struct {
	c  *deploy.Cluster
	mu sync.Mutex
	m  map[int]proc // by pid
}

type proc struct {
	host string
	node.Proc
}

func newProcs(c *deploy.Cluster) *procs { return &procs{c: c, m: map[int]proc{}} }

// start starts one instance of role on host.
func (ps *procs) start(ctx context.Context, role, host string) (proc, error) {
	started, err := ps.c.StartRole(ctx, role, host, deploy.StartOptions{Count: 1})
	if err != nil {
		return proc{}, err
	}
	if len(started) != 1 {
		return proc{}, fmt.Errorf("%s: start %s: %d processes started, want 1", host, role, len(started))
	}
	p := proc{host: host, Proc: started[0]}
	ps.mu.Lock()
	ps.m[p.PID] = p
	ps.mu.Unlock()
	return p, nil
}

// byPID finds a process the bench started.
func (ps *procs) byPID(pid int) (proc, bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p, ok := ps.m[pid]
	return p, ok
}

// signal sends sig to p and forgets it.
func (ps *procs) signal(ctx context.Context, p proc, sig syscall.Signal) error {
	ps.mu.Lock()
	delete(ps.m, p.PID)
	ps.mu.Unlock()
	_, err := ps.c.KillRole(ctx, p.Role, p.host, sig, p.ID)
	return err
}

// stopAll sends TERM to every process still known, in parallel.
func (ps *procs) stopAll(ctx context.Context) {
	ps.mu.Lock()
	list := make([]proc, 0, len(ps.m))
	for _, p := range ps.m {
		list = append(list, p)
	}
	ps.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range list {
		wg.Add(1)
		go func() { defer wg.Done(); _ = ps.signal(ctx, p, syscall.SIGTERM) }()
	}
	wg.Wait()
}

// procStatus reads /proc/PID/status of a process on host over its
// transport and returns the fields in kB (VmHWM, VmRSS, …).
func procStatus(ctx context.Context, c *deploy.Cluster, host string, pid int) (map[string]int64, error) {
	hs, err := c.Hosts(host)
	if err != nil {
		return nil, err
	}
	t, err := c.Transport(ctx, hs[0])
	if err != nil {
		return nil, err
	}
	out, err := transport.Output(ctx, t, fmt.Sprintf("cat /proc/%d/status", pid))
	if err != nil {
		return nil, fmt.Errorf("%s: cat /proc/%d/status: %w", host, pid, err)
	}
	return parseProcStatus(string(out)), nil
}

// parseProcStatus reads the "Key:   123 kB" lines of /proc/PID/status.
func parseProcStatus(s string) map[string]int64 {
	m := map[string]int64{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 2 && f[1] == "kB" {
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				m[k] = n
			}
		}
	}
	return m
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
