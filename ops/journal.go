package ops

import (
	"context"
	"sync"
	"syscall"

	"zkctl/deploy"
	"zkctl/internal/fanout"
	"zkctl/node"
)

// Started is a process that an operation of a Journal started.
type Started struct {
	Host string
	node.Proc
}

// Journal runs operations on a cluster and keeps their records and the
// role processes they started and have not ended, so that whoever ran
// them (a scenario, the bench) can stop what is left. It is safe for
// concurrent use.
type Journal struct {
	c       *deploy.Cluster
	mu      sync.Mutex
	records []Record
	live    []Started
}

// NewJournal returns an empty journal over c.
func NewJournal(c *deploy.Cluster) *Journal { return &Journal{c: c} }

// Do runs op and notes its record: the processes a Start started are live
// until a KILL or TERM of them, or a crash of their host.
func (j *Journal) Do(ctx context.Context, op Op) (Record, error) {
	rec, err := op.Run(ctx, j.c)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.records = append(j.records, rec)
	switch {
	case rec.Kind == KindStart:
		for _, p := range rec.Procs {
			j.live = append(j.live, Started{Host: rec.Host, Proc: p})
		}
	case rec.Kind == KindSignal && (rec.Signal == "SIGKILL" || rec.Signal == "SIGTERM"), rec.Kind == KindCrash:
		for _, p := range rec.Procs {
			j.forget(rec.Host, p.PID)
		}
	}
	return rec, err
}

// forget drops the live process pid on host; j.mu is held.
func (j *Journal) forget(host string, pid int) {
	for i, s := range j.live {
		if s.Host == host && s.PID == pid {
			j.live = append(j.live[:i], j.live[i+1:]...)
			return
		}
	}
}

// Records returns the records so far, in the order the operations ended.
func (j *Journal) Records() []Record {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Record(nil), j.records...)
}

// Live returns the started processes not known to have ended.
func (j *Journal) Live() []Started {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Started(nil), j.live...)
}

// ByPID finds a live process by its pid (pids of several hosts may clash:
// the first is returned).
func (j *Journal) ByPID(pid int) (Started, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, s := range j.live {
		if s.PID == pid {
			return s, true
		}
	}
	return Started{}, false
}

// StopAll sends TERM to every live process, in parallel, and waits.
func (j *Journal) StopAll(ctx context.Context) {
	fanout.Each(j.Live(), func(_ int, s Started) error {
		_, err := j.Do(ctx, Signal{Role: s.Role, Host: s.Host, ID: s.ID, Signal: syscall.SIGTERM})
		return err
	})
}
