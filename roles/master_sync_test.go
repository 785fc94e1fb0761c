package roles

import (
	"context"
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
