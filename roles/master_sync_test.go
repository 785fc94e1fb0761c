package roles

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/zktest"
	"zkctl/roles/protocol"
)

// leadingMaster returns a master that holds an election node of its own
// session on servers, without running its loop: the test drives resync and
// wait itself. Its log goes to the returned buffer.
func leadingMaster(t *testing.T, servers []string) (*master, *syncBuffer) {
	t.Helper()
	cfg, err := Config{Servers: servers, SessionTimeout: zktest.SessionTimeout, ID: "m1"}.withDefaults("master")
	if err != nil {
		t.Fatal(err)
	}
	buf := &syncBuffer{}
	cfg.Logger = testLogger(buf)
	s, err := dial(context.Background(), cfg, cfg.Logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	if err := EnsureBase(s.conn, s.acl); err != nil {
		t.Fatal(err)
	}
	node, err := s.conn.Create(protocol.ElectionPrefix("m1"), nil, zk.FlagEphemeral|zk.FlagSequence, s.acl)
	if err != nil {
		t.Fatal(err)
	}
	r := &masterRunner{cfg: cfg, log: cfg.Logger}
	return &master{r: r, s: s, log: cfg.Logger, lead: leadership{node: node}}, buf
}

// register creates /workers/<w> and /workers_eph/<w> in one multi, as a
// worker registers; with dir false, only the liveness znode (a program
// that breaks the protocol).
func register(t *testing.T, conn *zk.Conn, w string, dir bool) {
	t.Helper()
	alive := &zk.CreateRequest{Path: protocol.WorkerAlive(w), Data: []byte{}, Acl: zk.WorldACL(zk.PermAll), Flags: zk.FlagEphemeral}
	ops := []any{alive}
	if dir {
		ops = []any{&zk.CreateRequest{Path: protocol.Worker(w), Data: []byte{}, Acl: zk.WorldACL(zk.PermAll)}, alive}
	}
	if _, err := conn.Multi(ops...); err != nil {
		t.Fatalf("register %s: %v", w, err)
	}
}

// TestResyncSeesWorkerRegisteredBetweenReads forces the interleavings of
// issue 19: between the master's listing of /workers and its listing of
// /workers_eph, a worker registers and another completes a task. The new
// worker must be in the view, and the completed task reported as no orphan.
func TestResyncSeesWorkerRegisteredBetweenReads(t *testing.T) {
	ens := zktest.Start(t, 1)
	worker := observer(t, ens.Servers())
	m, log := leadingMaster(t, ens.Servers())
	register(t, worker, "w1", true)
	acl := zk.WorldACL(zk.PermAll)
	for _, path := range []string{protocol.Task("t1"), protocol.Assignment("w1", "t1"), protocol.Assignment("w1", "ghost")} {
		if _, err := worker.Create(path, []byte{}, 0, acl); err != nil {
			t.Fatal(err)
		}
	}
	m.afterDirs = func() {
		register(t, worker, "w2", true)
		// w1 completes t1 as a worker does: result, assignment and task in one multi.
		if _, err := worker.Multi(&zk.CreateRequest{Path: protocol.Result("t1"), Data: []byte("ok"), Acl: acl},
			&zk.DeleteRequest{Path: protocol.Assignment("w1", "t1"), Version: -1},
			&zk.DeleteRequest{Path: protocol.Task("t1"), Version: -1}); err != nil {
			t.Fatal(err)
		}
	}

	if err := m.resync(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"w1", "w2"} {
		if !m.view.HasWorker(w) {
			t.Errorf("worker %s registered, not in the master's view; log:\n%s", w, tail(log.String(), 10))
		}
	}
	if n := len(grep(log.lines(), "ignoring live worker")); n != 0 {
		t.Errorf("%d warnings about a worker without a directory, want none", n)
	}
	// t1 completed between the listings is no orphan; ghost, an assignment
	// without a task, is.
	var orphans []string
	for _, l := range grep(log.lines(), "ignoring assignment of a task not in /tasks") {
		orphans = append(orphans, l.str("path"))
	}
	if want := []string{protocol.Assignment("w1", "ghost")}; !slices.Equal(orphans, want) {
		t.Errorf("orphans reported %v, want %v", orphans, want)
	}
}

// TestWorkerWithoutDirIsLookedAtAgain: a live worker that really has no
// /workers/<w> is reported once and joins as soon as the directory
// appears, through the watch on /workers.
func TestWorkerWithoutDirIsLookedAtAgain(t *testing.T) {
	ens := zktest.Start(t, 1)
	foreign := observer(t, ens.Servers())
	m, log := leadingMaster(t, ens.Servers())
	register(t, foreign, "x", false)
	ctx := context.Background()
	if err := m.resync(ctx); err != nil {
		t.Fatal(err)
	}
	if m.view.HasWorker("x") {
		t.Fatal("a worker without /workers/x joined the view")
	}
	register(t, foreign, "y", true) // a change of /workers that does not help x
	m.waitOnce(t)
	if err := m.refreshWorkers(ctx); err != nil {
		t.Fatal(err)
	}
	if m.view.HasWorker("x") || !m.view.HasWorker("y") {
		t.Fatalf("after y registered: x in view %v (want false), y %v (want true)", m.view.HasWorker("x"), m.view.HasWorker("y"))
	}
	if _, err := foreign.Create(protocol.Worker("x"), []byte{}, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	m.waitOnce(t)
	if !m.workersDirty {
		t.Fatal("creating /workers/x woke the master without marking the workers dirty")
	}
	if err := m.refreshWorkers(ctx); err != nil {
		t.Fatal(err)
	}
	if !m.view.HasWorker("x") {
		t.Errorf("x has its directory now, still not in the view; log:\n%s", tail(log.String(), 10))
	}
	if n := len(grep(log.lines(), "ignoring live worker without /workers/x")); n != 1 {
		t.Errorf("%d warnings about x, want exactly 1", n)
	}
}

// waitOnce runs the master's wait until a watch fired, failing after 10 s.
func (m *master) waitOnce(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m.workersDirty = false
	for !m.workersDirty && ctx.Err() == nil {
		m.wait(ctx, m.s.state())
	}
	if ctx.Err() != nil {
		t.Fatal("no watch fired within 10 s")
	}
}

// TestAssignBatchSplit: the assignments to one worker share one multi
// behind one check; when one of them fails (its assignment exists, or its
// task went), the others are sent again without it and land once; behind
// a failed check nothing lands.
func TestAssignBatchSplit(t *testing.T) {
	ens := zktest.Start(t, 1)
	servers := ens.Servers()
	obs := observer(t, servers)
	m, buf := leadingMaster(t, servers)
	register(t, obs, "w1", true)
	names := taskNames("b", 6)
	for _, n := range names {
		submitRaw(t, obs, n, "0")
	}
	if err := m.resync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := obs.Create(protocol.Assignment("w1", "b-2"), nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if err := obs.Delete(protocol.Task("b-4"), -1); err != nil {
		t.Fatal(err)
	}
	if _, err := m.assign(); err != nil {
		t.Fatal(err)
	}
	if n := m.r.ok.Load(); n != 1 {
		t.Errorf("%d multis landed, want 1 for the four assignments", n)
	}
	kids, _, _ := obs.Children(protocol.Worker("w1"))
	if got := fmt.Sprint(sortTasks(kids)); got != "[b-1 b-2 b-3 b-5 b-6]" {
		t.Errorf("assignments %s, want b-1 b-2 b-3 b-5 b-6", got)
	}
	for _, n := range []string{"b-1", "b-3", "b-5", "b-6"} {
		if data, _, _ := obs.Get(protocol.Task(n)); string(data) != "w1" {
			t.Errorf("/tasks/%s = %q, want w1", n, data)
		}
	}
	lines := events(buf.lines(), protocol.EventAssigned)
	if len(lines) != 4 || lines[0].str("sent") != lines[3].str("sent") {
		t.Errorf("assigned lines %v, want four of one multi", lines)
	}
	if m.view.HasTask("b-4") {
		t.Error("b-4 (gone) still in the view")
	}

	submitRaw(t, obs, "b-7", "0")
	m.view.AddTask("b-7")
	if _, err := obs.Set(m.lead.node, []byte("x"), -1); err != nil {
		t.Fatal(err)
	}
	if _, err := m.assign(); !errors.Is(err, errFenced) {
		t.Fatalf("assign behind a changed election node: %v, want %v", err, errFenced)
	}
	if ok, _, _ := obs.Exists(protocol.Assignment("w1", "b-7")); ok {
		t.Error("b-7 assigned behind a failed check")
	}
	if w, _ := m.view.AssignedTo("b-7"); w != "" {
		t.Errorf("b-7 assigned to %q in the view after a fenced write", w)
	}
}

// TestTakeoverResetsStaleDataAfterAssigning: a task whose data names a
// worker without an assignment is assigned without being read first (the
// assignment sets its data); one left pending (no worker) is reset.
func TestTakeoverResetsStaleDataAfterAssigning(t *testing.T) {
	ens := zktest.Start(t, 1)
	servers := ens.Servers()
	obs := observer(t, servers)
	m, buf := leadingMaster(t, servers)
	for _, n := range []string{"s-1", "s-2"} {
		submitRaw(t, obs, n, "0")
		if _, err := obs.Set(protocol.Task(n), []byte("ghost"), -1); err != nil {
			t.Fatal(err)
		}
	}
	m.needResync = true
	if _, err := m.step(context.Background(), m.s.state()); err != nil { // no worker: both stay pending
		t.Fatal(err)
	}
	if data, _, _ := obs.Get(protocol.Task("s-1")); len(data) != 0 {
		t.Errorf("/tasks/s-1 = %q after a takeover without workers, want \"\"", data)
	}
	if n := len(grep(buf.lines(), "reset stale task data")); n != 2 {
		t.Errorf("%d resets logged, want 2", n)
	}

	submitRaw(t, obs, "s-3", "0")
	if _, err := obs.Set(protocol.Task("s-3"), []byte("ghost"), -1); err != nil {
		t.Fatal(err)
	}
	register(t, obs, "w1", true)
	m.needResync = true
	if _, err := m.step(context.Background(), m.s.state()); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"s-1", "s-2", "s-3"} {
		if data, _, _ := obs.Get(protocol.Task(n)); string(data) != "w1" {
			t.Errorf("/tasks/%s = %q, want w1", n, data)
		}
	}
	if n := len(grep(buf.lines(), "reset stale task data")); n != 2 {
		t.Errorf("%d resets logged in all, want 2 (s-3 is assigned, not reset)", n)
	}
}
