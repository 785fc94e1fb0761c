package roles

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/roles/assign"
	"zkctl/roles/protocol"
)

// workerDir is what a listing of /workers/<w> told.
type workerDir struct {
	tasks   []string
	version int32 // of /workers/<w>, for the guarded delete
	err     error
}

// resync rebuilds the view from ZooKeeper alone (sync, then read), as on a
// takeover, and finishes what a previous master left half done: the
// assignments of dead workers go back and their /workers/<w> goes; tasks
// whose data names a worker without an assignment are reset once the
// backlog is assigned (step calls resetStale), since an assignment sets
// that data anyway: a takeover reads no task before its first assignments.
func (m *master) resync(ctx context.Context) error {
	start := time.Now()
	if _, err := m.s.conn.Sync("/"); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if err := m.watchOwn(); err != nil {
		return err
	}
	// /workers is read before /workers_eph: a worker registering in between
	// is then live, never mistaken for a dead one, and addLive looks up its
	// directory again.
	dirs, err := m.listWorkerDirs()
	if err != nil {
		return err
	}
	if m.afterDirs != nil {
		m.afterDirs()
	}
	eph, _, wch, err := m.s.conn.ChildrenW(protocol.WorkersEphPath)
	if err != nil {
		return fmt.Errorf("list %s: %w", protocol.WorkersEphPath, err)
	}
	tasks, _, tch, err := m.s.conn.ChildrenW(protocol.TasksPath)
	if err != nil {
		return fmt.Errorf("list %s: %w", protocol.TasksPath, err)
	}
	m.view, m.tasksW, m.workersW, m.dirsW = assign.New(), tch, wch, nil
	m.tasksDirty, m.workersDirty = false, false
	for _, t := range sortTasks(tasks) {
		m.view.AddTask(t)
	}
	dead, err := m.addLive(eph, dirs)
	if err != nil {
		return err
	}
	m.staleCheck = true // after the first assignments: they overwrite the data they assign
	for _, w := range dead {
		if err := m.moveBack(ctx, w, dirs[w].tasks, dirs[w].version); err != nil {
			return err
		}
	}
	m.log.Info("resynced", "tasks", m.view.Len(), "pending", m.view.Pending(), "workers", len(eph),
		"dead_workers", len(dead), "took_ms", time.Since(start).Milliseconds())
	return nil
}

// watchOwn watches the master's own election node: if it vanishes under a
// live session (deleted by hand), the master steps down without waiting for
// its next write to be fenced.
func (m *master) watchOwn() error {
	ok, stat, ch, err := m.s.conn.ExistsW(m.lead.node)
	switch {
	case err != nil:
		return fmt.Errorf("watch %s: %w", m.lead.node, err)
	case !ok || stat.Version != m.lead.version:
		return fmt.Errorf("%s: %w", m.lead.node, errNodeLost)
	}
	m.ownW = ch
	return nil
}

// listWorkerDirs lists /workers and, concurrently, each worker's assignments.
func (m *master) listWorkerDirs() (map[string]workerDir, error) {
	workers, _, err := m.s.conn.Children(protocol.WorkersPath)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", protocol.WorkersPath, err)
	}
	list := make([]workerDir, len(workers))
	parallel(len(workers), inFlight, func(i int) {
		var stat *zk.Stat
		list[i].tasks, stat, list[i].err = m.s.conn.Children(protocol.Worker(workers[i]))
		if stat != nil {
			list[i].version = stat.Version
		}
	})
	dirs := make(map[string]workerDir, len(workers))
	for i, w := range workers {
		switch err := list[i].err; {
		case errors.Is(err, zk.ErrNoNode): // removed meanwhile
		case err != nil:
			return nil, fmt.Errorf("list %s: %w", protocol.Worker(w), err)
		default:
			dirs[w] = list[i]
		}
	}
	return dirs, nil
}

// addLive puts the live workers and their assignments into the view and
// returns the dead workers that still have a /workers/<w>, sorted. A live
// worker missing from dirs registered after /workers was listed: addWorker
// looks it up again.
func (m *master) addLive(eph []string, dirs map[string]workerDir) (dead []string, err error) {
	live := make(map[string]bool, len(eph))
	for _, w := range slices.Sorted(slices.Values(eph)) {
		live[w] = true
		dir, ok := dirs[w]
		if !ok {
			if err := m.addWorker(w); err != nil {
				return nil, err
			}
			continue
		}
		if err := m.join(w, dir.tasks); err != nil {
			return nil, err
		}
	}
	for _, w := range slices.Sorted(maps.Keys(dirs)) {
		if !live[w] {
			dead = append(dead, w)
		}
	}
	return dead, nil
}

// resetStale reads the data of the tasks still unassigned and sets it back
// to "" where it names a worker (an assignment that a previous master or a
// foreign client left out of step).
func (m *master) resetStale() error {
	var pending []string
	for t := range m.view.Tasks() {
		if w, _ := m.view.AssignedTo(t); w == "" {
			pending = append(pending, t)
		}
	}
	type read struct {
		data    []byte
		version int32
		err     error
	}
	reads := make([]read, len(pending))
	parallel(len(pending), inFlight, func(i int) {
		var stat *zk.Stat
		reads[i].data, stat, reads[i].err = m.s.conn.Get(protocol.Task(pending[i]))
		if stat != nil {
			reads[i].version = stat.Version
		}
	})
	for i, t := range pending {
		r := reads[i]
		switch {
		case errors.Is(r.err, zk.ErrNoNode) || r.err == nil && len(r.data) == 0:
			continue
		case r.err != nil:
			return fmt.Errorf("read %s: %w", protocol.Task(t), r.err)
		}
		out, err := m.write("reset-task", &zk.SetDataRequest{Path: protocol.Task(t), Data: []byte{}, Version: r.version})
		switch {
		case err == nil:
			m.logWrite(out, "", "reset stale task data", "task", t, "was", string(r.data))
		case errors.Is(err, errFenced) || IsConnErr(err):
			return err
		default:
			m.log.Warn("reset stale task data failed", "task", t, "err", err)
		}
	}
	return nil
}

// moveBack returns the assignments of dead worker w to the pool, each with
// multi{check, delete /workers/w/t, set /tasks/t ""}, then removes the worker
// with multi{check, delete /workers/w} guarded by the version it listed, so
// that a worker registering again under the same id keeps its znode.
func (m *master) moveBack(ctx context.Context, w string, tasks []string, version int32) error {
	outs := make([]wrote, len(tasks))
	errs := make([]error, len(tasks))
	parallel(len(tasks), inFlight, func(i int) {
		outs[i], errs[i] = m.write("move-back",
			&zk.DeleteRequest{Path: protocol.Assignment(w, tasks[i]), Version: -1},
			&zk.SetDataRequest{Path: protocol.Task(tasks[i]), Data: []byte{}, Version: -1})
	})
	moved := 0
	for i, t := range tasks {
		switch err := errs[i]; {
		case err == nil:
			moved++
			if !m.view.AddTask(t) {
				m.view.Unassign(t)
			}
			m.logWrite(outs[i], protocol.EventMovedBack, fmt.Sprintf("moved task %s back from worker %s", t, w), "task", t, "worker", w)
		case outs[i].failed == 0 && errors.Is(err, zk.ErrNoNode):
			// the assignment went meanwhile: the task finished
		case outs[i].failed == 1 && errors.Is(err, zk.ErrNoNode):
			if err := m.deleteOrphan(w, t); err != nil {
				return err
			}
		default:
			return err
		}
	}
	return m.removeWorker(w, moved, version)
}

// deleteOrphan removes an assignment whose task no longer exists.
func (m *master) deleteOrphan(w, t string) error {
	out, err := m.write("delete-orphan", &zk.DeleteRequest{Path: protocol.Assignment(w, t), Version: -1})
	switch {
	case err == nil:
		m.view.RemoveTask(t)
		m.logWrite(out, "", "removed orphan assignment", "task", t, "worker", w)
		return nil
	case errors.Is(err, zk.ErrNoNode):
		return nil
	}
	return err
}

// removeWorker deletes /workers/<w> once its assignments are back.
func (m *master) removeWorker(w string, moved int, version int32) error {
	msg := fmt.Sprintf("worker %s gone: reassigned %d tasks", w, moved)
	out, err := m.write("delete-worker", &zk.DeleteRequest{Path: protocol.Worker(w), Version: version})
	switch {
	case err == nil:
		m.logWrite(out, protocol.EventWorkerGone, msg, "worker", w, "tasks", moved)
	case errors.Is(err, errFenced) || IsConnErr(err):
		return err
	default: // registered again, or given a task meanwhile: look again
		m.log.Info(msg, protocol.EventAttr, protocol.EventWorkerGone, "worker", w, "tasks", moved, "kept", protocol.Worker(w), "err", err)
		m.workersDirty = true
	}
	return nil
}
