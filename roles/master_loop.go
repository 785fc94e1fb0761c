package roles

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/retry"
	"zkctl/roles/protocol"
)

// Assignments are chosen assignBatch per round and sent as concurrent
// multis, at most assignPerMulti to one worker in each and at most inFlight
// at a time.
const (
	assignBatch    = 1024
	assignPerMulti = 128
	inFlight       = 64
)

// loop is the master's single event loop. Watch events only set dirty
// flags, so a burst of them costs one listing; the work per round is that
// listing plus what changed.
func (m *master) loop(ctx context.Context) error {
	paused := false
	for {
		st := m.s.state()
		switch {
		case st.lost:
			return errSessionLost
		case ctx.Err() != nil:
			return ctx.Err()
		case !st.connected:
			if !paused {
				m.log.Warn("disconnected: pausing assignments")
				paused = true
			}
			m.wait(ctx, st)
			continue
		case paused:
			m.log.Info("reconnected: resyncing")
			paused = false
			m.needResync = true
		case st.reconnects != m.synced:
			m.needResync = true
		}
		busy, err := m.step(ctx, st)
		if err != nil {
			if errors.Is(err, errFenced) || errors.Is(err, errSessionLost) || errors.Is(err, errNodeLost) || ctx.Err() != nil {
				return err
			}
			m.needResync = true
			pause := 50 * time.Millisecond // until the disconnect event arrives
			if !IsConnErr(err) {
				m.log.Error("master round failed; resyncing", "err", err)
				pause = time.Second
			}
			_ = retry.Sleep(ctx, pause)
			continue
		}
		if !busy {
			m.wait(ctx, st)
		}
	}
}

// wait blocks until a watch fires, the session changes or ctx ends.
func (m *master) wait(ctx context.Context, st sessionState) {
	select {
	case <-ctx.Done():
	case <-st.wake:
	case <-m.tasksW:
		m.tasksW, m.tasksDirty = nil, true
	case <-m.workersW:
		m.workersW, m.workersDirty = nil, true
	case <-m.dirsW:
		m.dirsW, m.workersDirty = nil, true
	case <-m.ownW:
		m.ownW = nil
		m.needResync = true // re-arms the watch, or finds the node gone
	}
}

// step does one round: resync if needed, relist what is dirty, assign.
// busy means more assignments are ready right away.
func (m *master) step(ctx context.Context, st sessionState) (busy bool, err error) {
	if m.needResync {
		if err := m.resync(ctx); err != nil {
			return false, err
		}
		m.needResync, m.synced = false, st.reconnects
	}
	if m.tasksDirty {
		if err := m.refreshTasks(); err != nil {
			return false, err
		}
	}
	if m.workersDirty {
		if err := m.refreshWorkers(ctx); err != nil {
			return false, err
		}
	}
	busy, err = m.assign()
	if err == nil && !busy && m.staleCheck {
		m.staleCheck = false
		err = m.resetStale()
	}
	return busy, err
}

// refreshTasks lists /tasks (re-arming its watch) and applies the
// difference: new tasks are unassigned, vanished ones are done.
func (m *master) refreshTasks() error {
	m.tasksDirty = false
	kids, _, ch, err := m.s.conn.ChildrenW(protocol.TasksPath)
	if err != nil {
		return fmt.Errorf("list %s: %w", protocol.TasksPath, err)
	}
	m.tasksW = ch
	present := make(map[string]struct{}, len(kids))
	var added []string
	for _, t := range kids {
		present[t] = struct{}{}
		if !m.view.HasTask(t) {
			added = append(added, t)
		}
	}
	for t := range m.view.Tasks() {
		if _, ok := present[t]; !ok {
			m.view.RemoveTask(t)
		}
	}
	for _, t := range sortTasks(added) {
		m.view.AddTask(t)
	}
	return nil
}

// refreshWorkers lists /workers_eph (re-arming its watch): workers that
// appeared join, workers that vanished have their tasks moved back.
func (m *master) refreshWorkers(ctx context.Context) error {
	m.workersDirty = false
	kids, _, ch, err := m.s.conn.ChildrenW(protocol.WorkersEphPath)
	if err != nil {
		return fmt.Errorf("list %s: %w", protocol.WorkersEphPath, err)
	}
	m.workersW = ch
	live := make(map[string]bool, len(kids))
	for _, w := range kids {
		live[w] = true
	}
	var gone []string
	for w := range m.view.Workers() {
		if !live[w] {
			gone = append(gone, w)
		}
	}
	slices.Sort(gone)
	slices.Sort(kids)
	for _, w := range kids {
		if !m.view.HasWorker(w) {
			if err := m.addWorker(w); err != nil {
				return err
			}
		}
	}
	for _, w := range gone {
		if err := m.workerGone(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

// addWorker adds a live worker with the assignments it already has (one
// listing of /workers/<w>). A live worker without /workers/<w> is not
// dropped: it is reported once and looked at again whenever /workers
// changes (see lookAgain).
func (m *master) addWorker(w string) error {
	kids, err := m.workerTasks(w)
	if errors.Is(err, zk.ErrNoNode) {
		m.r.ignored.warn(m.log, "no-dir:"+w, "ignoring live worker without "+protocol.Worker(w), "worker", w)
		return nil
	}
	if err != nil {
		return err
	}
	return m.join(w, kids)
}

// join puts live worker w into the view with its capacity and the
// assignments it has.
func (m *master) join(w string, tasks []string) error {
	capacity, err := m.capacity(w)
	if err != nil {
		return err
	}
	m.view.AddWorker(w)
	m.view.SetCapacity(w, capacity)
	n := 0
	for _, t := range tasks {
		if !m.view.HasTask(t) {
			m.orphan(w, t)
			continue
		}
		m.view.AddAssigned(t, w)
		n++
	}
	m.log.Info(fmt.Sprintf("worker %s joined", w), "worker", w, "tasks", n, "capacity", capacity)
	return nil
}

// capacity reads what live worker w publishes in /workers_eph/<w>: 1 for
// nothing, or when it is gone meanwhile (its departure is seen next).
func (m *master) capacity(w string) (int, error) {
	data, _, err := m.s.conn.Get(protocol.WorkerAlive(w))
	switch {
	case errors.Is(err, zk.ErrNoNode):
		return 1, nil
	case err != nil:
		return 0, fmt.Errorf("read %s: %w", protocol.WorkerAlive(w), err)
	}
	return protocol.ParseCapacity(data), nil
}

// orphan reports an assignment whose task was not in the listing of
// /tasks, unless the assignment is gone too: a worker completes a task by
// deleting both in one multi, so a task completed between the two listings
// is no breach of the protocol.
func (m *master) orphan(w, t string) {
	if ok, _, err := m.s.conn.Exists(protocol.Assignment(w, t)); err == nil && !ok {
		return
	}
	m.r.ignored.warn(m.log, "orphan:"+w+"/"+t, "ignoring assignment of a task not in /tasks",
		"path", protocol.Assignment(w, t))
}

// workerTasks lists /workers/<w>. When it is missing, it arms a watch on
// /workers and, if /workers already lists w (created between the two
// reads), lists it once more: a live worker is never left out because its
// directory and its liveness znode were read at different times.
func (m *master) workerTasks(w string) ([]string, error) {
	for second := false; ; second = true {
		kids, _, err := m.s.conn.Children(protocol.Worker(w))
		if !errors.Is(err, zk.ErrNoNode) {
			if err != nil {
				return nil, fmt.Errorf("list %s: %w", protocol.Worker(w), err)
			}
			return kids, nil
		}
		dirs, err := m.lookAgain()
		if err != nil {
			return nil, err
		}
		if second || !slices.Contains(dirs, w) {
			return nil, zk.ErrNoNode
		}
	}
}

// lookAgain lists /workers with a watch, so that a change there (a missing
// directory created) makes the master list the live workers again.
func (m *master) lookAgain() ([]string, error) {
	dirs, _, ch, err := m.s.conn.ChildrenW(protocol.WorkersPath)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", protocol.WorkersPath, err)
	}
	m.dirsW = ch
	return dirs, nil
}

// workerGone moves the assignments of a vanished worker back and removes
// /workers/<w>.
func (m *master) workerGone(ctx context.Context, w string) error {
	m.view.RemoveWorker(w)
	kids, stat, err := m.s.conn.Children(protocol.Worker(w))
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", protocol.Worker(w), err)
	}
	return m.moveBack(ctx, w, kids, stat.Version)
}

// assign sends up to assignBatch assignments chosen by the view. The
// assignments to one worker share a multi behind one check, up to
// assignPerMulti of them: multi{check, create /workers/w/t1, set /tasks/t1
// = w, create /workers/w/t2, …}; the multis go concurrently.
func (m *master) assign() (busy bool, err error) {
	type job struct{ t, w string }
	var jobs []job
	for len(jobs) < assignBatch {
		t, w, ok := m.view.Next()
		if !ok {
			break
		}
		jobs = append(jobs, job{t: t, w: w})
	}
	type group struct {
		jobs []job
		outs []batchWrote
	}
	var groups []*group
	open := map[string]*group{} // the group of each worker still filling
	for _, j := range jobs {
		g := open[j.w]
		if g == nil || len(g.jobs) == assignPerMulti {
			g = &group{}
			open[j.w] = g
			groups = append(groups, g)
		}
		g.jobs = append(g.jobs, j)
	}
	parallel(len(groups), inFlight, func(i int) {
		g := groups[i]
		reqs := make([][]any, len(g.jobs))
		for k, j := range g.jobs {
			reqs[k] = []any{
				&zk.CreateRequest{Path: protocol.Assignment(j.w, j.t), Data: []byte{}, Acl: m.s.acl},
				&zk.SetDataRequest{Path: protocol.Task(j.t), Data: []byte(j.w), Version: -1}}
		}
		g.outs = m.writeBatch("assign", reqs)
	})
	for _, g := range groups {
		for k, j := range g.jobs {
			if e := m.assigned(j.t, j.w, g.outs[k].wrote, g.outs[k].err); e != nil && err == nil {
				err = e
			}
		}
	}
	return len(jobs) == assignBatch && err == nil, err
}

// assigned applies the outcome of one assignment to the view.
func (m *master) assigned(t, w string, out wrote, err error) error {
	op := out.failed
	switch {
	case err == nil:
		m.logWrite(out, protocol.EventAssigned, fmt.Sprintf("assigned task %s to worker %s", t, w), "task", t, "worker", w)
	case op == 0 && errors.Is(err, zk.ErrNodeExists):
		m.log.Debug("assignment already there", "task", t, "worker", w)
	case op == 0 && errors.Is(err, zk.ErrNoNode):
		// /workers/<w> is gone: the worker left or does not follow the protocol.
		m.view.Unassign(t)
		m.view.RemoveWorker(w)
		m.workersDirty = true
	case op == 1 && errors.Is(err, zk.ErrNoNode):
		m.view.RemoveTask(t) // finished or withdrawn meanwhile
	default:
		m.view.Unassign(t)
		return err
	}
	return nil
}

// sortTasks orders task names as submitted: "<client>-<n>" by client, then
// numerically by n; other names by themselves, among the client ids.
func sortTasks(names []string) []string {
	key := func(name string) (string, int) {
		if c, n, ok := protocol.ParseTaskName(name); ok {
			return c, n
		}
		return name, -1
	}
	slices.SortFunc(names, func(a, b string) int {
		ca, na := key(a)
		cb, nb := key(b)
		return cmp.Or(strings.Compare(ca, cb), cmp.Compare(na, nb))
	})
	return names
}
