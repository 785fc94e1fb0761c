package scenario_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zkctl/controller"
	"zkctl/deploy"
	"zkctl/deploy/inventory"
	"zkctl/internal/buildbin"
	"zkctl/internal/testlab"
	"zkctl/internal/zktest"
	"zkctl/node"
	"zkctl/scenario"
)

const timings = zktest.Timings

// labTimings is the [cluster] table of the SSH lab (TestSSH, make demo): a
// 500 ms tick and a 3 s session timeout, a valid inventory a user writes
// (DESIGN.md's example is 500 ms and 4 s), where a cut-off server notices
// only after syncLimit × tickTime = 5 s, past the session timeout.
const labTimings = "[cluster]\ntick_time = \"500ms\"\nsession_timeout = \"3s\"\n"

func localInventory(t *testing.T) string { return zktest.LocalInventory(t, 3) }

// deployed loads the inventory, deploys the freshly built binary to it and
// registers the cleanup that stops every process by pid.
func deployed(t *testing.T, path string) *controller.Cluster {
	t.Helper()
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c := controller.NewCluster(inv, controller.NewUI(io.Discard), nil)
	t.Cleanup(c.Close)
	t.Cleanup(func() { _ = deploy.StopAll(context.Background(), c) })
	if _, err := deploy.Deploy(context.Background(), c, deploy.DeployOptions{Binary: buildbin.Path(t)}); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	return c
}

// runAll runs the named scenarios, writes their report and fails the test
// for every scenario that did not pass.
func runAll(t *testing.T, c *controller.Cluster, names ...string) {
	t.Helper()
	scs, err := scenario.Select(names)
	if err != nil {
		t.Fatal(err)
	}
	scs, skipped := scenario.Runnable(context.Background(), c, scs)
	for _, s := range skipped {
		t.Logf("skipped %s: %s", s.Scenario.Name, s.Reason)
	}
	var progress bytes.Buffer
	start := time.Now()
	results := (&scenario.Runner{Cluster: c, Out: &progress}).Run(context.Background(), scs)
	took := time.Since(start)
	scenario.PrintSummary(&progress, results, took)
	t.Logf("scenarios %v in %v:\n%s", names, took.Round(time.Second), progress.String())
	report := filepath.Join(t.TempDir(), "report.md")
	rp := &scenario.Report{Results: results, Inventory: c.Inv, Took: took, Generated: time.Now(), Command: "test", Skipped: skipped}
	if err := rp.Write(report); err != nil {
		t.Fatalf("report: %v", err)
	}
	checkReport(t, report, results)
	if len(results) != len(scs) {
		t.Fatalf("%d of %d scenarios ran", len(results), len(scs))
	}
	for _, r := range results {
		if !r.Passed() {
			t.Errorf("%s: %s: %s", r.Scenario.Name, r.Verdict(), strings.Join(r.Failed(), "; "))
		}
	}
}

// checkReport checks that the report has a section per scenario and that
// every timeline is well-formed SVG.
func checkReport(t *testing.T, path string, results []*scenario.Result) {
	t.Helper()
	md, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if !bytes.Contains(md, []byte("\n## "+r.Scenario.Name+"\n")) {
			t.Errorf("report has no section %s", r.Scenario.Name)
		}
		svg := strings.TrimSuffix(path, ".md") + "-" + r.Scenario.Name + ".svg"
		data, err := os.ReadFile(svg)
		if err != nil {
			t.Errorf("timeline: %v", err)
			continue
		}
		if err := wellFormed(data); err != nil {
			t.Errorf("%s: %v", svg, err)
		}
	}
}

func wellFormed(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// TestAllLocal runs `scenario all` on three local hosts.
func TestAllLocal(t *testing.T) {
	if in := node.Detect(""); in.Java == "" || in.ZooKeeperHome == "" {
		t.Skip("java or ZooKeeper missing: apt-get install -y default-jre-headless zookeeper")
	}
	c := deployed(t, localInventory(t))
	runAll(t, c, "all")
}

// TestSSH shares one lab of three network-namespace hosts, deployed once,
// between its parts (run one with -run 'TestSSH/NAME'): a frozen master
// and the ZooKeeper leader kill over SSH, the network
// fault operations, the network scenarios, an interrupted scenario, and
// the seeded partition fault test.
func TestSSH(t *testing.T) {
	lab := testlab.New(t, 3)
	t.Cleanup(func() {
		for i := range lab.Hosts {
			lab.KillNamespaceProcs(i)
		}
	})
	c := deployed(t, lab.WriteInventory(t, labTimings))
	t.Cleanup(func() { noRulesLeft(t, lab) })
	// c2w2m2 runs in TestAllLocal: its SIGKILL of a master goes the way
	// master-lag's SIGSTOP goes here (ops.Signal through the agent).
	t.Run("signals", func(t *testing.T) { runAll(t, c, "master-lag", "zk-leader-kill") })
	t.Run("netops", func(t *testing.T) { testNetOps(t, lab, c) })
	t.Run("netscenarios", func(t *testing.T) {
		runAll(t, c, "master-partition", "zk-leader-partition", "worker-partition", "partition-flap", "slow-network", "linearizable")
		noRulesLeft(t, lab)
	})
	t.Run("interrupt", func(t *testing.T) { testInterrupt(t, lab, c) })
	t.Run("chaos", func(t *testing.T) { testPartitionChaos(t, lab, c) })
}

// TestTooFewHosts: a scenario that cannot run says why and fails.
func TestTooFewHosts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inventory.toml")
	body := timings + "\n[[host]]\nname = \"vm1\"\ntransport = \"local\"\ndir = \"vm1\"\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c := controller.NewCluster(inv, controller.NewUI(io.Discard), nil)
	sc, _ := scenario.Lookup("c1w1m1")
	res := (&scenario.Runner{Cluster: c}).Run(context.Background(), []*scenario.Scenario{sc})
	if len(res) != 1 || res[0].Passed() || res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "needs 3 hosts") {
		t.Fatalf("want a failure that says 3 hosts are needed, got %+v", res[0].Err)
	}
}

func TestSelect(t *testing.T) {
	all, err := scenario.Select([]string{"all"})
	if err != nil || len(all) != 16 || len(all) != len(scenario.Names()) {
		t.Fatalf("all: %d scenarios, %v", len(all), err)
	}
	two, err := scenario.Select([]string{"master-lag", "c1w1m1", "master-lag"})
	if err != nil || len(two) != 2 || two[0].Name != "master-lag" {
		t.Fatalf("names: %v, %v", two, err)
	}
	_, err = scenario.Select([]string{"c1w1m1", "c9w9m9"})
	var ue *scenario.UnknownError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "zk-quorum-loss") {
		t.Fatalf("want an unknown-name error listing the names, got %v", err)
	}
}
