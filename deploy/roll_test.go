package deploy_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"zkctl/deploy"
	"zkctl/deploy/inventory"
	"zkctl/internal/buildbin"
	"zkctl/internal/testlab"
	"zkctl/node"
	"zkctl/ops"
)

// TestRollSSH runs rolls on one lab of namespace hosts over SSH, a client
// writing all the time in each: `restart zookeeper`, its refusals, --force,
// a server that does not come back, SIGINT, and deploy applying a changed
// configuration (--dry-run, --no-restart, the roll).
func TestRollSSH(t *testing.T) {
	lab := testlab.New(t, 3)
	t.Cleanup(func() {
		for i := range lab.Hosts {
			lab.KillNamespaceProcs(i)
		}
	})
	c, out := newCluster(t, lab.WriteInventory(t, timings))
	t.Cleanup(func() { _ = c.StopAll(context.Background()) })
	ctx := context.Background()
	if _, err := c.Deploy(ctx, deploy.DeployOptions{Binary: buildbin.Path(t)}); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatalf("reset: %v", err)
	}

	t.Run("restart zookeeper rolls every server, leader last", func(t *testing.T) {
		out.Reset()
		leader := leaderOf(t, c)
		a, took := rollWatched(t, c, deploy.RollOptions{})
		a.check(t, "roll of 3 servers")
		t.Logf("roll of 3 servers took %v", took.Round(time.Millisecond))
		order := restartOrder(out.String())
		if len(order) != 3 || order[2] != leader {
			t.Errorf("restart order %v, want the leader %s last\n%s", order, leader, out)
		}
	})
	t.Run("refused with a server down, --force starts it first", func(t *testing.T) {
		victim := followerOf(t, c)
		if _, err := (ops.Signal{Role: "zookeeper", Host: victim, Signal: syscall.SIGKILL}).Run(ctx, c); err != nil {
			t.Fatal(err)
		}
		pids := serverPids(t, c)
		err := c.Roll(ctx, deploy.RollOptions{})
		if !errors.Is(err, deploy.ErrRollRefused) || !strings.Contains(err.Error(), victim+" not serving") || !strings.Contains(err.Error(), victim+"=down") {
			t.Fatalf("roll with %s down: %v, want refused naming it with the state", victim, err)
		}
		if after := serverPids(t, c); !equalPids(pids, after) {
			t.Fatalf("a refused roll touched servers: %v, then %v", pids, after)
		}
		out.Reset()
		a, _ := rollWatched(t, c, deploy.RollOptions{Hosts: []string{leaderOf(t, c)}, Force: true})
		a.check(t, "forced roll")
		if order := restartOrder(out.String()); len(order) != 2 || order[0] != victim {
			t.Errorf("forced roll order %v, want %s first", order, victim)
		}
	})
	t.Run("refused without quorum", func(t *testing.T) {
		followers := []string{}
		for _, h := range c.Inv.Hosts {
			if h.Name != leaderOf(t, c) {
				followers = append(followers, h.Name)
			}
		}
		for _, f := range followers {
			if _, err := (ops.StopServer{Host: f}).Run(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		err := c.Roll(ctx, deploy.RollOptions{Force: true})
		if !errors.Is(err, deploy.ErrRollRefused) || !strings.Contains(err.Error(), "no quorum: 0 of 3 voting servers serve") {
			t.Fatalf("roll without quorum: %v, want refused", err)
		}
		startAll(t, c)
	})
}

// rollWatched runs a roll while a client writes and a watcher checks that
// no two servers' processes are ever down at once.
func rollWatched(t *testing.T, c *deploy.Cluster, opts deploy.RollOptions) (availability, time.Duration) {
	t.Helper()
	w := startWriter(t, c)
	stop := watchDown(t, c.Inv.ServerHosts())
	start := time.Now()
	err := c.Roll(context.Background(), opts)
	took := time.Since(start)
	stop()
	a := w.finish()
	if err != nil {
		t.Fatalf("roll: %v", err)
	}
	return a, took
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

func leaderOf(t *testing.T, c *deploy.Cluster) string {
	t.Helper()
	for _, h := range c.Inv.ServerHosts() {
		if c.QueryServer(h, time.Second).Mode == "leader" {
			return h.Name
		}
	}
	t.Fatal("no leader")
	return ""
}

func followerOf(t *testing.T, c *deploy.Cluster) string {
	t.Helper()
	for _, h := range c.Inv.ServerHosts() {
		if c.QueryServer(h, time.Second).Mode == "follower" {
			return h.Name
		}
	}
	t.Fatal("no follower")
	return ""
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
