package roles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/retry"
	"zkctl/roles/protocol"
)

// RunWorker runs a worker until ctx ends; then it stops taking tasks,
// abandons the ones it runs (no result), closes its session, so that the
// master returns its tasks to the pool at once, and returns nil. It returns
// an error only for a bad cfg.
//
// The worker registers /workers/<id> and /workers_eph/<id> (cfg.ID, random
// by default; the latter holds {"capacity": concurrency}), watches its
// assignments, and runs up to concurrency of them at a time (default 1): it
// reads /data/<t> (ahead, for the next queued tasks), sleeps that many
// seconds and completes with multi{create /results/t "ok <id>", delete
// /workers/<id>/t, delete /tasks/t}, results written at the same time in
// one multi. A payload that is not a number of seconds in [0, 3600]
// completes at once with "error: <why>". When its session expires, it
// registers again under a new id, "<id>.2", "<id>.3", …
//
// Log messages (attributes role, id, host; event=<name> as on RunMaster):
//
//	INFO registered                                    event=registered, workers, alive, capacity
//	INFO completed task <t>                            event=completed, task, result, took_ms
//	INFO dropped result of <t>: no longer assigned     event=dropped, task, err
//	WARN session expired, registering under a new id   next
//	INFO worker stopped                                event=stopped, abandoned
func RunWorker(ctx context.Context, cfg Config, concurrency int) error {
	cfg, err := cfg.withDefaults("worker")
	if err != nil {
		return err
	}
	concurrency = max(concurrency, 1)
	for n := 1; ; n++ {
		id := cfg.ID
		if n > 1 {
			id = fmt.Sprintf("%s.%d", cfg.ID, n)
		}
		log := cfg.logger("worker", id)
		abandoned, err := runWorkerSession(ctx, cfg, id, concurrency, log)
		if ctx.Err() != nil {
			log.Info("worker stopped", protocol.EventAttr, protocol.EventStopped, "abandoned", abandoned)
			return nil
		}
		if errors.Is(err, errSessionLost) {
			log.Warn("session expired, registering under a new id", "next", fmt.Sprintf("%s.%d", cfg.ID, n+1))
			continue
		}
		log.Error("worker failed; registering again under a new id", "err", err)
		_ = retry.Sleep(ctx, time.Second)
	}
}

// runWorkerSession runs one session of a worker under id.
func runWorkerSession(ctx context.Context, cfg Config, id string, concurrency int, log *slog.Logger) (abandoned int, err error) {
	s, err := dial(ctx, cfg, log)
	if err != nil {
		return 0, err
	}
	defer s.close()
	w := &worker{s: s, id: id, log: log, concurrency: concurrency,
		jobs: make(map[string]*job), done: make(chan string, concurrency)}
	return w.run(ctx)
}

// worker is one registration of a worker: one session, one id. Only its
// loop goroutine touches its fields; each task runs in its own goroutine.
type worker struct {
	s           *session
	id          string
	log         *slog.Logger
	concurrency int

	jobs       map[string]*job // assigned tasks still listed under /workers/<id>
	queue      []string        // assigned, not started
	running    int
	done       chan string    // a task's work ended: its slot is free
	completing sync.WaitGroup // task goroutines, until their result is written
	dirty      bool
	watch      <-chan zk.Event
	synced     int
}

// job is one assignment.
type job struct {
	started bool
	cancel  context.CancelFunc
	input   chan input // the read of /data/<t>, once prefetch started it
}

// input is the outcome of a read of /data/<t>.
type input struct {
	data []byte
	err  error
}

// prefetchAhead is how many queued tasks have their input read ahead: the
// reads go out together (pipelined on the session), so a short task starts
// without a round trip.
const prefetchAhead = 128

// prefetch starts the reads of the inputs of the first queued tasks.
func (w *worker) prefetch() {
	for _, t := range w.queue[:min(len(w.queue), prefetchAhead)] {
		j, ok := w.jobs[t]
		if !ok || j.started || j.input != nil {
			continue
		}
		j.input = make(chan input, 1)
		go func(ch chan<- input) {
			data, _, err := w.s.conn.Get(protocol.Data(t))
			ch <- input{data, err}
		}(j.input)
	}
}

// run registers and runs assignments until the session is lost or ctx ends.
func (w *worker) run(ctx context.Context) (abandoned int, err error) {
	if err := w.s.retry(ctx, func() error { return EnsureBase(w.s.conn, w.s.acl) }); err != nil {
		return 0, err
	}
	if err := w.register(ctx); err != nil {
		return 0, err
	}
	w.log.Info("registered", protocol.EventAttr, protocol.EventRegistered, "workers", protocol.Worker(w.id), "alive", protocol.WorkerAlive(w.id),
		"capacity", w.concurrency)
	defer func() { abandoned = w.stopAll() }()
	w.dirty = true
	for {
		st := w.s.state()
		switch {
		case st.lost:
			return 0, errSessionLost
		case ctx.Err() != nil:
			return 0, nil
		case st.connected && st.reconnects != w.synced:
			w.dirty, w.synced = true, st.reconnects
		}
		if w.dirty && st.connected {
			if err := w.relist(); err != nil && !IsConnErr(err) {
				return 0, err
			}
		}
		w.startJobs(ctx)
		select {
		case <-ctx.Done():
		case <-st.wake:
		case <-w.watch:
			w.watch, w.dirty = nil, true
		case t := <-w.done:
			w.running--
			if j := w.jobs[t]; j != nil {
				j.cancel()
			}
		}
	}
}

// register creates /workers/<id> and /workers_eph/<id> in one multi. If
// /workers/<id> exists (a predecessor with the same id), it sets it instead,
// which bumps its version so that a master removing the predecessor's znode
// fails and looks again.
func (w *worker) register(ctx context.Context) error {
	for {
		dir := &zk.CreateRequest{Path: protocol.Worker(w.id), Data: []byte{}, Acl: w.s.acl}
		if exists, err := w.exists(ctx, dir.Path); err != nil {
			return err
		} else if exists {
			_, err := w.s.conn.Multi(&zk.SetDataRequest{Path: dir.Path, Data: []byte{}, Version: -1}, w.aliveOp())
			if done, err := w.registered(ctx, err); done || err != nil {
				return err
			}
			continue
		}
		_, err := w.s.conn.Multi(dir, w.aliveOp())
		if done, err := w.registered(ctx, err); done || err != nil {
			return err
		}
	}
}

func (w *worker) aliveOp() *zk.CreateRequest {
	return &zk.CreateRequest{Path: protocol.WorkerAlive(w.id), Data: protocol.FormatCapacity(w.concurrency), Acl: w.s.acl, Flags: zk.FlagEphemeral}
}

// registered interprets a registration multi: done, or try again (after
// waiting for a live predecessor with the same id to vanish).
func (w *worker) registered(ctx context.Context, err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, zk.ErrNoNode):
		return false, nil // /workers/<id> went meanwhile
	case IsConnErr(err):
		return false, w.s.await(ctx)
	case !errors.Is(err, zk.ErrNodeExists):
		return false, fmt.Errorf("register %s: %w", protocol.Worker(w.id), err)
	}
	// /workers_eph/<id> exists, or /workers/<id> appeared meanwhile.
	exists, stat, ch, err := w.s.conn.ExistsW(protocol.WorkerAlive(w.id))
	switch {
	case IsConnErr(err):
		return false, w.s.await(ctx)
	case err != nil:
		return false, fmt.Errorf("check %s: %w", protocol.WorkerAlive(w.id), err)
	case !exists:
		return false, nil
	case stat.EphemeralOwner == w.s.id:
		return true, nil // an earlier try went through
	}
	w.log.Warn("worker id in use by another session; waiting", "owner", sessionHex(stat.EphemeralOwner))
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case <-ch:
		return false, nil
	}
}

// exists tells whether p exists, retrying over connection losses.
func (w *worker) exists(ctx context.Context, p string) (bool, error) {
	var ok bool
	err := w.s.retry(ctx, func() error {
		var err error
		ok, _, err = w.s.conn.Exists(p)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("check %s: %w", p, err)
	}
	return ok, nil
}

// relist lists the worker's assignments (re-arming the watch): new ones are
// queued, vanished ones are forgotten and, if running, cancelled.
func (w *worker) relist() error {
	w.dirty = false
	kids, _, ch, err := w.s.conn.ChildrenW(protocol.Worker(w.id))
	if errors.Is(err, zk.ErrNoNode) {
		return fmt.Errorf("%s vanished under a live worker: %w", protocol.Worker(w.id), errSessionLost)
	}
	if err != nil {
		w.dirty = true
		return fmt.Errorf("list %s: %w", protocol.Worker(w.id), err)
	}
	w.watch = ch
	listed := make(map[string]bool, len(kids))
	var added []string
	for _, t := range kids {
		listed[t] = true
		if _, ok := w.jobs[t]; !ok {
			added = append(added, t)
		}
	}
	for _, t := range sortTasks(added) { // only the new ones: a listing per batch of results stays linear
		w.jobs[t] = &job{cancel: func() {}}
		w.queue = append(w.queue, t)
	}
	for t, j := range w.jobs {
		if !listed[t] {
			j.cancel()
			delete(w.jobs, t)
		}
	}
	return nil
}

// startJobs starts queued assignments while fewer than concurrency run.
func (w *worker) startJobs(ctx context.Context) {
	for w.running < w.concurrency && len(w.queue) > 0 && ctx.Err() == nil {
		t := w.queue[0]
		w.queue = w.queue[1:]
		j, ok := w.jobs[t]
		if !ok || j.started {
			continue // moved away before it started
		}
		jctx, cancel := context.WithCancel(ctx)
		j.started, j.cancel = true, cancel
		w.running++
		w.completing.Add(1)
		go func(in <-chan input) {
			defer w.completing.Done()
			w.execute(ctx, jctx, t, in)
		}(j.input)
	}
	w.prefetch()
}

// stopAll cancels the running tasks, waits for the results being written,
// and returns how many tasks were abandoned.
func (w *worker) stopAll() int {
	n := w.running
	for _, j := range w.jobs {
		j.cancel()
	}
	for ; w.running > 0; w.running-- {
		<-w.done
	}
	w.completing.Wait()
	return n
}

// execute runs task t: read the input and sleep (under jctx), free the
// slot, then complete (under ctx, the worker's): the next task starts while
// the result is written, and results written at the same time share a
// multi. A cancelled task writes nothing.
func (w *worker) execute(ctx, jctx context.Context, t string, in <-chan input) {
	start := time.Now()
	result, err := w.work(jctx, t, in)
	w.done <- t
	if err != nil {
		if jctx.Err() == nil {
			w.log.Warn("task abandoned", "task", t, "err", err)
		}
		return
	}
	w.complete(ctx, t, result, start)
}

// work reads t's input (the prefetched read in, if not nil and it did
// not fail on the connection) and sleeps for it; it returns the result to
// write.
func (w *worker) work(ctx context.Context, t string, in <-chan input) (string, error) {
	var data []byte
	err := zk.ErrConnectionClosed
	if in != nil {
		select {
		case r := <-in:
			data, err = r.data, r.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	if IsConnErr(err) {
		err = w.s.retry(ctx, func() error {
			var err error
			data, _, err = w.s.conn.Get(protocol.Data(t))
			return err
		})
	}
	if errors.Is(err, zk.ErrNoNode) {
		return protocol.ErrorResult("no input " + protocol.Data(t)), nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", protocol.Data(t), err)
	}
	d, err := protocol.ParsePayload(data)
	if err != nil {
		return protocol.ErrorResult(err.Error()), nil
	}
	if err := retry.Sleep(ctx, d); err != nil {
		return "", err
	}
	return protocol.OKResult(w.id), nil
}

// complete writes the result with multi{create /results/t, delete
// /workers/<id>/t, delete /tasks/t}, batched with the worker's other
// results being written (batchMulti: one multi for all, split if one of
// them fails); if t was moved meanwhile its ops fail and nothing else is
// written for it.
func (w *worker) complete(ctx context.Context, t, result string, start time.Time) {
	for attempt := 1; ; attempt++ {
		err := batchMulti(w.s.conn,
			&zk.CreateRequest{Path: protocol.Result(t), Data: []byte(result), Acl: w.s.acl},
			&zk.DeleteRequest{Path: protocol.Assignment(w.id, t), Version: -1},
			&zk.DeleteRequest{Path: protocol.Task(t), Version: -1}).err
		switch {
		case err == nil || attempt > 1 && !IsConnErr(err) && (firstTryApplied(err) || w.resultIs(t, result)):
			w.log.Info("completed task "+t, protocol.EventAttr, protocol.EventCompleted, "task", t, "result", result, "took_ms", time.Since(start).Milliseconds())
			return
		case IsConnErr(err):
			if aerr := w.s.await(ctx); aerr != nil {
				w.log.Warn(fmt.Sprintf("result of %s unanswered: %v", t, aerr), protocol.EventAttr, protocol.EventUnanswered, "task", t, "result", result, "err", err)
				return
			}
		default:
			w.log.Info(fmt.Sprintf("dropped result of %s: no longer assigned", t), protocol.EventAttr, protocol.EventDropped, "task", t, "err", err)
			return
		}
	}
}

// firstTryApplied tells, for a retry refused with err, whether the first
// try went through. A retry runs only while the session that sent the first
// try lives (await gives up once it expired), and the master moves a task
// back only when its worker's session has ended; so a retry refused because
// the result exists or the assignment is gone can only meet the first try's
// own work, even when the client has already taken the result.
func firstTryApplied(err error) bool {
	return errors.Is(err, zk.ErrNodeExists) || errors.Is(err, zk.ErrNoNode)
}

// resultIs tells whether /results/t holds result: after a lost connection,
// whether the first try went through.
func (w *worker) resultIs(t, result string) bool {
	data, _, err := w.s.conn.Get(protocol.Result(t))
	return err == nil && string(data) == result
}
