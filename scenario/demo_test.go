package scenario_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zkctl/internal/testlab"
	"zkctl/scenario"
)

// TestDemoNetwork is `make demo`'s second half, not part of the test
// suite: with ZKCTL_DEMO_REPORT=FILE it sets up three network-namespace
// hosts the way TestSSH does, deploys to them, runs the scenarios that need
// hosts with their own addresses (and the register check, with partitions)
// and writes their report to FILE. Without root it skips, saying why.
//
// ZKCTL_DEMO_TICK and ZKCTL_DEMO_SESSION replace the lab's timings (500 ms,
// 3 s) and ZKCTL_DEMO_SCENARIOS (names separated by spaces) the scenarios:
// `make net-2s` runs three of them at ZooKeeper's default 2 s tick.
func TestDemoNetwork(t *testing.T) {
	path := os.Getenv("ZKCTL_DEMO_REPORT")
	if path == "" {
		t.Skip("make demo's network scenarios: set ZKCTL_DEMO_REPORT=FILE")
	}
	tm := labTimings
	if tick, session := os.Getenv("ZKCTL_DEMO_TICK"), os.Getenv("ZKCTL_DEMO_SESSION"); tick != "" || session != "" {
		if tick == "" || session == "" {
			t.Fatal("set both ZKCTL_DEMO_TICK and ZKCTL_DEMO_SESSION, or neither")
		}
		tm = fmt.Sprintf("[cluster]\ntick_time = %q\nsession_timeout = %q\n", tick, session)
	}
	path, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	lab := testlab.New(t, 3)
	t.Cleanup(func() {
		for i := range lab.Hosts {
			lab.KillNamespaceProcs(i)
		}
	})
	c := deployed(t, lab.WriteInventory(t, tm))
	t.Cleanup(func() { noRulesLeft(t, lab) })
	names := []string{"master-partition", "zk-leader-partition", "worker-partition", "partition-flap", "slow-network", "linearizable"}
	if s := strings.Fields(os.Getenv("ZKCTL_DEMO_SCENARIOS")); len(s) > 0 {
		names = s
	}
	scs, err := scenario.Select(names)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rn := &scenario.Runner{Cluster: c, Out: os.Stdout, Artifacts: filepath.Dir(path)}
	results := rn.Run(context.Background(), scs)
	took := time.Since(start)
	scenario.PrintSummary(os.Stdout, results, took)
	rp := &scenario.Report{Results: results, Inventory: c.Inv, Took: took, Generated: time.Now(),
		Command: fmt.Sprintf("make demo (network-namespace hosts; tick_time %v, session_timeout %v): zkctl scenario %s",
			c.Inv.Cluster.TickTime, c.Inv.Cluster.SessionTimeout, strings.Join(names, " "))}
	if err := rp.Write(path); err != nil {
		t.Fatalf("report: %v", err)
	}
	t.Logf("report: %s", path)
	for _, r := range results {
		if !r.Passed() {
			t.Errorf("%s: %s", r.Scenario.Name, r.Verdict())
		}
	}
}
