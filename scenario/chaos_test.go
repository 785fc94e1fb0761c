package scenario_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"zkctl/controller"
	"zkctl/internal/testlab"
	"zkctl/scenario"
)

// testPartitionChaos runs the seeded partition fault test (seed from
// ZKCTL_CHAOS_SEED, default 1) for 40 s and requires every invariant.
func testPartitionChaos(t *testing.T, lab *testlab.Lab, c *controller.Cluster) {
	seed := int64(1)
	if s := os.Getenv("ZKCTL_CHAOS_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("ZKCTL_CHAOS_SEED: %v", err)
		}
	}
	sc := scenario.PartitionChaos(seed, 40*time.Second)
	start := time.Now()
	res := (&scenario.Runner{Cluster: c}).Run(context.Background(), []*scenario.Scenario{sc})
	if len(res) != 1 {
		t.Fatalf("%d results", len(res))
	}
	r := res[0]
	t.Logf("%s in %v: %s", sc.Name, time.Since(start).Round(time.Second), strings.Join(r.Notes, " "))
	for _, ch := range r.Checks {
		t.Logf("  %v %s: %s", ch.OK, ch.Name, ch.Detail)
	}
	if !r.Passed() {
		t.Errorf("%s (seed %d): %s", sc.Name, seed, strings.Join(r.Failed(), "; "))
	}
	noRulesLeft(t, lab)
}
