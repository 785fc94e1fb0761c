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
	lab := testlab.NewVMs(t, testlab.VMOptions{Profiles: []testlab.Profile{testlab.Fresh, testlab.Fresh, testlab.Fresh}})
	path := lab.WriteInventory(t, "[zookeeper]\ninstall = \"apt\"\n")
	bin := buildbin.Path(t)
	for _, what := range []string{"first deploy to three fresh hosts, apt included", "re-deploy with nothing changed"} {
		c, out := newCluster(t, path)
		start := time.Now()
		res, err := c.Deploy(context.Background(), deploy.DeployOptions{Binary: bin})
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, out)
		}
		t.Logf("BENCH %s: %v (%s: %s)", what, time.Since(start).Round(time.Millisecond), res[0].Host, res[0].ZooKeeper)
	}
}
