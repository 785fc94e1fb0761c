package roles

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/zktest"
	"zkctl/roles/protocol"
)

// inProcess runs roles as goroutines with their logs in buffers; they stop
// when the test ends.
type inProcess struct {
	t      *testing.T
	cfg    Config
	ctx    context.Context
	wg     sync.WaitGroup
	logs   map[string]*syncBuffer
	mu     sync.Mutex
	cancel context.CancelFunc
}

func newInProcess(t *testing.T, cfg Config) *inProcess {
	ctx, cancel := context.WithCancel(context.Background())
	r := &inProcess{t: t, cfg: cfg, ctx: ctx, cancel: cancel, logs: map[string]*syncBuffer{}}
	t.Cleanup(func() {
		r.cancel()
		r.wg.Wait()
		if t.Failed() {
			for id, b := range r.logs {
				t.Logf("log of %s:\n%s", id, tail(b.String(), 30))
			}
		}
	})
	return r
}

// config is the shared configuration with id and a log buffer of its own.
func (r *inProcess) config(id string) Config {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := &syncBuffer{}
	r.logs[id] = b
	cfg := r.cfg
	cfg.ID, cfg.Logger = id, testLogger(b)
	return cfg
}

func (r *inProcess) master(id string) {
	cfg := r.config(id)
	r.run(func() error { return RunMaster(r.ctx, cfg) })
}

func (r *inProcess) worker(id string) {
	cfg := r.config(id)
	r.run(func() error { return RunWorker(r.ctx, cfg, 2) })
}

func (r *inProcess) run(f func() error) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := f(); err != nil {
			r.t.Error(err)
		}
	}()
}

func TestDigestAuth(t *testing.T) {
	ens := zktest.Start(t, 1)
	servers := ens.Servers()
	r := newInProcess(t, Config{Servers: servers, SessionTimeout: zktest.SessionTimeout, Host: "test", Auth: "zkctl:s3cret"})
	r.master("m1")
	r.worker("w1")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := RunClient(ctx, r.config("c1"), 3, 10*time.Millisecond, 15*time.Second); err != nil {
		t.Fatal(err)
	}

	anon := observer(t, servers)
	for _, p := range []string{protocol.TasksPath, protocol.Worker("w1"), protocol.MasterPath} {
		acl, _, err := anon.GetACL(p)
		if err != nil {
			t.Fatalf("GetACL %s: %v", p, err)
		}
		// ZooKeeper hides the digest from others: compare the rest.
		ok := len(acl) == 2 && acl[0].Scheme == "digest" && strings.HasPrefix(acl[0].ID, "zkctl:") &&
			acl[0].Perms == zk.PermAll && acl[1] == zk.WorldACL(zk.PermRead)[0]
		if !ok {
			t.Errorf("%s ACL %v, want %v", p, acl, ACL("zkctl:s3cret"))
		}
	}
	if _, _, err := anon.Get(protocol.MasterPath); err != nil {
		t.Errorf("anonymous read of /master: %v", err)
	}
	_, err := anon.Create(protocol.Task("intruder"), nil, 0, zk.WorldACL(zk.PermAll))
	if !errors.Is(err, zk.ErrNoAuth) {
		t.Errorf("anonymous create under /tasks: %v, want %v", err, zk.ErrNoAuth)
	}
	if log := r.logs["c1"].String(); strings.Contains(log, "s3cret") {
		t.Error("the password appears in the client's log")
	}
}

func TestClientTimeoutAndPredecessor(t *testing.T) {
	ens := zktest.Start(t, 1)
	servers := ens.Servers()
	r := newInProcess(t, Config{Servers: servers, SessionTimeout: zktest.SessionTimeout, Host: "test"})
	r.master("m1")
	ctx := context.Background()

	// No worker yet: the client gives up and names what is missing.
	err := RunClient(ctx, r.config("c1"), 2, 0, 1500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "c1-1 c1-2") {
		t.Fatalf("RunClient without workers: %v, want an error naming c1-1 c1-2", err)
	}

	// A worker runs the dead client's tasks; its results stay behind.
	r.worker("w1")
	conn := observer(t, servers)
	if !waitFor(10*time.Second, func() bool {
		kids, _, _ := conn.Children(protocol.ResultsPath)
		return len(kids) == 2
	}) {
		t.Fatal("the dead client's tasks did not finish")
	}

	// A client restarted with the same id removes them and goes on.
	cfg := r.config("c1")
	if err := RunClient(ctx, cfg, 2, 0, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	lines := r.logs["c1"].lines()
	if rm := events(lines, protocol.EventCleaned); len(rm) != 1 || rm[0].num("results") != 2 {
		t.Errorf("predecessor cleanup lines: %v", rm)
	}
	if got := len(grep(lines, "result of c1-")); got != 2 {
		t.Errorf("%d results logged, want 2", got)
	}
	for _, p := range []string{protocol.ResultsPath, protocol.DataPath, protocol.TasksPath} {
		if kids, _, _ := conn.Children(p); len(kids) != 0 {
			t.Errorf("%s left: %v", p, kids)
		}
	}
}
