package deploy_test

import (
	"context"
	"os"
	"testing"
	"time"

	"zkctl/deploy"
	"zkctl/internal/buildbin"
	"zkctl/internal/testlab"
)

// TestBenchFreshDeploy measures (for BENCHMARKS.md) the first deploy to
// three fresh hosts with apt, and a re-deploy with nothing changed. It
// installs a JRE three times, so it runs only with ZKCTL_BENCH=1.
func TestBenchFreshDeploy(t *testing.T) {
	if os.Getenv("ZKCTL_BENCH") == "" {
		t.Skip("set ZKCTL_BENCH=1 to measure the first deploy to three fresh hosts")
	}
	bin := buildbin.Path(t)
	fresh := []testlab.Profile{testlab.Fresh, testlab.Fresh, testlab.Fresh}
	t.Run("apt", func(t *testing.T) {
		lab := testlab.NewVMs(t, testlab.VMOptions{Profiles: fresh})
		benchDeploys(t, lab.WriteInventory(t, "[zookeeper]\ninstall = \"apt\"\n"), bin, "apt: Java and ZooKeeper")
	})
	t.Run("tarball", func(t *testing.T) {
		lab := testlab.NewVMs(t, testlab.VMOptions{Profiles: fresh})
		tarball := buildRelease(t, t.TempDir(), "3.8.0", true)
		benchDeploys(t, lab.WriteInventory(t, "[zookeeper]\ninstall = \"apt\"\ntarball = \""+tarball+"\"\n"), bin, "release tarball, apt: Java")
	})
}

// benchDeploys times a first deploy and a re-deploy with nothing changed.
func benchDeploys(t *testing.T, path, bin, what string) {
	for _, run := range []string{"first deploy to three fresh hosts", "re-deploy with nothing changed"} {
		c, out := newCluster(t, path)
		start := time.Now()
		res, err := deploy.Deploy(context.Background(), c, deploy.DeployOptions{Binary: bin})
		if err != nil {
			t.Fatalf("%s: %v\n%s", run, err, out)
		}
		t.Logf("BENCH %s (%s): %v (%s: %s)", run, what, time.Since(start).Round(time.Millisecond), res[0].Host, res[0].ZooKeeper)
	}
}
