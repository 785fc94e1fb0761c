package roles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/retry"
	"zkctl/roles/assign"
	"zkctl/roles/protocol"
)

// errFenced marks a master write whose check of the master's own election
// node failed: another master may lead, so this one steps down.
var errFenced = errors.New("fenced")

// RunMaster runs a master candidate until ctx ends; then it closes its
// session, so that a backup takes over at once, and returns nil. It returns
// an error only for a bad cfg.
//
// The candidate joins the election under /election; when it leads, it
// writes /master, rebuilds its view from ZooKeeper, finishes what a previous
// master left half done, and assigns tasks to the live workers with the
// most free slots for their capacity ({"capacity": C} in /workers_eph/<w>,
// 1 when absent).
// Every write is a multi that first checks the version of its own election
// node, so a master whose session expired (SIGSTOP, pause, partition) writes
// nothing: it steps down and joins the election again with a new session.
// While disconnected it pauses; after a reconnect it reads everything again.
//
// Log messages (attributes role, id, host; all but the last, session="0x…").
// A line a judge relies on carries event=<name> (the constants of
// roles/protocol); readers classify by it, never by the message:
//
//	INFO joined election                        event=joined, node, seq
//	INFO elected master <id>                    event=elected, node, seq, since_vanished_ms, write=create-master, sent
//	INFO worker <w> joined                      worker, tasks, capacity
//	INFO resynced                               tasks, pending, workers, dead_workers, took_ms
//	INFO assigned task <t> to worker <w>        event=assigned, task, worker, write=assign, sent
//	INFO moved task <t> back from worker <w>    event=moved-back, task, worker, write=move-back, sent
//	INFO worker <w> gone: reassigned <n> tasks  event=worker-gone, worker, tasks, write=delete-worker, sent
//	                                            (or kept, err: /workers/<w> stayed)
//	INFO reset stale task data                  task, was, write=reset-task, sent
//	INFO removed orphan assignment              task, worker, write=delete-orphan, sent
//	WARN fenced write                           event=fenced-write, op, err
//	WARN disconnected: pausing assignments
//	INFO reconnected: resyncing
//	WARN fenced: session expired, stepping down        event=step-down, fenced=true, writes_ok, writes_fenced
//	WARN fenced: election node lost, stepping down     event=step-down, fenced=true, writes_ok, writes_fenced, err
//	INFO stepping down: shutting down                  event=step-down
//	WARN session expired, joining the election again   event=step-down, err
//	INFO master stopped                         event=stopped, writes_ok, writes_fenced
//
// Every successful master write logs one INFO line per task it touched
// (one line for a write that touches none) with the attributes write (what
// it did) and sent (when the multi was sent): a write sent after the
// session expired can never succeed. Assignments to one worker share a
// multi behind one check of the election node. writes_ok and writes_fenced
// count the process's multis so far.
//
// since_vanished_ms is the time from when this candidate saw its
// predecessor's election node vanish (the watch event, or the node found
// missing) until /master was written; -1 when it saw none vanish (it led
// from the start).
func RunMaster(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults("master")
	if err != nil {
		return err
	}
	r := &masterRunner{cfg: cfg, log: cfg.logger("master", cfg.ID)}
	for ctx.Err() == nil {
		leading, sid, err := r.epoch(ctx)
		if ctx.Err() != nil {
			break
		}
		r.stepDown(ctx, leading, sid, err)
	}
	r.log.Info("master stopped", protocol.EventAttr, protocol.EventStopped, "writes_ok", r.ok.Load(), "writes_fenced", r.fenced.Load())
	return nil
}

// masterRunner is a master process across its sessions.
type masterRunner struct {
	cfg     Config
	log     *slog.Logger
	ok      atomic.Int64 // successful master writes
	fenced  atomic.Int64 // master writes refused by the fence
	ignored onceSet
}

// epoch runs one session: candidate, then master until the session or the
// leadership is lost. leading tells whether it got to lead, sid is the
// session's id (0 if none was established).
func (r *masterRunner) epoch(ctx context.Context) (leading bool, sid int64, err error) {
	s, err := dial(ctx, r.cfg, r.log)
	if err != nil {
		return false, 0, err
	}
	defer s.close()
	log := r.log.With("session", sessionHex(s.id))
	if err := s.retry(ctx, func() error { return EnsureBase(s.conn, s.acl) }); err != nil {
		return false, s.id, err
	}
	c := &candidate{s: s, name: r.cfg.ID, log: log, ignored: &r.ignored}
	lead, err := c.campaign(ctx, masterInfo(r.cfg))
	if err != nil {
		return false, s.id, err
	}
	m := &master{r: r, s: s, log: log, lead: lead}
	err = m.run(ctx)
	if ctx.Err() != nil {
		log.Info("stepping down: shutting down", protocol.EventAttr, protocol.EventStepDown) // before the session closes
	}
	return true, s.id, err
}

// stepDown reports why an epoch ended and pauses before the next one when
// the cause was unexpected.
func (r *masterRunner) stepDown(ctx context.Context, leading bool, sid int64, err error) {
	counts := []any{"session", sessionHex(sid), "writes_ok", r.ok.Load(), "writes_fenced", r.fenced.Load()}
	stepDown := []any{protocol.EventAttr, protocol.EventStepDown}
	lost := errors.Is(err, errSessionLost)
	switch {
	case leading && (lost || errors.Is(err, errFenced) && errors.Is(err, zk.ErrSessionExpired)):
		r.log.Warn("fenced: session expired, stepping down", append(append(stepDown, "fenced", true), counts...)...)
	case leading && (errors.Is(err, errFenced) || errors.Is(err, errNodeLost)):
		r.log.Warn("fenced: election node lost, stepping down", append(append(stepDown, "fenced", true), append(counts, "err", err)...)...)
	case leading:
		r.log.Error("stepping down", append(append(stepDown, counts...), "err", err)...)
	case lost || errors.Is(err, errNodeLost):
		r.log.Warn("session expired, joining the election again", protocol.EventAttr, protocol.EventStepDown, "session", sessionHex(sid), "err", err)
	default:
		r.log.Error("master candidate failed; retrying", "session", sessionHex(sid), "err", err)
	}
	if !lost && !errors.Is(err, errFenced) {
		_ = retry.Sleep(ctx, time.Second)
	}
}

// master is the leader for one session. Only its loop goroutine touches
// its fields (writes run concurrently but report back to the loop).
type master struct {
	r    *masterRunner
	s    *session
	log  *slog.Logger
	lead leadership
	view *assign.View

	tasksW, workersW, ownW   <-chan zk.Event
	dirsW                    <-chan zk.Event // armed while a live worker has no /workers/<w>
	tasksDirty, workersDirty bool
	needResync               bool
	staleCheck               bool // resetStale is due once the backlog is assigned
	synced                   int  // session reconnect count at the last resync

	afterDirs func() // test hook: runs in resync between listing /workers and /workers_eph
}

// run claims /master, then reacts to watches until leadership ends.
func (m *master) run(ctx context.Context) error {
	w, err := m.claim(ctx)
	if err != nil {
		return err
	}
	sinceVanished := -1.0
	if !m.lead.vanished.IsZero() {
		sinceVanished = float64(time.Since(m.lead.vanished).Microseconds()) / 1000
	}
	m.logWrite(w, protocol.EventElected, "elected master "+m.r.cfg.ID, "node", m.lead.node, "seq", m.lead.seq,
		"since_vanished_ms", sinceVanished)
	m.needResync = true
	return m.loop(ctx)
}

// claim writes /master, waiting for a /master of another session to vanish.
func (m *master) claim(ctx context.Context) (wrote, error) {
	data := masterInfo(m.r.cfg).Marshal()
	for {
		w, err := m.write("create-master", &zk.CreateRequest{
			Path: protocol.MasterPath, Data: data, Acl: m.s.acl, Flags: zk.FlagEphemeral})
		switch {
		case err == nil:
			return w, nil
		case errors.Is(err, zk.ErrNodeExists):
			if done, err := m.waitMaster(ctx); done || err != nil {
				return w, err
			}
		case IsConnErr(err) && !errors.Is(err, errFenced):
			if err := m.s.await(ctx); err != nil {
				return w, err
			}
		default:
			return w, err
		}
	}
}

// waitMaster handles an existing /master: done if it is this session's own
// (an earlier try went through), else it waits until it vanishes.
func (m *master) waitMaster(ctx context.Context) (done bool, err error) {
	exists, stat, ch, err := m.s.conn.ExistsW(protocol.MasterPath)
	switch {
	case IsConnErr(err):
		return false, m.s.await(ctx)
	case err != nil:
		return false, fmt.Errorf("watch %s: %w", protocol.MasterPath, err)
	case !exists:
		return false, nil
	case stat.EphemeralOwner == m.s.id:
		return true, nil
	}
	m.log.Warn("waiting for /master of another session to vanish", "owner", sessionHex(stat.EphemeralOwner))
	for {
		st := m.s.state()
		if st.lost {
			return false, errSessionLost
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-ch:
			return false, nil
		case <-st.wake:
		}
	}
}

// wrote is the outcome of a master write.
type wrote struct {
	op     string    // what the write does: assign, move-back, …
	sent   time.Time // when the multi was sent
	failed int       // on failure, the index in ops of the op that failed (-1: none named)
}

// write runs ops as one multi behind the check of the master's own election
// node (the fence). A failed check is errFenced.
func (m *master) write(op string, ops ...any) (wrote, error) {
	out := m.writeBatch(op, [][]any{ops})[0]
	return out.wrote, out.err
}

// batchWrote is the outcome of one request of writeBatch.
type batchWrote struct {
	wrote
	err error
}

// writeBatch runs the requests (each a list of ops) as one multi behind
// the check of the master's own election node: one fence for all of them.
// When one request fails, the others are sent again without it (see
// sendSplit), so each outcome is the one the request would have had alone.
// A failed check is errFenced for every request.
func (m *master) writeBatch(op string, reqs [][]any) []batchWrote {
	fence := []any{&zk.CheckVersionRequest{Path: m.lead.node, Version: m.lead.version}}
	outs := make([]batchWrote, len(reqs))
	var fenced error
	landed := false
	for i, o := range sendSplit(m.s.conn, fence, reqs) {
		w := wrote{op: op, sent: o.sent, failed: o.failed}
		var err error
		switch {
		case o.err == nil:
			landed = true
		case o.prefix || errors.Is(o.err, zk.ErrSessionExpired):
			if fenced == nil {
				fenced = m.fence(op, o.err)
			}
			err = fenced
		case o.failed >= 0:
			err = fmt.Errorf("%s: %s: %w", op, OpString(reqs[i][o.failed]), o.err)
		default:
			err = fmt.Errorf("%s: %w", op, o.err)
		}
		outs[i] = batchWrote{w, err}
	}
	if landed {
		m.r.ok.Add(1)
	}
	return outs
}

// logWrite logs a successful write: exactly one INFO line per write, with
// the attributes write (the op) and sent (when the multi was sent).
func (m *master) logWrite(w wrote, ev protocol.Event, msg string, args ...any) {
	if ev != "" {
		args = append(args, protocol.EventAttr, ev)
	}
	m.log.Info(msg, append(args, "write", w.op, "sent", w.sent)...)
}

// fence counts and logs a write refused by the fence.
func (m *master) fence(op string, err error) error {
	m.r.fenced.Add(1)
	m.log.Warn("fenced write", protocol.EventAttr, protocol.EventFenced, "op", op, "err", err)
	return fmt.Errorf("%s: %w: %w", op, errFenced, err)
}

// OpString names a multi op and its znode ("create /tasks/t"), for error
// messages.
func OpString(op any) string {
	switch o := op.(type) {
	case *zk.CreateRequest:
		return "create " + o.Path
	case *zk.DeleteRequest:
		return "delete " + o.Path
	case *zk.SetDataRequest:
		return "set " + o.Path
	case *zk.CheckVersionRequest:
		return "check " + o.Path
	}
	return "?"
}
