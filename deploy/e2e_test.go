package deploy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"zkctl/deploy"
	"zkctl/deploy/inventory"
	"zkctl/internal/buildbin"
	"zkctl/internal/syncbuf"
	"zkctl/internal/testlab"
	"zkctl/internal/zktest"
	"zkctl/node"
	"zkctl/ops"
	"zkctl/roles"
	"zkctl/roles/protocol"
)

const timings = zktest.Timings

func localInventory(t *testing.T) string { return zktest.LocalInventory(t, 3) }

func newCluster(t *testing.T, path string) (*deploy.Cluster, *bytes.Buffer) {
	t.Helper()
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := deploy.NewCluster(inv, deploy.NewUI(&out), nil)
	t.Cleanup(c.Close)
	return c, &out
}

func TestDeployLocal(t *testing.T) {
	if node.Detect("").ZooKeeperHome == "" {
		t.Skip("ZooKeeper missing: apt-get install -y zookeeper")
	}
	c, _ := newCluster(t, localInventory(t))
	exerciseEnsemble(t, c)
}

func TestDeploySSH(t *testing.T) {
	lab := testlab.New(t, 3)
	c, _ := newCluster(t, lab.WriteInventory(t, timings))
	t.Cleanup(func() {
		for i := range lab.Hosts {
			lab.KillNamespaceProcs(i)
		}
	})
	exerciseEnsemble(t, c)
	exerciseRoles(t, c)
	followAndStop(t, c, lab)
	sequentialBaseline(t, lab)

	t.Run("changed host key is refused", func(t *testing.T) {
		lab.SwapHostKey(1)
		c2, _ := newCluster(t, lab.WriteInventory(t, timings)) // fresh connections
		_, err := c2.Deploy(context.Background(), deploy.DeployOptions{Binary: buildbin.Path(t)})
		var he *deploy.HostError
		if !errors.As(err, &he) || he.Host != "vm2" || !strings.Contains(err.Error(), "CHANGED") || !strings.Contains(err.Error(), "ssh-keygen -f") {
			t.Fatalf("want vm2 refused with the ssh-keygen -R fix, got %v", err)
		}
		if strings.Contains(err.Error(), "vm1:") || strings.Contains(err.Error(), "vm3:") {
			t.Fatalf("other hosts should deploy fine: %v", err)
		}
	})
	t.Run("unreachable host is named", func(t *testing.T) {
		lab.StopSSHD(2)
		c2, _ := newCluster(t, lab.WriteInventory(t, timings))
		_, err := c2.Deploy(context.Background(), deploy.DeployOptions{Binary: buildbin.Path(t)})
		if err == nil || !strings.Contains(err.Error(), "vm3: connect") || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("want vm3 connection refused, got %v", err)
		}
		lab.StartSSHD(2)
	})
}

// exerciseEnsemble deploys, resets, checks the ensemble, re-deploys, kills
// and restarts a follower.
func exerciseEnsemble(t *testing.T, c *deploy.Cluster) {
	ctx := context.Background()
	bin := buildbin.Path(t)
	t.Cleanup(func() { _ = c.StopAll(context.Background()) })

	first := time.Now()
	res, err := c.Deploy(ctx, deploy.DeployOptions{Binary: bin})
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	t.Logf("first deploy: %v", time.Since(first))
	for _, r := range res {
		if r.Binary != "pushed" {
			t.Errorf("%s: binary %q on first deploy, want pushed", r.Host, r.Binary)
		}
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatalf("reset: %v", err)
	}
	leader := checkModes(t, c)

	again := time.Now()
	fresh, _ := newCluster(t, c.Inv.Path) // a second `zkctl deploy`: new connections
	res, err = fresh.Deploy(ctx, deploy.DeployOptions{Binary: bin})
	if err != nil {
		t.Fatalf("re-deploy: %v", err)
	}
	t.Logf("re-deploy with nothing changed (new connections): %v", time.Since(again))
	for _, r := range res {
		if r.Binary != "skipped" || r.Bytes != 0 {
			t.Errorf("%s: re-deploy sent the binary (%q, %d bytes)", r.Host, r.Binary, r.Bytes)
		}
	}

	// A binary changed behind zkctl's back is noticed and replaced.
	f, err := os.OpenFile(deploy.AgentPath(c.Inv.Hosts[0]), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0})
	f.Close()
	res, err = c.Deploy(ctx, deploy.DeployOptions{Binary: bin})
	if err != nil {
		t.Fatalf("deploy after tampering: %v", err)
	}
	if res[0].Binary != "pushed" || res[1].Binary != "skipped" {
		t.Errorf("after tampering with %s's binary: %s %q, %s %q; want pushed, skipped", res[0].Host, res[0].Host, res[0].Binary, res[1].Host, res[1].Binary)
	}

	follower := c.Inv.Hosts[(leader+1)%3].Name
	if _, err := (ops.Signal{Role: "zookeeper", Host: follower, Signal: syscall.SIGKILL}).Run(ctx, c); err != nil {
		t.Fatalf("kill zookeeper %s: %v", follower, err)
	}
	st := c.Status(ctx)
	for _, s := range st.Servers {
		if s.Host == follower && s.Mode != "down" {
			t.Errorf("killed %s shows mode %q, want down", follower, s.Mode)
		}
		if s.Host == c.Inv.Hosts[leader].Name && s.Mode != "leader" {
			t.Errorf("leader %s lost its mode after a follower died: %q", s.Host, s.Mode)
		}
	}
	if st.App == nil {
		t.Errorf("two of three servers should still serve: %s", st.AppErr)
	}
	if _, err := (ops.StartServer{Host: follower}).Run(ctx, c); err != nil {
		t.Fatalf("start zookeeper %s: %v", follower, err)
	}
	if err := c.WaitQuorum(ctx, c.Inv.Hosts, time.Minute); err != nil {
		t.Fatalf("%s did not rejoin: %v", follower, err)
	}
}

// checkModes asks each server srvr directly: one leader, two followers.
func checkModes(t *testing.T, c *deploy.Cluster) int {
	t.Helper()
	leader, followers := -1, 0
	for i, h := range c.Inv.Hosts {
		switch m := node.QueryServer(h.ClientAddr(), 2*time.Second).Mode; m {
		case "leader":
			leader = i
		case "follower":
			followers++
		default:
			t.Fatalf("%s: mode %q", h.Name, m)
		}
	}
	if leader < 0 || followers != 2 {
		t.Fatalf("want one leader and two followers, got leader %d, %d followers", leader, followers)
	}
	return leader
}

// sequentialBaseline pushes the same binary with plain scp + ssh to each
// host in turn, the way one would by hand, for BENCHMARKS.md.
func sequentialBaseline(t *testing.T, lab *testlab.Lab) {
	opts := []string{"-i", lab.KeyFile, "-o", "UserKnownHostsFile=" + lab.KnownHosts, "-o", "BatchMode=yes"}
	start := time.Now()
	for _, h := range lab.Hosts {
		dst := "root@" + h.Addr + ":" + h.Dir + "/bin/zkctl.scp"
		if out, err := exec.Command("scp", append(opts, buildbin.Path(t), dst)...).CombinedOutput(); err != nil {
			t.Fatalf("scp to %s: %v\n%s", h.Name, err, out)
		}
		remote := "chmod +x " + h.Dir + "/bin/zkctl.scp && " + h.Dir + "/bin/zkctl.scp node info --dir " + h.Dir
		if out, err := exec.Command("ssh", append(opts, "root@"+h.Addr, remote)...).CombinedOutput(); err != nil {
			t.Fatalf("ssh to %s: %v\n%s", h.Name, err, out)
		}
	}
	t.Logf("sequential scp+ssh baseline: %v", time.Since(start))
}

// exerciseRoles runs masters on vm1 and vm2 and workers on vm2 and vm3,
// submits tasks from the controller, SIGKILLs the leading master with the
// code of `zkctl kill master HOST -s KILL`, and checks every task completes
// exactly once.
func exerciseRoles(t *testing.T, c *deploy.Cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, p := range []struct{ role, host string }{{"master", "vm1"}, {"master", "vm2"}, {"worker", "vm2"}, {"worker", "vm3"}} {
		if _, err := (ops.Start{Role: p.role, Host: p.host, Options: roles.Options{Concurrency: 2}}).Run(ctx, c); err != nil {
			t.Fatalf("start %s %s: %v", p.role, p.host, err)
		}
	}
	conn, err := c.Connect(ctx, c.Inv.Hosts)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	leader := waitMaster(t, c, "")
	names := make([]string, 30)
	for i := range names {
		names[i] = protocol.TaskName("e2e", i+1)
	}
	tasks, err := roles.Submit(ctx, conn, roles.ACL(""), names, "0.2")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	results := map[string]string{}
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		time.Sleep(time.Second) // let some tasks run
		if _, err := (ops.Signal{Role: "master", Host: leader, Signal: syscall.SIGKILL}).Run(ctx, c); err != nil {
			t.Errorf("kill master %s: %v", leader, err)
		}
	}()
	err = roles.Wait(ctx, conn, tasks, func(r roles.Result) {
		mu.Lock()
		defer mu.Unlock()
		results[r.Task] = r.Value
	})
	<-killed
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	for _, n := range names {
		if !strings.HasPrefix(results[n], "ok ") {
			t.Errorf("%s: result %q", n, results[n])
		}
	}
	if newLeader := waitMaster(t, c, leader); newLeader == leader {
		t.Fatalf("master still on %s after SIGKILL", leader)
	}
	var logs bytes.Buffer
	if err := c.Tail(ctx, c.Inv.Hosts, deploy.TailOptions{Role: "worker", Lines: 100000}, &logs); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if got := strings.Count(logs.String(), `msg="completed task `+n+`"`); got != 1 {
			t.Errorf("task %s completed %d times, want once", n, got)
		}
	}
}

// waitMaster waits for a /master on a host other than not and returns it.
func waitMaster(t *testing.T, c *deploy.Cluster, not string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if st := c.Status(context.Background()); st.App != nil && st.App.Master != nil && st.App.Master.Host != not {
			return st.App.Master.Host
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no master (other than %q) within 30s", not)
	return ""
}

// followAndStop runs `zkctl tail -f` over SSH, sees a new line arrive, and
// checks that the agents on the hosts exit once the controller stops.
func followAndStop(t *testing.T, c *deploy.Cluster, lab *testlab.Lab) {
	ctx, cancel := context.WithCancel(context.Background())
	var out syncbuf.Buffer
	done := make(chan error, 1)
	go func() { done <- c.Tail(ctx, c.Inv.Hosts, deploy.TailOptions{Lines: 0, Follow: true}, &out) }()
	// The agents start at their own pace (an SSH session each), and a file
	// that is already there when one starts is followed from its end: so the
	// line is written again until one copy lands after the start.
	logf := filepath.Join(lab.Hosts[1].Dir, "logs", "marker.log")
	f, err := os.OpenFile(logf, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "vm2 marker | hello from the test") && time.Now().Before(deadline) {
		if _, err := f.WriteString("hello from the test\n"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("tail -f: %v", err)
	}
	if !strings.Contains(out.String(), "vm2 marker | hello from the test") {
		t.Fatalf("tail -f did not show the new line:\n%s", out.String())
	}
	for deadline = time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		left := agentTails(lab)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("agents still tailing after the controller stopped: pids %v", left)
		}
	}
}

// agentTails lists the pids of `zkctl node tail` processes in the lab.
func agentTails(lab *testlab.Lab) []int {
	var pids []int
	for i := range lab.Hosts {
		for _, pid := range lab.NamespacePids(i) {
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if strings.Contains(string(cmdline), "node\x00tail") || strings.Contains(string(cmdline), "tail\x00-n") {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}
