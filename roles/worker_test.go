package roles

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/zktest"
	"zkctl/roles/protocol"
)

// startCluster starts a master and the given workers as processes and
// waits until the master knows every worker.
func startCluster(t *testing.T, servers []string, concurrency int, workers ...string) (*proc, map[string]*proc) {
	t.Helper()
	m := startRole(t, servers, "master", "m1", 0)
	ws := map[string]*proc{}
	for _, w := range workers {
		ws[w] = startRole(t, servers, "worker", w, concurrency)
	}
	for _, w := range workers {
		if _, ok := m.waitLog(15*time.Second, fmt.Sprintf("worker %s joined", w)); !ok {
			t.Fatalf("master did not see worker %s join", w)
		}
	}
	return m, ws
}

// taskNames is prefix-1 … prefix-n.
func taskNames(prefix string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = protocol.TaskName(prefix, i+1)
	}
	return names
}

// submitAndWait submits names with the package's client calls and returns
// each task's result.
func submitAndWait(t *testing.T, conn *zk.Conn, names []string, payload string, timeout time.Duration) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tasks, err := Submit(ctx, conn, zk.WorldACL(zk.PermAll), names, payload)
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]string{}
	err = Wait(ctx, conn, tasks, func(r Result) {
		if _, dup := results[r.Task]; dup {
			t.Errorf("two results for %s", r.Task)
		}
		results[r.Task] = r.Value
	})
	if err != nil {
		t.Fatal(err)
	}
	return results
}

func TestKilledWorkersTasksAreReassigned(t *testing.T) {
	ens := zktest.Start(t, 1)
	servers := ens.Servers()
	obs := observer(t, servers)
	m, ws := startCluster(t, servers, 2, "w1", "w2")

	names := taskNames("k", 12)
	done := make(chan map[string]string, 1)
	go func() { done <- submitAndWait(t, obs, names, "0.6", 30*time.Second) }()
	if _, ok := ws["w1"].waitEvent(10*time.Second, protocol.EventCompleted); !ok {
		t.Fatal("w1 completed nothing")
	}
	time.Sleep(300 * time.Millisecond) // w1 is in the middle of its next tasks
	ws["w1"].signal(syscall.SIGKILL)
	killed := time.Now()
	results := <-done
	t.Logf("all %d results %v after SIGKILL of w1", len(results), time.Since(killed).Round(time.Millisecond))

	// Exactly one result per task: Wait saw one each, no second one appears
	// later, and the logs show no second completion. (w1 may have completed a
	// task and died before logging it, so its log is a lower bound.)
	completions := map[string]map[string]int{}
	for id, p := range ws {
		completions[id] = map[string]int{}
		for _, l := range events(p.lines(), protocol.EventCompleted) {
			completions[id][l.str("task")]++
		}
	}
	for _, n := range names {
		ok, w := protocol.ParseResult(results[n])
		if !ok || (w != "w1" && w != "w2") {
			t.Errorf("%s: result %q", n, results[n])
			continue
		}
		byW1, byW2 := completions["w1"][n], completions["w2"][n]
		if w == "w2" && (byW2 != 1 || byW1 != 0) || w == "w1" && (byW2 != 0 || byW1 > 1) {
			t.Errorf("%s: result from %s; completions logged by w1 %d, by w2 %d", n, w, byW1, byW2)
		}
	}
	time.Sleep(300 * time.Millisecond)
	for _, p := range []string{protocol.ResultsPath, protocol.TasksPath, protocol.DataPath} {
		if kids, _, _ := obs.Children(p); len(kids) != 0 {
			t.Errorf("%s left: %v", p, kids)
		}
	}
	gone, ok := m.waitLog(5*time.Second, "worker w1 gone: reassigned")
	if !ok {
		t.Fatal("master did not log that w1 was gone")
	}
	if gone.num("tasks") < 1 || gone.str("write") != "delete-worker" {
		t.Errorf("worker gone line: %v", gone)
	}
	moved := events(m.lines(), protocol.EventMovedBack)
	for _, l := range moved {
		if results[l.str("task")] != "ok w2" {
			t.Errorf("moved task %s: result %q, want ok w2", l.str("task"), results[l.str("task")])
		}
	}
	t.Logf("w1's %d unfinished tasks moved back, %d results from w1", len(moved), 12-len(completions["w2"]))
	if ok, _, _ := obs.Exists(protocol.Worker("w1")); ok {
		t.Error("/workers/w1 still exists")
	}
}

func TestEqualWorkersShareTheLoad(t *testing.T) {
	ens := zktest.Start(t, 1)
	servers := ens.Servers()
	obs := observer(t, servers)
	startCluster(t, servers, 1, "w1", "w2")
	results := submitAndWait(t, obs, taskNames("lb", 40), "0.05", 30*time.Second)
	count := map[string]int{}
	for _, r := range results {
		count[r]++
	}
	t.Logf("shares: %v", count)
	for _, w := range []string{"w1", "w2"} {
		if n := count[protocol.OKResult(w)]; n < 16 || n > 24 {
			t.Errorf("%s ran %d of 40 tasks, want 20 ± 4", w, n)
		}
	}
}

// TestCapacityBalancesLoad is the end-to-end case: two workers
// of capacity 1 and one of capacity 4 share 24 tasks of 0.5 s. Six slots
// allow 2 s; the run may take 1.4 × that, and the worker of capacity 4
// completes at least half.
func TestCapacityBalancesLoad(t *testing.T) {
	ens := zktest.Start(t, 1)
	servers := ens.Servers()
	obs := observer(t, servers)
	m := startRole(t, servers, "master", "m1", 0)
	for w, c := range map[string]int{"w1": 1, "w2": 1, "w4": 4} {
		startRole(t, servers, "worker", w, c)
	}
	for _, w := range []string{"w1", "w2", "w4"} {
		if _, ok := m.waitLog(15*time.Second, fmt.Sprintf("worker %s joined", w)); !ok {
			t.Fatalf("master did not see worker %s join", w)
		}
	}
	if l, _ := m.waitLog(time.Second, "worker w4 joined"); l.num("capacity") != 4 {
		t.Fatalf("master read capacity %q for w4, want 4", l.str("capacity"))
	}
	start := time.Now()
	results := submitAndWait(t, obs, taskNames("cap", 24), "0.5", 30*time.Second)
	took := time.Since(start)
	count := map[string]int{}
	for _, r := range results {
		count[r]++
	}
	t.Logf("24 tasks of 0.5 s in %v; shares %v", took.Round(time.Millisecond), count)
	if n := count[protocol.OKResult("w4")]; n < 12 {
		t.Errorf("w4 (capacity 4) completed %d of 24, want at least 12", n)
	}
	if limit := 2800 * time.Millisecond; took > limit {
		t.Errorf("took %v, want at most %v (1.4 × the ideal 2 s)", took.Round(time.Millisecond), limit)
	}
}

// TestPlainClient is a client written on the zk library alone, following
// DESIGN.md: submit, watch, read, delete. Bad payloads come back as errors
// and the worker survives them.
func TestPlainClient(t *testing.T) {
	ens := zktest.Start(t, 1)
	servers := ens.Servers()
	conn := observer(t, servers)
	_, ws := startCluster(t, servers, 1, "w1")

	junk := strings.Repeat("\x00junk", 120_000) // 600 kB
	payloads := map[string]string{
		"plain-ok":    "0.1",
		"plain-word":  "abc",
		"plain-neg":   "-1",
		"plain-big":   "3601",
		"plain-junk":  junk,
		"plain-after": "0",
	}
	for _, name := range []string{"plain-ok", "plain-word", "plain-neg", "plain-big", "plain-junk", "plain-after"} {
		_, err := conn.Multi(
			&zk.CreateRequest{Path: "/data/" + name, Data: []byte(payloads[name]), Acl: zk.WorldACL(zk.PermAll)},
			&zk.CreateRequest{Path: "/tasks/" + name, Data: []byte(""), Acl: zk.WorldACL(zk.PermAll)})
		if err != nil {
			t.Fatalf("submit %s: %v", name, err)
		}
	}
	for name := range payloads {
		got := plainWait(t, conn, name)
		wantOK := name == "plain-ok" || name == "plain-after"
		switch {
		case wantOK && got != "ok w1":
			t.Errorf("%s: result %q, want ok w1", name, got)
		case !wantOK && !strings.HasPrefix(got, "error: "):
			t.Errorf("%s: result %q, want error: …", name, got)
		case len(got) > 200:
			t.Errorf("%s: result of %d bytes", name, len(got))
		}
		t.Logf("%s: %s", name, got)
	}
	if ws["w1"].exited(0) {
		t.Error("worker exited")
	}
	kids, _, _ := conn.Children("/tasks")
	if len(kids) != 0 {
		t.Errorf("tasks left: %v", kids)
	}
}

// plainWait watches /results/<name>, reads it and deletes it with its data.
func plainWait(t *testing.T, conn *zk.Conn, name string) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		var ok bool
		var ch <-chan zk.Event
		retryConn(t, func() (err error) { ok, _, ch, err = conn.ExistsW("/results/" + name); return err })
		if ok {
			break
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no result for %s", name)
		}
	}
	var data []byte
	retryConn(t, func() (err error) { data, _, err = conn.Get("/results/" + name); return err })
	retryConn(t, func() error {
		_, err := conn.Multi(&zk.DeleteRequest{Path: "/results/" + name, Version: -1},
			&zk.DeleteRequest{Path: "/data/" + name, Version: -1})
		if errors.Is(err, zk.ErrNoNode) {
			return nil // a lost first try went through
		}
		return err
	})
	return string(data)
}

// TestStoppedWorkerReturnsTasksAtOnce stops a worker (SIGTERM in a role
// process): it closes its session, so its tasks go back to the pool at once,
// not after a session timeout.
func TestStoppedWorkerReturnsTasksAtOnce(t *testing.T) {
	ens := zktest.Start(t, 1)
	servers := ens.Servers()
	r := newInProcess(t, Config{Servers: servers, SessionTimeout: zktest.SessionTimeout, Host: "test"})
	r.master("m1")
	ctx, stop := context.WithCancel(context.Background())
	cfg := r.config("w1")
	var wg sync.WaitGroup
	var runErr error
	wg.Add(1)
	go func() { defer wg.Done(); runErr = RunWorker(ctx, cfg, 1) }()
	t.Cleanup(func() { stop(); wg.Wait() })
	obs := observer(t, servers)
	mlog := r.logs["m1"]
	if !waitFor(10*time.Second, func() bool { return len(grep(mlog.lines(), "worker w1 joined")) > 0 }) {
		t.Fatal("master did not see w1")
	}
	names := taskNames("long", 2)
	if _, err := Submit(ctx, obs, zk.WorldACL(zk.PermAll), names, "30"); err != nil {
		t.Fatal(err)
	}
	if !waitFor(10*time.Second, func() bool { return w1Running(obs) == 2 }) {
		t.Fatal("tasks not assigned to w1")
	}
	time.Sleep(100 * time.Millisecond) // the first one runs
	stopped := time.Now()
	stop()
	wg.Wait()
	if runErr != nil {
		t.Fatalf("RunWorker: %v", runErr)
	}
	if !waitFor(time.Second, func() bool { return len(grep(mlog.lines(), "worker w1 gone: reassigned 2 tasks")) > 0 }) {
		t.Fatalf("tasks not back within 1s of stopping w1")
	}
	t.Logf("w1's tasks back %v after it stopped", time.Since(stopped).Round(time.Millisecond))
	if l := grep(r.logs["w1"].lines(), "worker stopped"); len(l) != 1 || l[0].num("abandoned") != 1 {
		t.Errorf("worker stopped lines: %v", l)
	}
	for _, n := range names {
		if data, _, err := obs.Get(protocol.Task(n)); err != nil || len(data) != 0 {
			t.Errorf("/tasks/%s = %q, %v; want \"\"", n, data, err)
		}
	}
	if ok, _, _ := obs.Exists(protocol.Worker("w1")); ok {
		t.Error("/workers/w1 still exists")
	}
}

// w1Running counts w1's assignments.
func w1Running(conn *zk.Conn) int {
	kids, _, _ := conn.Children(protocol.Worker("w1"))
	return len(kids)
}
