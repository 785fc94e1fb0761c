// Package assign is the master's in-memory view of tasks and workers and its
// choice of who runs what: the oldest unassigned task goes to the live worker
// with the most free slots for its capacity (the tasks it runs at once,
// DESIGN.md "More of the protocol"): the one with the fewest assigned tasks
// per slot once it gets this one, so that a worker of capacity 4 gets four
// times the tasks of a worker of capacity 1. Ties are broken by who was
// given work least recently (round robin), so work spreads. It does no I/O: the master feeds
// it what it reads from ZooKeeper and writes what Next decides.
//
// Every operation costs O(1) or O(log W) for W workers, except RemoveWorker,
// which is linear in the worker's own tasks.
package assign

import (
	"container/heap"
	"container/list"
	"iter"
	"slices"
)

// View is a set of tasks, each unassigned or assigned to one worker, and a
// set of live workers. The zero value is not ready: use New.
type View struct {
	tasks   map[string]*task
	pending list.List // of *task, oldest first
	workers map[string]*worker
	byLoad  workerHeap
	clock   uint64
}

type task struct {
	name   string
	worker *worker       // nil while pending
	elem   *list.Element // in pending, nil while assigned
}

type worker struct {
	name     string
	capacity int // at least 1
	tasks    map[string]*task
	stamp    uint64 // when it last got work (or joined)
	index    int    // in byLoad
}

// New returns an empty view.
func New() *View {
	return &View{tasks: make(map[string]*task), workers: make(map[string]*worker)}
}

// AddWorker adds a live worker of capacity 1 with no tasks; false if it
// was known.
func (v *View) AddWorker(name string) bool {
	if _, ok := v.workers[name]; ok {
		return false
	}
	v.clock++
	w := &worker{name: name, capacity: 1, tasks: make(map[string]*task), stamp: v.clock}
	v.workers[name] = w
	heap.Push(&v.byLoad, w)
	return true
}

// RemoveWorker forgets a worker and puts its tasks back in front of the
// unassigned ones; it returns those tasks, sorted.
func (v *View) RemoveWorker(name string) []string {
	w, ok := v.workers[name]
	if !ok {
		return nil
	}
	heap.Remove(&v.byLoad, w.index)
	delete(v.workers, name)
	names := make([]string, 0, len(w.tasks))
	for n := range w.tasks {
		names = append(names, n)
	}
	slices.Sort(names)
	for i := len(names) - 1; i >= 0; i-- {
		t := w.tasks[names[i]]
		t.worker = nil
		t.elem = v.pending.PushFront(t)
	}
	return names
}

// HasWorker tells whether the worker is known.
func (v *View) HasWorker(name string) bool {
	_, ok := v.workers[name]
	return ok
}

// SetCapacity sets how many tasks a known worker runs at once (below 1
// counts as 1); false if the worker is unknown.
func (v *View) SetCapacity(name string, capacity int) bool {
	w, ok := v.workers[name]
	if !ok {
		return false
	}
	w.capacity = max(capacity, 1)
	heap.Fix(&v.byLoad, w.index)
	return true
}

// Capacity is how many tasks the worker runs at once (0 if unknown).
func (v *View) Capacity(name string) int {
	if w, ok := v.workers[name]; ok {
		return w.capacity
	}
	return 0
}

// Load is the number of tasks assigned to the worker.
func (v *View) Load(name string) int {
	if w, ok := v.workers[name]; ok {
		return len(w.tasks)
	}
	return 0
}

// Workers iterates over the known workers, in no particular order.
func (v *View) Workers() iter.Seq[string] {
	return func(yield func(string) bool) {
		for n := range v.workers {
			if !yield(n) {
				return
			}
		}
	}
}

// AddTask adds an unassigned task behind the others; false if it was known.
func (v *View) AddTask(name string) bool {
	if _, ok := v.tasks[name]; ok {
		return false
	}
	t := &task{name: name}
	t.elem = v.pending.PushBack(t)
	v.tasks[name] = t
	return true
}

// AddAssigned records a task as assigned to a known worker (a takeover
// reading ZooKeeper). A task already known is moved to that worker. False
// if the worker is unknown.
func (v *View) AddAssigned(name, workerName string) bool {
	w, ok := v.workers[workerName]
	if !ok {
		return false
	}
	t, ok := v.tasks[name]
	if !ok {
		t = &task{name: name}
		v.tasks[name] = t
	}
	v.detach(t)
	v.attach(t, w)
	return true
}

// RemoveTask forgets a task (it finished); false if it was unknown.
func (v *View) RemoveTask(name string) bool {
	t, ok := v.tasks[name]
	if !ok {
		return false
	}
	v.detach(t)
	delete(v.tasks, name)
	return true
}

// Unassign puts an assigned task back in front of the unassigned ones (an
// assignment that did not happen after all); false if it was not assigned.
func (v *View) Unassign(name string) bool {
	t, ok := v.tasks[name]
	if !ok || t.worker == nil {
		return false
	}
	v.detach(t)
	t.elem = v.pending.PushFront(t)
	return true
}

// HasTask tells whether the task is known.
func (v *View) HasTask(name string) bool {
	_, ok := v.tasks[name]
	return ok
}

// AssignedTo names the worker a task is assigned to ("" when pending).
func (v *View) AssignedTo(name string) (workerName string, known bool) {
	t, ok := v.tasks[name]
	if !ok {
		return "", false
	}
	if t.worker == nil {
		return "", true
	}
	return t.worker.name, true
}

// Tasks iterates over the known tasks; RemoveTask may be called meanwhile.
func (v *View) Tasks() iter.Seq[string] {
	return func(yield func(string) bool) {
		for n := range v.tasks {
			if !yield(n) {
				return
			}
		}
	}
}

// Len is the number of known tasks; Pending the number of unassigned ones.
func (v *View) Len() int { return len(v.tasks) }

// Pending is the number of unassigned tasks.
func (v *View) Pending() int { return v.pending.Len() }

// Next picks the oldest unassigned task and the worker with the most free
// slots (see the package comment) and
// records the assignment; ok is false when no task is pending or no worker
// is live.
func (v *View) Next() (taskName, workerName string, ok bool) {
	front := v.pending.Front()
	if front == nil || len(v.byLoad) == 0 {
		return "", "", false
	}
	t := front.Value.(*task)
	w := v.byLoad[0]
	v.detach(t)
	v.attach(t, w)
	return t.name, w.name, true
}

// attach assigns a detached task to w and marks w as the latest to get work.
func (v *View) attach(t *task, w *worker) {
	t.worker = w
	w.tasks[t.name] = t
	v.clock++
	w.stamp = v.clock
	heap.Fix(&v.byLoad, w.index)
}

// detach takes a task off its worker or the pending list.
func (v *View) detach(t *task) {
	if t.elem != nil {
		v.pending.Remove(t.elem)
		t.elem = nil
	}
	if w := t.worker; w != nil {
		delete(w.tasks, t.name)
		t.worker = nil
		if w.index >= 0 {
			heap.Fix(&v.byLoad, w.index)
		}
	}
}

// workerHeap orders workers by their load per slot with one more task,
// (load+1)/capacity, then by who got work least recently.
type workerHeap []*worker

func (h workerHeap) Len() int { return len(h) }
func (h workerHeap) Less(i, j int) bool {
	// (li+1)/ci < (lj+1)/cj without division; both capacities are at most
	// protocol.MaxCapacity, so the products cannot overflow.
	li := (len(h[i].tasks) + 1) * h[j].capacity
	lj := (len(h[j].tasks) + 1) * h[i].capacity
	if li != lj {
		return li < lj
	}
	return h[i].stamp < h[j].stamp
}
func (h workerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *workerHeap) Push(x any) {
	w := x.(*worker)
	w.index = len(*h)
	*h = append(*h, w)
}
func (h *workerHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	w.index = -1
	return w
}
