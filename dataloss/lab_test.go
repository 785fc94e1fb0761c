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
	"zkctl/internal/zktest"
)

// localEnsemble deploys n local servers of ZooKeeper under zkHome ("" for
// Debian's package) and returns the cluster.
func localEnsemble(t *testing.T, n int, zkHome string) *controller.Cluster {
	t.Helper()
	path := zktest.LocalInventory(t, n)
	if zkHome != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteString("\n[zookeeper]\nhome = " + tomlQuote(zkHome) + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
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
	t.Logf("deployed %d local servers (%s) in %v", n, zkHome, time.Since(start).Round(time.Millisecond))
	return c
}

func tomlQuote(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

// runOne runs schedule name once on c and logs its report.
func runOne(t *testing.T, c *controller.Cluster, name string, seed int64) Result {
	t.Helper()
	scs, err := Lookup([]string{name})
	if err != nil {
		t.Fatal(err)
	}
	return runWith(t, c, scs[0], Options{Seed: seed})
}

// runWith runs s once on c with o and logs its report.
func runWith(t *testing.T, c *controller.Cluster, s Schedule, o Options) Result {
	t.Helper()
	o.Logf = t.Logf
	res := Run(context.Background(), c, s, o)
	var b strings.Builder
	PrintResult(&b, s, res)
	t.Logf("%s", b.String())
	if res.Err != nil {
		t.Fatalf("%s: %v", s.Name, res.Err)
	}
	return res
}
