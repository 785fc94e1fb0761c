package deploy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/deploy"
	"zkctl/deploy/inventory"
	"zkctl/history"
	"zkctl/internal/buildbin"
	"zkctl/internal/testlab"
	"zkctl/node"
	"zkctl/node/wire"
	"zkctl/ops"
)

// TestRollSSH runs rolls on one lab of four namespace hosts over SSH (three
// servers and a role-only host, later an observer), a client writing all
// the time in each: `restart zookeeper` and its refusals, deploy applying
// a changed configuration (--dry-run, --no-restart, some servers down,
// --force), a server that does not come back, SIGINT during a roll, and
// adding an observer (refused while the ensemble runs).
func TestRollSSH(t *testing.T) {
	lab := testlab.New(t, 4)
	t.Cleanup(func() {
		for i := range lab.Hosts {
			lab.KillNamespaceProcs(i)
		}
	})
	inv := labInventory(t, lab, "200ms", `zookeeper = false`)
	c, out := newCluster(t, inv)
	t.Cleanup(func() { _ = c.StopAll(context.Background()) })
	ctx := context.Background()
	freshEnsemble(t, c)

	t.Run("a role-only host runs roles and no server", func(t *testing.T) {
		roleOnlyHost(t, c)
	})
	t.Run("restart zookeeper HOST… rolls them, leader last", func(t *testing.T) {
		out.Reset()
		leader, follower := leaderOf(t, c), followerOf(t, c)
		a, took := rollWatched(t, c, deploy.RollOptions{Hosts: []string{leader, follower}})
		a.check(t, "roll of a leader and a follower")
		t.Logf("roll of a leader and a follower took %v", took.Round(time.Millisecond))
		if order := restartOrder(out.String()); len(order) != 2 || order[0] != follower || order[1] != leader {
			t.Errorf("restart order %v, want %s then the leader %s\n%s", order, follower, leader, out)
		}
	})
	t.Run("refused with a server down or without quorum", func(t *testing.T) {
		refusals(t, c)
	})
	t.Run("deploy --dry-run prints the plan and changes nothing", func(t *testing.T) {
		c2, out2 := newCluster(t, labInventory(t, lab, "300ms", `zookeeper = false`))
		before, pids := nodeFiles(t, c), serverPids(t, c)
		if _, err := c2.Deploy(ctx, deploy.DeployOptions{Binary: buildbin.Path(t), DryRun: true}); err != nil {
			t.Fatalf("dry run: %v", err)
		}
		for _, want := range []string{"-tickTime=200", "+tickTime=300", "conf/zoo.cfg (in force)", "roll, one at a time: ", "write conf/node.json", "zkctl up to date"} {
			if !strings.Contains(out2.String(), want) {
				t.Errorf("dry run output lacks %q:\n%s", want, out2)
			}
		}
		if after := nodeFiles(t, c); after != before || !equalPids(pids, serverPids(t, c)) {
			t.Errorf("the dry run changed something")
		}
		out.Reset()
		if _, err := c.Deploy(ctx, deploy.DeployOptions{Binary: buildbin.Path(t), DryRun: true}); err != nil {
			t.Fatalf("dry run: %v", err)
		}
		if n := strings.Count(out.String(), "server configuration unchanged"); n != 3 || !strings.Contains(out.String(), "no server needs a restart") {
			t.Errorf("a dry run of the deployed inventory finds %d of 3 servers unchanged:\n%s", n, out)
		}
	})
	t.Run("deploy applies a changed tick by a roll", func(t *testing.T) {
		c2, out2 := newCluster(t, labInventory(t, lab, "300ms", `zookeeper = false`))
		a, _ := watched(t, c2, func() error {
			_, err := c2.Deploy(ctx, deploy.DeployOptions{Binary: buildbin.Path(t)})
			return err
		})
		a.check(t, "deploy rolling a new tick")
		if order := restartOrder(out2.String()); len(order) != 3 {
			t.Errorf("deploy restarted %v, want every server\n%s", order, out2)
		}
		checkTick(t, c2, 300)
	})
	t.Run("--no-restart and servers down leave the roll pending; --force applies it", func(t *testing.T) {
		pendingThenForce(t, lab)
	})
	t.Run("a server that does not come back stops the roll", func(t *testing.T) {
		notBack(t, c, out)
	})
	t.Run("SIGINT during a roll never leaves two servers down", func(t *testing.T) {
		interrupted(t, c, out)
	})
	t.Run("an observer: refused on the running ensemble, then rolled", func(t *testing.T) {
		observer(t, lab)
	})
}

// labInventory is the lab's inventory with tick_time tick (a session
// timeout of ten ticks) and vm4's extra line (zookeeper = false, observer
// = true).
func labInventory(t *testing.T, lab *testlab.Lab, tick, vm4 string) string {
	t.Helper()
	d, err := time.ParseDuration(tick)
	if err != nil {
		t.Fatal(err)
	}
	text := lab.Inventory(fmt.Sprintf("[cluster]\ntick_time = %q\nsession_timeout = %q\n", tick, (10 * d).String()))
	return writeInventoryFile(t, strings.Replace(text, "name = \"vm4\"\n", "name = \"vm4\"\n"+vm4+"\n", 1))
}

// roleOnlyHost: status shows vm4 as role-only, no server starts there, and
// a worker on it registers with the ensemble.
func roleOnlyHost(t *testing.T, c *deploy.Cluster) {
	ctx := context.Background()
	st := c.Status(ctx)
	if len(st.Servers) != 4 || st.Servers[3].Mode != "role-only" || !st.Servers[3].RoleOnly {
		t.Fatalf("status of vm4: %+v, want role-only", st.Servers)
	}
	var buf strings.Builder
	if err := deploy.PrintStatus(&buf, st, false); err != nil || !strings.Contains(buf.String(), "role-only") {
		t.Errorf("status table does not show vm4 role-only (%v):\n%s", err, buf.String())
	}
	if _, err := (ops.StartServer{Host: "vm4"}).Run(ctx, c); !errors.Is(err, wire.ErrNoServer) {
		t.Errorf("start zookeeper vm4: %v, want refused (no server on a role-only host)", err)
	}
	rec, err := (ops.Start{Role: "worker", Host: "vm4", ID: "vm4-w1"}).Run(ctx, c)
	if err != nil {
		t.Fatalf("start worker vm4: %v (%+v)", err, rec)
	}
	err = c.WithConn(ctx, func(conn *zk.Conn) error {
		return ops.Poll(ctx, 100*time.Millisecond, 20*time.Second, "vm4's worker", ops.WorkerAlive(conn, "vm4-w1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (ops.Signal{Role: "worker", Host: "vm4", Signal: syscall.SIGTERM}).Run(ctx, c); err != nil {
		t.Fatal(err)
	}
}

// refusals: a roll with a server down is refused naming it and the state
// (nothing restarted); without quorum it is refused even with --force.
func refusals(t *testing.T, c *deploy.Cluster) {
	ctx := context.Background()
	victim := followerOf(t, c)
	if _, err := (ops.Signal{Role: "zookeeper", Host: victim, Signal: syscall.SIGKILL}).Run(ctx, c); err != nil {
		t.Fatal(err)
	}
	pids := serverPids(t, c)
	err := c.Roll(ctx, deploy.RollOptions{})
	if !errors.Is(err, deploy.ErrRollRefused) || !strings.Contains(err.Error(), victim+" not serving") || !strings.Contains(err.Error(), victim+"=down") {
		t.Fatalf("roll with %s down: %v, want refused naming it with the state", victim, err)
	}
	leader := leaderOf(t, c)
	for _, h := range c.Inv.ServerHosts() {
		if h.Name != leader && h.Name != victim {
			if _, err := (ops.StopServer{Host: h.Name}).Run(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = c.Roll(ctx, deploy.RollOptions{Force: true})
	if !errors.Is(err, deploy.ErrRollRefused) || !strings.Contains(err.Error(), "no quorum: ") || !strings.Contains(err.Error(), "of 3 voting servers serve, 2 needed") {
		t.Fatalf("roll without quorum: %v, want refused", err)
	}
	if p := serverPids(t, c)[leader]; p != pids[leader] {
		t.Errorf("a refused roll restarted the leader %s", leader)
	}
	startAll(t, c)
}

// pendingThenForce: deploy --no-restart leaves a roll pending (status says
// so); deploy with a server down restarts nothing and names --force;
// restart --force starts the down server first and applies the rest.
func pendingThenForce(t *testing.T, lab *testlab.Lab) {
	ctx := context.Background()
	c, out := newCluster(t, labInventory(t, lab, "250ms", `zookeeper = false`))
	pids := serverPids(t, c)
	if _, err := c.Deploy(ctx, deploy.DeployOptions{Binary: buildbin.Path(t), NoRestart: true}); err != nil {
		t.Fatal(err)
	}
	if !equalPids(pids, serverPids(t, c)) || !strings.Contains(out.String(), "--no-restart: a roll is pending on vm1, vm2, vm3") {
		t.Fatalf("--no-restart restarted servers or did not say the roll is pending:\n%s", out)
	}
	var buf strings.Builder
	if err := deploy.PrintStatus(&buf, c.Status(ctx), false); err != nil || strings.Count(buf.String(), "roll pending") != 3 || !strings.Contains(buf.String(), "a roll is pending: vm1, vm2, vm3") {
		t.Errorf("status does not show the pending roll (%v):\n%s", err, buf.String())
	}
	victim := followerOf(t, c)
	if _, err := (ops.StopServer{Host: victim}).Run(ctx, c); err != nil {
		t.Fatal(err)
	}
	c2, out2 := newCluster(t, labInventory(t, lab, "200ms", `zookeeper = false`))
	if _, err := c2.Deploy(ctx, deploy.DeployOptions{Binary: buildbin.Path(t)}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out2.String(), victim+" not serving: the files are written, no server was restarted; zkctl restart zookeeper --force") {
		t.Errorf("deploy with %s down does not name --force:\n%s", victim, out2)
	}
	if after := serverPids(t, c2); len(after) != 2 {
		t.Errorf("deploy with a server down restarted servers: %v, then %v", pids, after)
	}
	out2.Reset()
	a, _ := rollWatched(t, c2, deploy.RollOptions{Force: true})
	a.check(t, "forced roll")
	if order := restartOrder(out2.String()); len(order) != 3 || order[0] != victim {
		t.Errorf("forced roll order %v, want %s first", order, victim)
	}
	checkTick(t, c2, 200)
}

// notBack: a server that cannot start (its epoch file damaged) stops the
// roll at it, named with the end of its log; the servers after it are
// untouched and the ensemble keeps its quorum.
func notBack(t *testing.T, c *deploy.Cluster, out *bytes.Buffer) {
	ctx := context.Background()
	plan, err := c.PlanRoll(ctx, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	first := plan.Steps[0].Host
	epoch := filepath.Join(first.Dir, "data", "version-2", "currentEpoch")
	good, err := os.ReadFile(epoch)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(epoch, []byte("not a number\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pids := serverPids(t, c)
	out.Reset()
	err = c.Roll(ctx, deploy.RollOptions{})
	if err := os.WriteFile(epoch, good, 0o644); err != nil {
		t.Fatal(err)
	}
	msg := fmt.Sprint(err)
	if err == nil || !strings.Contains(msg, "roll stopped at "+first.Name+" (1 of 3)") || !strings.Contains(msg, "the end of its log") ||
		!strings.Contains(msg, "not restarted: "+strings.Join(plan.Hosts()[1:], ", ")) {
		t.Fatalf("roll with %s unable to start: %v", first.Name, err)
	}
	t.Logf("the roll's error:\n%s", msg)
	for _, h := range plan.Steps[1:] {
		if serverPids(t, c)[h.Host.Name] != pids[h.Host.Name] {
			t.Errorf("%s was restarted after the roll stopped", h.Host.Name)
		}
	}
	if err := c.Roll(ctx, deploy.RollOptions{Hosts: []string{first.Name}, Force: true}); err != nil {
		t.Fatalf("restart --force of the repaired %s: %v", first.Name, err)
	}
}

// interrupted: cancelling a roll (SIGINT) while a server rejoins leaves it
// starting and every other server up; the roll says so.
func interrupted(t *testing.T, c *deploy.Cluster, out *bytes.Buffer) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out.Reset()
	stop := watchDown(t, c.Inv.ServerHosts())
	done := make(chan error, 1)
	go func() { done <- c.Roll(ctx, deploy.RollOptions{}) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "restarted (pid ") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	err := <-done
	stop()
	if err == nil || !strings.Contains(err.Error(), "interrupted while") || !strings.Contains(err.Error(), "no other server was taken out") {
		t.Fatalf("interrupted roll: %v", err)
	}
	if n := len(serverPids(t, c)); n != 3 {
		t.Fatalf("%d servers running after the interrupted roll, want 3", n)
	}
	if err := c.WaitQuorum(context.Background(), c.Inv.ServerHosts(), time.Minute); err != nil {
		t.Fatal(err)
	}
}

// observer: adding an observer to the running ensemble is refused before
// anything is written; after a stop, deploy and reset it observes (status
// shows it, zoo.cfg says so) and a roll takes it after the followers.
func observer(t *testing.T, lab *testlab.Lab) {
	ctx := context.Background()
	c, out := newCluster(t, labInventory(t, lab, "200ms", `observer = true`))
	before := nodeFiles(t, c)
	_, err := c.Deploy(ctx, deploy.DeployOptions{Binary: buildbin.Path(t)})
	if err == nil || !strings.Contains(err.Error(), "adding or removing servers of a running ensemble is not supported") {
		t.Fatalf("adding an observer to the running ensemble: %v", err)
	}
	if nodeFiles(t, c) != before {
		t.Fatal("the refused deploy wrote files")
	}
	freshEnsemble(t, c)
	cfg, _ := os.ReadFile(filepath.Join(lab.Hosts[3].Dir, "conf", "zoo.cfg"))
	if !strings.Contains(string(cfg), "peerType=observer\n") || !strings.Contains(string(cfg), ":observer\n") {
		t.Errorf("vm4's zoo.cfg:\n%s", cfg)
	}
	if st := c.Status(ctx); st.Servers[3].Mode != "observer" || !st.Servers[3].Observer {
		t.Errorf("vm4 in status: %+v, want observer", st.Servers[3])
	}
	out.Reset()
	leader, follower := leaderOf(t, c), followerOf(t, c)
	a, took := rollWatched(t, c, deploy.RollOptions{Hosts: []string{leader, "vm4", follower}})
	a.check(t, "roll of a leader, an observer and a follower")
	t.Logf("roll of a leader, an observer and a follower took %v", took.Round(time.Millisecond))
	if order := restartOrder(out.String()); !slices.Equal(order, []string{follower, "vm4", leader}) {
		t.Errorf("roll order %v, want %s, the observer vm4, then the leader %s", order, follower, leader)
	}
	h, err := history.Observing(c.Inv.ObserverNames()...)(c.TxnLogs(ctx, c.Inv.ServerHosts()))
	if err != nil {
		t.Fatalf("history with an observer: %v", err)
	}
	if len(h.Txns) == 0 {
		t.Error("empty history")
	}
}

// watched runs fn while a client writes and a watcher checks that no two
// servers are down at once.
func watched(t *testing.T, c *deploy.Cluster, fn func() error) (availability, time.Duration) {
	t.Helper()
	w := startWriter(t, c)
	stop := watchDown(t, c.Inv.ServerHosts())
	start := time.Now()
	err := fn()
	took := time.Since(start)
	stop()
	a := w.finish()
	if err != nil {
		t.Fatal(err)
	}
	return a, took
}

// checkTick asks every server for conf: tickTime must be tick ms, and no
// roll pending.
func checkTick(t *testing.T, c *deploy.Cluster, tick int) {
	t.Helper()
	for _, s := range c.Status(context.Background()).Servers {
		if s.Pending {
			t.Errorf("%s: roll still pending", s.Host)
		}
	}
	for _, h := range c.Inv.ServerHosts() {
		conf, err := node.FourLetter(h.ClientAddr(), "conf", 2*time.Second)
		if err != nil || !strings.Contains(conf, fmt.Sprintf("tickTime=%d\n", tick)) {
			t.Errorf("%s: conf %v:\n%s", h.Name, err, conf)
		}
	}
}

// nodeFiles is every host's conf/node.json and conf/zoo.cfg, concatenated.
func nodeFiles(t *testing.T, c *deploy.Cluster) string {
	t.Helper()
	var b strings.Builder
	for _, h := range c.Inv.Hosts {
		for _, f := range []string{"node.json", "zoo.cfg"} {
			data, _ := os.ReadFile(filepath.Join(h.Dir, "conf", f))
			b.Write(data)
		}
	}
	return b.String()
}

// rollWatched runs a roll while a client writes and a watcher checks that
// no two servers' processes are ever down at once.
func rollWatched(t *testing.T, c *deploy.Cluster, opts deploy.RollOptions) (availability, time.Duration) {
	t.Helper()
	return watched(t, c, func() error { return c.Roll(context.Background(), opts) })
}

// watchDown checks every 20 ms, from the hosts' pidfiles, that at most one
// server process is gone; the returned func stops it.
func watchDown(t *testing.T, servers []inventory.Host) func() {
	var wg sync.WaitGroup
	done := make(chan struct{})
	var worst []string
	wg.Go(func() {
		for {
			var gone []string
			for _, h := range servers {
				if p, err := node.Inspect(node.Layout{Dir: h.Dir}, node.ZooKeeperName); err != nil || !p.Alive() {
					gone = append(gone, h.Name)
				}
			}
			if len(gone) > len(worst) {
				worst = gone
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		if len(worst) > 1 {
			t.Errorf("servers down at once during the roll: %v", worst)
		}
	}
}

// restartOrder reads the hosts of "restarted (pid …)" lines from a roll's output.
func restartOrder(out string) []string {
	var order []string
	for _, line := range strings.Split(out, "\n") {
		if host, rest, ok := strings.Cut(line, ": restarted (pid "); ok && rest != "" {
			order = append(order, strings.TrimSpace(host))
		}
	}
	return order
}

func leaderOf(t *testing.T, c *deploy.Cluster) string { t.Helper(); return serverIn(t, c, "leader") }
func followerOf(t *testing.T, c *deploy.Cluster) string {
	t.Helper()
	return serverIn(t, c, "follower")
}

// serverIn is the first server whose srvr mode is mode.
func serverIn(t *testing.T, c *deploy.Cluster, mode string) string {
	t.Helper()
	for _, h := range c.Inv.ServerHosts() {
		if c.QueryServer(h, time.Second).Mode == mode {
			return h.Name
		}
	}
	t.Fatalf("no %s", mode)
	return ""
}

// freshEnsemble stops everything, deploys and resets: a new ensemble as
// c's inventory describes it.
func freshEnsemble(t *testing.T, c *deploy.Cluster) {
	t.Helper()
	ctx := context.Background()
	if err := c.StopAll(ctx); err != nil {
		t.Logf("stop before the deploy (nothing to stop on hosts never deployed): %v", err)
	}
	if _, err := c.Deploy(ctx, deploy.DeployOptions{Binary: buildbin.Path(t)}); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatalf("reset: %v", err)
	}
}

// serverPids are the servers' pids by host, from their pidfiles.
func serverPids(t *testing.T, c *deploy.Cluster) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, h := range c.Inv.ServerHosts() {
		if p, err := node.Inspect(node.Layout{Dir: h.Dir}, node.ZooKeeperName); err == nil && p.Alive() {
			out[h.Name] = p.PID
		}
	}
	return out
}

func equalPids(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// startAll starts every server and waits for quorum.
func startAll(t *testing.T, c *deploy.Cluster) {
	t.Helper()
	servers := c.Inv.ServerHosts()
	if err := c.StartZooKeeper(context.Background(), servers); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitQuorum(context.Background(), servers, time.Minute); err != nil {
		t.Fatal(err)
	}
}
