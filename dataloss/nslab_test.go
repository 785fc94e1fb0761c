package dataloss

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"zkctl/controller"
	"zkctl/deploy"
	"zkctl/deploy/inventory"
	"zkctl/internal/buildbin"
	"zkctl/internal/testlab"
	"zkctl/internal/zktest"
)

// TestDataLossNamespaces runs each schedule once (seed 0) on each version
// on network-namespace hosts over SSH, as an operator's `zkctl dataloss`
// does on VMs, beside the suite (minutes, as root):
//
//	ZKCTL_DATALOSS_LAB=1 go test -count=1 -timeout 60m -run TestDataLossNamespaces -v ./dataloss
//
// One lab per schedule (its ensemble size); each version is deployed
// there by changing [zookeeper] home (a roll). ZKCTL_DATALOSS_VERSIONS and
// ZKCTL_DATALOSS_SCHEDULES choose as in TestDataLossTable;
// ZKCTL_DATALOSS_INTERVAL is the pause between two writes (Options.Interval).
func TestDataLossNamespaces(t *testing.T) {
	if os.Getenv("ZKCTL_DATALOSS_LAB") == "" {
		t.Skip("beside the suite: ZKCTL_DATALOSS_LAB=1 (see the README's \"Known ZooKeeper data-loss bugs\")")
	}
	versions, scs := cells(t)
	var interval time.Duration
	if v := os.Getenv("ZKCTL_DATALOSS_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("ZKCTL_DATALOSS_INTERVAL=%q: %v", v, err)
		}
		interval = d
	}
	var rows []Row
	for _, s := range scs {
		lab := testlab.New(t, s.Servers)
		t.Cleanup(func() {
			for i := range lab.Hosts {
				lab.KillNamespaceProcs(i)
			}
		})
		for _, v := range versions {
			c := labCluster(t, lab, zktest.ReleaseHome(t, v))
			start := time.Now()
			row := Row{Version: v.Upstream + " (namespaces)", Schedule: s.Name}
			row.Add(runWith(t, c, s, Options{Interval: interval}), time.Since(start))
			rows = append(rows, row)
			_ = deploy.StopAll(context.Background(), c)
		}
	}
	var b strings.Builder
	PrintTable(&b, rows)
	t.Logf("\n%s", b.String())
}

// labCluster deploys lab's inventory with ZooKeeper's release home zkHome.
func labCluster(t *testing.T, lab *testlab.Lab, zkHome string) *controller.Cluster {
	t.Helper()
	path := lab.WriteInventory(t, zktest.Timings+"\n[zookeeper]\nhome = "+tomlQuote(zkHome)+"\n")
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c := controller.NewCluster(inv, controller.NewUI(io.Discard), nil)
	t.Cleanup(c.Close)
	t.Cleanup(func() { _ = deploy.StopAll(context.Background(), c) })
	start := time.Now()
	if _, err := deploy.Deploy(context.Background(), c, deploy.DeployOptions{Binary: buildbin.Path(t)}); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	t.Logf("deployed %d namespace hosts (%s) in %v", len(lab.Hosts), zkHome, time.Since(start).Round(time.Millisecond))
	return c
}
