package deploy_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"zkctl/deploy"
	"zkctl/internal/testlab"
)

// TestBenchRoll measures (for BENCHMARKS.md) a roll of 3 and of 5 servers
// on namespace hosts over SSH: its time, and the longest pause between
// two successful writes of a client writing all the time. It runs only
// with ZKCTL_BENCH=1:
//
//	ZKCTL_BENCH=1 go test -count=1 -run TestBenchRoll -v ./deploy
func TestBenchRoll(t *testing.T) {
	if os.Getenv("ZKCTL_BENCH") == "" {
		t.Skip("set ZKCTL_BENCH=1 to measure rolls of 3 and 5 servers")
	}
	lab := testlab.New(t, 5)
	t.Cleanup(func() {
		for i := range lab.Hosts {
			lab.KillNamespaceProcs(i)
		}
	})
	text := lab.Inventory(timings)
	three := strings.Replace(strings.Replace(text, "name = \"vm4\"\n", "name = \"vm4\"\nzookeeper = false\n", 1),
		"name = \"vm5\"\n", "name = \"vm5\"\nzookeeper = false\n", 1)
	for _, tc := range []struct {
		servers   int
		inventory string
	}{{3, three}, {5, text}} {
		path := writeInventoryFile(t, tc.inventory)
		c, out := newCluster(t, path)
		freshEnsemble(t, c)
		out.Reset()
		a, took := rollWatched(t, c, deploy.RollOptions{})
		a.check(t, "roll")
		t.Logf("BENCH roll of %d servers (tick %v): %v; longest write pause %v; %d writes, %d retried after a lost connection",
			tc.servers, c.Inv.Cluster.TickTime, took.Round(10*time.Millisecond), a.longest.Round(10*time.Millisecond), a.writes, a.retries)
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.Contains(line, "back as") {
				t.Log(line)
			}
		}
	}
}

// writeInventoryFile writes an inventory to a fresh temporary folder.
func writeInventoryFile(t *testing.T, text string) string {
	t.Helper()
	p := t.TempDir() + "/inventory.toml"
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
