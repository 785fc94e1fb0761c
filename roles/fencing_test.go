package roles

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/zktest"
	"zkctl/roles/protocol"
)

// writesAfter counts the successful writes logged with session sent after t.
func writesAfter(lines []logLine, session string, t time.Time) int {
	n := 0
	for _, l := range lines {
		if l.str("write") != "" && l.str("session") == session && l.time("sent").After(t) {
			n++
		}
	}
	return n
}

// feed submits a task every 20ms until stop is closed; a submission that
// fails (the test's own connection under load) is skipped.
func feed(t *testing.T, servers []string, prefix string, stop <-chan struct{}) *sync.WaitGroup {
	conn := observer(t, servers)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			name := fmt.Sprintf("%s-%d", prefix, i)
			_, err := conn.Multi(
				&zk.CreateRequest{Path: protocol.Data(name), Data: []byte("0.01"), Acl: zk.WorldACL(zk.PermAll)},
				&zk.CreateRequest{Path: protocol.Task(name), Data: []byte{}, Acl: zk.WorldACL(zk.PermAll)})
			if err != nil {
				t.Logf("feed %s: %v", name, err)
			}
		}
	}()
	return &wg
}

func TestStoppedMasterIsFencedAndRejoins(t *testing.T) {
	ens := zktest.Start(t, 1)
	servers := ens.Servers()
	obs := observer(t, servers)
	m1 := startRole(t, servers, "master", "m1", 0)
	elected, ok := m1.waitEvent(15*time.Second, protocol.EventElected)
	if !ok {
		t.Fatal("m1 not elected within 15s")
	}
	m2 := startRole(t, servers, "master", "m2", 0)
	startRole(t, servers, "worker", "w1", 4)
	if _, ok := m2.waitEvent(10*time.Second, protocol.EventJoined); !ok {
		t.Fatal("m2 did not join the election")
	}
	stop := make(chan struct{})
	feeding := feed(t, servers, "f", stop)
	defer func() { close(stop); feeding.Wait() }()
	if _, ok := m1.waitEvent(10*time.Second, protocol.EventAssigned); !ok {
		t.Fatal("m1 assigned nothing")
	}

	stopped := time.Now()
	m1.signal(syscall.SIGSTOP)
	if !waitFor(failoverBound, func() bool { return masterID(obs) == "m2" }) {
		t.Fatalf("m2 did not take over within %v of SIGSTOP", failoverBound)
	}
	t.Logf("m2 took over %v after SIGSTOP", time.Since(stopped).Round(time.Millisecond))
	time.Sleep(300 * time.Millisecond)
	resumed := time.Now()
	m1.signal(syscall.SIGCONT)

	// Not a timing target: the resumed client first notices its dead
	// connection, then learns of the expiry when it reconnects.
	if _, ok := m1.waitLog(10*time.Second, "fenced: session expired, stepping down"); !ok {
		t.Fatal("m1 did not log that it was fenced")
	}
	t.Logf("m1 fenced %v after SIGCONT", time.Since(resumed).Round(time.Millisecond))
	oldSeq := int64(elected.num("seq"))
	rejoined := waitFor(10*time.Second, func() bool {
		kids, _, _ := obs.Children(protocol.ElectionPath)
		sorted, _ := protocol.SortCandidates(kids)
		for _, c := range sorted {
			if c.Name == "m1" && c.Seq > oldSeq {
				return true
			}
		}
		return false
	})
	if !rejoined {
		t.Fatal("m1 has no new election node")
	}
	lines := m1.lines()
	if n := writesAfter(lines, elected.str("session"), stopped); n > 0 {
		t.Errorf("m1 made %d successful writes with its old session after SIGSTOP", n)
	}
	t.Logf("m1: %d writes refused by the fence after resuming", len(events(lines, protocol.EventFenced)))
	if masterID(obs) != "m2" {
		t.Errorf("master is %q after m1 rejoined, want m2", masterID(obs))
	}
}

// TestFenceRefusesWritesOfLostLeadership removes the master's election node
// under its live session: it must write nothing more with that session,
// step down, and lead again with a new one.
func TestFenceRefusesWritesOfLostLeadership(t *testing.T) {
	ens := zktest.Start(t, 1)
	servers := ens.Servers()
	obs := observer(t, servers)
	ctx, cancel := context.WithCancel(context.Background())
	var mlog, wlog syncBuffer
	var wg sync.WaitGroup
	run := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				t.Error(err)
			}
		}()
	}
	defer func() { cancel(); wg.Wait() }()
	cfg := Config{Servers: servers, SessionTimeout: zktest.SessionTimeout, Host: "test"}
	mcfg, wcfg := cfg, cfg
	mcfg.ID, mcfg.Logger = "m1", testLogger(&mlog)
	wcfg.ID, wcfg.Logger = "w1", testLogger(&wlog)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("master log:\n%s\nworker log:\n%s", tail(mlog.String(), 40), tail(wlog.String(), 40))
		}
	})
	run(func() error { return RunMaster(ctx, mcfg) })
	run(func() error { return RunWorker(ctx, wcfg, 1) })

	waitLine := func(prefix string) logLine {
		t.Helper()
		var found logLine
		if !waitFor(10*time.Second, func() bool {
			ls := grep(mlog.lines(), prefix)
			if len(ls) > 0 {
				found = ls[len(ls)-1]
			}
			return found != nil
		}) {
			t.Fatalf("master did not log %q", prefix)
		}
		return found
	}
	hasResult := func(task string) bool {
		return waitFor(10*time.Second, func() bool { ok, _, _ := obs.Exists(protocol.Result(task)); return ok })
	}
	elected := waitLine("elected master")
	submitRaw(t, obs, "t1", "0")
	if !hasResult("t1") {
		t.Fatal("t1 has no result")
	}
	removed := time.Now()
	if err := obs.Delete(elected.str("node"), -1); err != nil {
		t.Fatal(err)
	}
	submitRaw(t, obs, "t2", "0")
	waitLine("fenced: election node lost, stepping down")
	if !hasResult("t2") {
		t.Fatal("t2 has no result: the master did not lead again")
	}
	lines := mlog.lines()
	if n := writesAfter(lines, elected.str("session"), removed); n > 0 {
		t.Errorf("%d successful writes with the fenced session", n)
	}
	if got := len(events(lines, protocol.EventElected)); got != 2 {
		t.Errorf("%d elections, want 2", got)
	}
}
