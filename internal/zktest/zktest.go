// Package zktest starts real ZooKeeper servers on 127.0.0.1 for tests,
// through the node agent's own code (node.StartZooKeeper), and stops them by
// pid when the test ends. Tests skip when Java or ZooKeeper is missing.
package zktest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"zkctl/internal/retry"
	"zkctl/node"
)

// TickTime and SessionTimeout are the timings every test ensemble uses.
const (
	TickTime       = 200 * time.Millisecond
	SessionTimeout = 2 * time.Second
)

// Ensemble is a running set of ZooKeeper servers.
type Ensemble struct {
	t       testing.TB
	configs []*node.Config
}

// Start starts n servers (n = 1 is standalone) of Debian's ZooKeeper and
// waits until they serve.
func Start(t testing.TB, n int) *Ensemble {
	t.Helper()
	return StartHome(t, n, "")
}

// StartHome is Start with the ZooKeeper release under home ("" for
// Debian's package).
func StartHome(t testing.TB, n int, home string) *Ensemble {
	t.Helper()
	if in := node.Detect(home); in.Java == "" || in.ZooKeeperHome == "" {
		t.Skipf("zktest: java or ZooKeeper (home %q) missing: apt-get install -y default-jre-headless zookeeper", home)
	}
	root := t.TempDir()
	ports := FreePorts(t, 3*n)
	servers := make([]node.Server, n)
	for i := range servers {
		servers[i] = node.Server{ID: i + 1, Host: fmt.Sprintf("zk%d", i+1), Address: "127.0.0.1",
			ClientPort: ports[3*i], PeerPort: ports[3*i+1], ElectionPort: ports[3*i+2]}
	}
	e := &Ensemble{t: t}
	for _, s := range servers {
		e.configs = append(e.configs, &node.Config{
			Host: s.Host, Dir: filepath.Join(root, s.Host), MyID: s.ID, Address: s.Address,
			ClientPort: s.ClientPort, TickTime: TickTime, SessionTimeout: SessionTimeout, Servers: servers,
			ZooKeeperHome: home,
		})
	}
	t.Cleanup(e.stopAll)
	for i := range e.configs {
		e.Start(i)
	}
	e.WaitQuorum()
	return e
}

// Servers lists the client endpoints.
func (e *Ensemble) Servers() []string { return e.configs[0].Endpoints() }

// Config returns server i's node configuration.
func (e *Ensemble) Config(i int) *node.Config { return e.configs[i] }

// Start starts server i (again).
func (e *Ensemble) Start(i int) {
	e.t.Helper()
	if err := os.MkdirAll(e.configs[i].Dir, 0o755); err != nil {
		e.t.Fatal(err)
	}
	if _, err := node.StartZooKeeper(e.configs[i]); err != nil {
		e.t.Fatalf("zktest: start server %d: %v", i+1, err)
	}
}

// Kill SIGKILLs server i.
func (e *Ensemble) Kill(i int) { e.Signal(i, syscall.SIGKILL) }

// Signal sends sig to server i (TERM stops it with a grace period).
func (e *Ensemble) Signal(i int, sig syscall.Signal) {
	e.t.Helper()
	p, err := node.SignalZooKeeper(node.Layout{Dir: e.configs[i].Dir}, sig, 5*time.Second)
	if err != nil {
		e.t.Fatalf("zktest: signal server %d: %v", i+1, err)
	}
	if sig == syscall.SIGKILL {
		waitGone(p)
	}
}

// Status asks server i for srvr.
func (e *Ensemble) Status(i int) node.ServerStatus {
	return node.QueryServer(e.Servers()[i], time.Second)
}

// Leader returns the index of the leading server (standalone counts), or -1.
func (e *Ensemble) Leader() int {
	for i := range e.configs {
		switch e.Status(i).Mode {
		case "leader", "standalone":
			return i
		}
	}
	return -1
}

// WaitQuorum waits up to a minute for a leader and every other live server
// to follow.
func (e *Ensemble) WaitQuorum() {
	e.t.Helper()
	err := retry.Poll(context.Background(), 100*time.Millisecond, 60*time.Second, func() (bool, error) {
		return e.Leader() >= 0, nil
	})
	if err == nil {
		return
	}
	e.t.Fatalf("zktest: no quorum within 60s; logs under %s", filepath.Dir(e.configs[0].Dir))
}

// WaitAllServing waits up to a minute until every server leads or follows:
// a restarted server has finished its sync with the leader (it answers
// srvr with a mode only once it serves), and then a settling pause of
// SettleAfterSync.
func (e *Ensemble) WaitAllServing() {
	e.t.Helper()
	err := retry.Poll(context.Background(), 100*time.Millisecond, 60*time.Second, func() (bool, error) {
		serving := 0
		for i := range e.configs {
			switch e.Status(i).Mode {
			case "leader", "follower", "standalone":
				serving++
			}
		}
		return serving == len(e.configs), nil
	})
	if err == nil {
		time.Sleep(SettleAfterSync)
		return
	}
	e.t.Fatalf("zktest: not every server serves within 60s; logs under %s", filepath.Dir(e.configs[0].Dir))
}

// SettleAfterSync is how long WaitAllServing waits after the last server
// rejoined. ZooKeeper 3.8.0 (Debian's) persists what a follower learns in
// its sync asynchronously: a crash of that follower, or of the leader,
// moments later can lose committed transactions (ZOOKEEPER-4646,
// ZOOKEEPER-4643, ZOOKEEPER-4785, fixed in 3.9). Tests that kill servers one
// after another wait this long between faults, so that they judge zkctl's
// roles rather than that window.
const SettleAfterSync = time.Second

func (e *Ensemble) stopAll() {
	for _, c := range e.configs {
		_, _ = node.SignalZooKeeper(node.Layout{Dir: c.Dir}, syscall.SIGKILL, 0)
	}
	for _, c := range e.configs {
		if p, err := node.Inspect(node.Layout{Dir: c.Dir}, node.ZooKeeperName); err == nil {
			waitGone(p)
		}
	}
}

func waitGone(p node.Proc) { node.WaitExit(p, 5*time.Second) }

// FreePorts returns n distinct TCP ports that were free on 127.0.0.1, each
// reserved for the test: an exclusive flock on PortLockDir/<port>.lock,
// held until the test ends, keeps every other test process that asks
// FreePorts (the packages of `go test ./...` run in parallel) from being
// handed the same port between its release here and the server's bind.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	if err := os.MkdirAll(PortLockDir, 0o777); err != nil {
		t.Fatalf("zktest: port locks: %v", err)
	}
	_ = os.Chmod(PortLockDir, 0o777|os.ModeSticky)
	var ls []net.Listener
	var ports []int
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l) // held until every port is chosen: never handed out twice here
		port := l.Addr().(*net.TCPAddr).Port
		lock, err := os.OpenFile(filepath.Join(PortLockDir, fmt.Sprintf("%d.lock", port)), os.O_RDWR|os.O_CREATE, 0o666)
		if err != nil {
			t.Fatalf("zktest: port lock: %v", err)
		}
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			lock.Close() // another test holds it: take another port
			continue
		}
		t.Cleanup(func() { lock.Close() }) // the lock files stay: removing one another process opened would split the lock
		ports = append(ports, port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// PortLockDir holds the port reservations of FreePorts, shared by every
// test process on this machine.
const PortLockDir = "/tmp/zkctl-test-ports"
