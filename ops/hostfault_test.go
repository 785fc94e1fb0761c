package ops_test

import (
	"context"
	"testing"

	"zkctl/controller"
	"zkctl/deploy"
	"zkctl/deploy/inventory"
	"zkctl/internal/buildbin"
	"zkctl/internal/zktest"
	"zkctl/node"
	"zkctl/ops"
)

// TestHostFaults freezes, thaws and crashes a local host that runs a
// ZooKeeper server and a worker, reading the processes' states back from
// the agent after each.
func TestHostFaults(t *testing.T) {
	if node.Detect("").ZooKeeperHome == "" {
		t.Skip("ZooKeeper missing: apt-get install -y zookeeper")
	}
	inv, err := inventory.Load(zktest.LocalInventory(t, 3))
	if err != nil {
		t.Fatal(err)
	}
	c := controller.NewCluster(inv, nil, nil)
	t.Cleanup(c.Close)
	ctx := context.Background()
	t.Cleanup(func() { _ = deploy.StopAll(context.Background(), c) })
	if _, err := deploy.Deploy(ctx, c, deploy.DeployOptions{Binary: buildbin.Path(t)}); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if err := deploy.Reset(ctx, c); err != nil {
		t.Fatalf("reset: %v", err)
	}
	j := ops.NewJournal(c)
	if _, err := j.Do(ctx, ops.Start{Role: "worker", Host: "vm1"}); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		op   ops.Op
		want string
	}{
		{ops.Freeze{Host: "vm1"}, node.StateStopped},
		{ops.Thaw{Host: "vm1"}, node.StateRunning},
		{ops.Crash{Host: "vm1"}, node.StateDead},
	} {
		rec, err := j.Do(ctx, step.op)
		if err != nil {
			t.Fatalf("%s: %v", step.op.Title(), err)
		}
		if len(rec.Procs) != 2 {
			t.Fatalf("%s: hit %d processes, want the server and the worker: %+v", rec.Title, len(rec.Procs), rec.Procs)
		}
		st := status(t, c, "vm1")
		for _, p := range append(st.Roles, st.ZooKeeper) {
			if p.State != step.want {
				t.Errorf("after %s: %s is %s, want %s", rec.Title, p.Name, p.State, step.want)
			}
		}
	}
	if n := len(j.Live()); n != 0 {
		t.Errorf("%d processes live in the journal after the crash", n)
	}
	if st := status(t, c, "vm2"); st.ZooKeeper.State != node.StateRunning {
		t.Errorf("vm2's server is %s: a host fault hit another host", st.ZooKeeper.State)
	}
}

func status(t *testing.T, c *controller.Cluster, host string) node.Status {
	t.Helper()
	hs, _ := c.Hosts(host)
	sts, err := c.Statuses(context.Background(), hs)
	if err != nil {
		t.Fatal(err)
	}
	return sts[host]
}
