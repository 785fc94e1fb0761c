package roles

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/retry"
	"zkctl/roles/protocol"
)

// submitFlying bounds the tasks one Submit has under way at once; they
// leave in batched multis (batchMulti).
const submitFlying = 1024

// Task is a submitted task.
type Task struct {
	Name      string
	Submitted time.Time
}

// Result is a task's result as its client saw it.
type Result struct {
	Task    string
	Value   string        // "ok <worker>" or "error: <why>"
	Latency time.Duration // from submission until the result was seen
}

// RunClient submits n tasks named "<cfg.ID>-<k>" that each last
// taskDuration, waits for their results, logs each with its latency and
// removes it. It returns nil when all came back, or an error naming the
// missing tasks when timeout (if > 0) or ctx ends first.
//
// It first removes what a dead predecessor with the same id left: its
// finished results and their data; its numbering continues after the tasks
// the predecessor left unfinished.
//
// Log messages (attributes role, id, host; event=<name> as on RunMaster):
//
//	INFO removed predecessor results   event=cleaned, results, next
//	INFO submitted                     event=submitted, tasks, first, last, payload
//	INFO result of <t>: <result>       event=result, task, result, latency_ms
//	INFO all results in                event=all-results, tasks, took_ms
func RunClient(ctx context.Context, cfg Config, n int, taskDuration, timeout time.Duration) error {
	cfg, err := cfg.withDefaults("client")
	if err != nil {
		return err
	}
	if n < 0 || taskDuration < 0 || taskDuration > protocol.MaxTaskSeconds*time.Second {
		return fmt.Errorf("client: want n >= 0 and a duration in [0, %ds]", protocol.MaxTaskSeconds)
	}
	log := cfg.logger("client", cfg.ID)
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	s, err := dial(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("client %s: %w", cfg.ID, err)
	}
	defer s.close()
	if err := EnsureBase(s.conn, s.acl); err != nil {
		return fmt.Errorf("client %s: %w", cfg.ID, err)
	}
	c := Client{Conn: s.conn, ACL: s.acl, ID: cfg.ID}
	start := time.Now()
	b, err := c.Submit(ctx, n, taskDuration)
	if b.Removed > 0 || b.Next > 1 {
		log.Info("removed predecessor results", protocol.EventAttr, protocol.EventCleaned, "results", b.Removed, "next", b.Next)
	}
	if err != nil {
		return fmt.Errorf("client %s: %w", cfg.ID, err)
	}
	if n > 0 {
		log.Info("submitted", protocol.EventAttr, protocol.EventSubmitted, "tasks", n, "first", b.Tasks[0].Name, "last", b.Tasks[n-1].Name, "payload", b.Payload)
	}
	err = c.Wait(ctx, b, func(r Result) {
		log.Info(fmt.Sprintf("result of %s: %s", r.Task, r.Value), protocol.EventAttr, protocol.EventResult, "task", r.Task, "result", r.Value,
			"latency_ms", r.Latency.Milliseconds())
	})
	if err != nil {
		return fmt.Errorf("client %s: %w", cfg.ID, err)
	}
	log.Info("all results in", protocol.EventAttr, protocol.EventAllIn, "tasks", n, "took_ms", time.Since(start).Milliseconds())
	return nil
}

// Client submits tasks under one id and waits for their results: the
// work of RunClient, and of `zkctl submit` on the controller. Its tasks are
// named "<ID>-<k>".
type Client struct {
	Conn *zk.Conn
	ACL  []zk.ACL // of every znode it creates (see ACL)
	ID   string
}

// Batch is what one Client.Submit did.
type Batch struct {
	Tasks   []Task
	Removed int    // results (and their data) of a dead predecessor removed first
	Next    int    // the first task number k used
	Payload string // each task's /data payload
}

// Submit first removes what a dead predecessor with the same id left (its
// finished results and their data), then submits n tasks of duration d,
// numbered after those the predecessor left unfinished.
func (c Client) Submit(ctx context.Context, n int, d time.Duration) (Batch, error) {
	removed, next, err := cleanPredecessor(c.Conn, c.ID)
	b := Batch{Removed: removed, Next: next, Payload: protocol.FormatPayload(d)}
	if err != nil {
		return b, err
	}
	names := make([]string, n)
	for i := range names {
		names[i] = protocol.TaskName(c.ID, next+i)
	}
	b.Tasks, err = Submit(ctx, c.Conn, c.ACL, names, b.Payload)
	return b, err
}

// Wait waits for the results of the batch's tasks (see the function Wait).
func (c Client) Wait(ctx context.Context, b Batch, onResult func(Result)) error {
	return Wait(ctx, c.Conn, b.Tasks, onResult)
}

// cleanPredecessor removes the finished results of tasks named
// "<id>-<k>" and their data, and returns the first free k.
func cleanPredecessor(conn *zk.Conn, id string) (removed, next int, err error) {
	results, _, err := conn.Children(protocol.ResultsPath)
	if err != nil {
		return 0, 0, fmt.Errorf("list %s: %w", protocol.ResultsPath, err)
	}
	for _, r := range results {
		if c, _, ok := protocol.ParseTaskName(r); !ok || c != id {
			continue
		}
		if err := deleteResult(conn, r); err != nil {
			return removed, 0, err
		}
		removed++
	}
	data, _, err := conn.Children(protocol.DataPath)
	if err != nil {
		return removed, 0, fmt.Errorf("list %s: %w", protocol.DataPath, err)
	}
	next = 1
	for _, d := range data {
		if c, k, ok := protocol.ParseTaskName(d); ok && c == id {
			next = max(next, k+1)
		}
	}
	return removed, next, nil
}

// deleteResult removes /results/t and /data/t with one multi (the result
// alone when the data is already gone), batched with the concurrent
// deletes and submits on conn (batchMulti).
func deleteResult(conn *zk.Conn, t string) error {
	out := batchMulti(conn, &zk.DeleteRequest{Path: protocol.Result(t), Version: -1},
		&zk.DeleteRequest{Path: protocol.Data(t), Version: -1})
	err := out.err
	if errors.Is(err, zk.ErrNoNode) && out.failed == 1 {
		err = batchMulti(conn, &zk.DeleteRequest{Path: protocol.Result(t), Version: -1}).err
	}
	if errors.Is(err, zk.ErrNoNode) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("delete %s and %s: %w", protocol.Result(t), protocol.Data(t), err)
	}
	return nil
}

// Submit creates each named task with multi{create /data/t payload, create
// /tasks/t ""}, with acl (see ACL). The tasks go concurrently and share
// multis (batchMulti), also with the concurrent Submit calls of other
// goroutines on conn. It fails if a task exists already.
func Submit(ctx context.Context, conn *zk.Conn, acl []zk.ACL, names []string, payload string) ([]Task, error) {
	tasks := make([]Task, len(names))
	errs := make([]error, len(names))
	parallel(len(names), submitFlying, func(i int) {
		tasks[i], errs[i] = submitOne(ctx, conn, acl, names[i], payload)
	})
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	return tasks, nil
}

// submitOne submits one task, retrying over connection losses; a retry
// that finds the task created by the lost try counts as done.
func submitOne(ctx context.Context, conn *zk.Conn, acl []zk.ACL, name, payload string) (Task, error) {
	if err := protocol.CheckName(name); err != nil {
		return Task{}, fmt.Errorf("task: %w", err)
	}
	for retried := false; ; retried = true {
		t := Task{Name: name, Submitted: time.Now()}
		err := batchMulti(conn,
			&zk.CreateRequest{Path: protocol.Data(name), Data: []byte(payload), Acl: acl},
			&zk.CreateRequest{Path: protocol.Task(name), Data: []byte{}, Acl: acl}).err
		switch {
		case err == nil || retried && errors.Is(err, zk.ErrNodeExists):
			return t, nil
		case !IsConnErr(err):
			return Task{}, fmt.Errorf("create %s and %s: %w", protocol.Data(name), protocol.Task(name), err)
		}
		if err := retry.Sleep(ctx, 100*time.Millisecond); err != nil {
			return Task{}, fmt.Errorf("create %s: %w", protocol.Task(name), err)
		}
	}
}

// Wait waits for the results of tasks: for each it watches /results/<t>,
// reads it, calls onResult (one call at a time), then deletes /results/<t>
// and /data/<t> (one multi): a client that dies in between leaves the
// result for its successor, never one it took without reporting it. It returns nil when every result came back,
// or, when ctx ends first, an error naming the missing tasks.
func Wait(ctx context.Context, conn *zk.Conn, tasks []Task, onResult func(Result)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	missing := make(map[string]bool, len(tasks))
	for _, t := range tasks {
		missing[t.Name] = true
	}
	var wg sync.WaitGroup
	var errs []error
	for _, t := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The result is announced as soon as it is read, before it is
			// deleted: a client killed in between leaves it for its
			// successor, never a result it took without a trace.
			announce := func(r Result) {
				mu.Lock()
				defer mu.Unlock()
				delete(missing, t.Name)
				if onResult != nil {
					onResult(r)
				}
			}
			_, err := waitOne(ctx, conn, t, announce)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
			case ctx.Err() == nil:
				errs = append(errs, err)
				cancel()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("wait: %w", errors.Join(errs...))
	}
	if len(missing) > 0 {
		return fmt.Errorf("wait: %d of %d results missing: %s: %w",
			len(missing), len(tasks), nameList(missing), ctx.Err())
	}
	return nil
}

// waitOne waits for one result, reads it and removes it with its data.
func waitOne(ctx context.Context, conn *zk.Conn, t Task, announce func(Result)) (Result, error) {
	p := protocol.Result(t.Name)
	created := false // the watch said the result exists: read it without asking again
	for {
		exists := created
		var ch <-chan zk.Event
		var err error
		if !created {
			exists, _, ch, err = conn.ExistsW(p)
		}
		created = false
		switch {
		case IsConnErr(err):
			if err := retry.Sleep(ctx, 100*time.Millisecond); err != nil {
				return Result{}, err
			}
			continue
		case err != nil:
			return Result{}, fmt.Errorf("watch %s: %w", p, err)
		case exists:
			r, err := takeResult(ctx, conn, t, time.Now(), announce)
			if err == nil || !IsConnErr(err) && !errors.Is(err, zk.ErrNoNode) {
				return r, err
			}
			// The read failed, so the result is still there (or not yet
			// visible to this server): look again.
			if err := retry.Sleep(ctx, 100*time.Millisecond); err != nil {
				return Result{}, err
			}
			continue
		}
		select {
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case ev := <-ch:
			created = ev.Type == zk.EventNodeCreated
		}
	}
}

// takeResult reads a result that exists, announces it, and deletes it with
// its data.
// The delete is retried over connection losses: a lost try that went
// through leaves nothing to delete, which deleteResult accepts.
func takeResult(ctx context.Context, conn *zk.Conn, t Task, seen time.Time, announce func(Result)) (Result, error) {
	data, _, err := conn.Get(protocol.Result(t.Name))
	if err != nil {
		return Result{}, fmt.Errorf("read %s: %w", protocol.Result(t.Name), err)
	}
	r := Result{Task: t.Name, Value: string(data), Latency: seen.Sub(t.Submitted)}
	announce(r)
	for err = deleteResult(conn, t.Name); IsConnErr(err); err = deleteResult(conn, t.Name) {
		if err := retry.Sleep(ctx, 100*time.Millisecond); err != nil {
			return Result{}, fmt.Errorf("delete %s: %w", protocol.Result(t.Name), err)
		}
	}
	if err != nil {
		return r, err
	}
	return r, nil
}

// nameList names the tasks of a set, sorted, at most 50 of them.
func nameList(set map[string]bool) string {
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	names = sortTasks(names)
	if len(names) > 50 {
		return strings.Join(names[:50], " ") + fmt.Sprintf(" … and %d more", len(names)-50)
	}
	return strings.Join(names, " ")
}
