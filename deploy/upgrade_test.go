package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/controller"
	"zkctl/deploy"
	"zkctl/deploy/inventory"
	"zkctl/internal/buildbin"
	"zkctl/internal/testlab"
	"zkctl/internal/zktest"
	"zkctl/internal/zkversions"
)

// TestUpgradeSSH moves a three-server ensemble on namespace hosts, over
// SSH, between ZooKeeper versions the way an operator would: change the
// inventory's [zookeeper] home, run deploy, which applies it by a roll.
// Debian's 3.8.0 → 3.9.3 → 3.9.6, then the way back to 3.8.0 (the line
// deleted). Three rolls, not four: the way back from 3.9.3 alone would be
// one more roll of the same kind, and the suite's time is counted. In each
// roll a client writes all the time (no failed write but retried
// connection losses, no expired session), status shows the ensemble mixed
// part-way and one version at the end, and the data is kept.
func TestUpgradeSSH(t *testing.T) {
	lab := testlab.New(t, 3)
	t.Cleanup(func() {
		for i := range lab.Hosts {
			lab.KillNamespaceProcs(i)
		}
	})
	homes := map[string]string{"3.8.0": ""} // Debian's package, on every host of this machine
	for _, v := range []zkversions.Version{zkversions.V393, zkversions.V396} {
		homes[v.Upstream] = zktest.ReleaseHome(t, v)
	}
	ctx := context.Background()
	c, _ := deployVersion(t, lab, "")
	if err := deploy.Reset(ctx, c); err != nil {
		t.Fatalf("reset: %v", err)
	}
	kept := writeKept(t, c, "before")
	checkVersions(t, c, "3.8.0")

	for i, to := range []string{"3.9.3", "3.9.6", "3.8.0"} {
		t.Run("to "+to, func(t *testing.T) {
			inv := lab.WriteInventory(t, timings+homeLine(homes[to]))
			c, out := newCluster(t, inv)
			w := startWriter(t, c)
			watcher, _ := newCluster(t, inv) // its own SSH connections
			stopWatch, sawMixed := watchMixed(watcher)
			start := time.Now()
			_, err := deploy.Deploy(ctx, c, deploy.DeployOptions{Binary: buildbin.Path(t)})
			took := time.Since(start)
			stopWatch()
			a := w.finish()
			if err != nil {
				t.Fatalf("deploy: %v\n%s", err, out)
			}
			a.check(t, "deploy to "+to)
			t.Logf("deploy to %s (its roll included) took %v", to, took.Round(time.Millisecond))
			if order := restartOrder(out.String()); len(order) != 3 {
				t.Errorf("deploy restarted %v, want every server once\n%s", order, out)
			}
			if !sawMixed() {
				t.Errorf("status never showed the ensemble mixed during the roll")
			}
			checkVersions(t, c, to)
			checkKept(t, c, kept)
			kept = append(kept, writeKept(t, c, fmt.Sprintf("after-%d-%s", i, to))...)
		})
	}
}

// homeLine is the inventory's [zookeeper] table naming home ("" for
// Debian's package): the one line an upgrade changes.
func homeLine(home string) string {
	if home == "" {
		return ""
	}
	return fmt.Sprintf("\n[zookeeper]\nhome = %q\n", home)
}

// deployVersion deploys the lab's inventory with home.
func deployVersion(t *testing.T, lab *testlab.Lab, home string) (*controller.Cluster, string) {
	t.Helper()
	c, out := newCluster(t, lab.WriteInventory(t, timings+homeLine(home)))
	t.Cleanup(func() { _ = deploy.StopAll(context.Background(), c) })
	if _, err := deploy.Deploy(context.Background(), c, deploy.DeployOptions{Binary: buildbin.Path(t)}); err != nil {
		t.Fatalf("deploy: %v\n%s", err, out)
	}
	return c, out.String()
}

// writeKept creates 20 znodes under /kept named after stage and returns
// their paths.
func writeKept(t *testing.T, c *controller.Cluster, stage string) []string {
	t.Helper()
	var paths []string
	err := c.WithConn(context.Background(), func(conn *zk.Conn) error {
		if _, err := conn.Create("/kept", nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return err
		}
		for i := range 20 {
			p := fmt.Sprintf("/kept/%s-%d", stage, i)
			if _, err := conn.Create(p, []byte(p), 0, zk.WorldACL(zk.PermAll)); err != nil {
				return fmt.Errorf("create %s: %w", p, err)
			}
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// checkKept reads every path back, with its data, from each server.
func checkKept(t *testing.T, c *controller.Cluster, paths []string) {
	t.Helper()
	for _, h := range c.Inv.ServerHosts() {
		conn, err := c.Connect(context.Background(), []inventory.Host{h})
		if err != nil {
			t.Fatalf("%s: connect: %v", h.Name, err)
		}
		var lost []string
		for _, p := range paths {
			if _, err := conn.Sync(p); err != nil {
				t.Errorf("%s: sync %s: %v", h.Name, p, err)
			}
			if data, _, err := conn.Get(p); err != nil || string(data) != p {
				lost = append(lost, fmt.Sprintf("%s (%q, %v)", p, data, err))
			}
		}
		conn.Close()
		if len(lost) > 0 {
			t.Errorf("%s: %d of %d znodes lost: %v", h.Name, len(lost), len(paths), lost)
		}
	}
}

// checkVersions wants every server to report version in srvr and status
// to show the ensemble unmixed.
func checkVersions(t *testing.T, c *controller.Cluster, version string) {
	t.Helper()
	cs := deploy.Status(context.Background(), c)
	want := map[string][]string{version: c.Inv.HostNames()}
	if cs.Mixed || !maps.EqualFunc(cs.Versions, want, slices.Equal) {
		var b strings.Builder
		_ = deploy.PrintStatus(&b, cs, false)
		t.Fatalf("versions %v (mixed %v), want %v\n%s", cs.Versions, cs.Mixed, want, b.String())
	}
}

// watchMixed polls status every second until stopped; sawMixed reports
// whether it ever showed a mixed ensemble.
func watchMixed(c *controller.Cluster) (stop func(), sawMixed func() bool) {
	var mu sync.Mutex
	mixed := false
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			m := deploy.Status(ctx, c).Mixed
			cancel()
			mu.Lock()
			mixed = mixed || m
			mu.Unlock()
			select {
			case <-done:
				return
			case <-time.After(time.Second):
			}
		}
	})
	return func() { close(done); wg.Wait() }, func() bool { mu.Lock(); defer mu.Unlock(); return mixed }
}
