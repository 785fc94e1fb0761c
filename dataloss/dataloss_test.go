package dataloss

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"zkctl/internal/zkversions"
)

// TestStaleDiffSync396 runs QuorumSyncTest's schedule once on five local
// servers of 3.9.6, which has the fix of ZOOKEEPER-4925: it must land in
// the bug's window and lose nothing.
func TestStaleDiffSync396(t *testing.T) {
	c := localEnsemble(t, 5, home(t, zkversions.V396))
	res := runOne(t, c, "stale-diff-sync", 0)
	if !res.Passed() {
		t.Errorf("3.9.6 lost writes in stale-diff-sync: %+v", res.Judgement.Lost)
	}
	if !res.Window.Landed {
		t.Errorf("the faults missed the window: %v", res.Window.Notes)
	}
}

// TestDiffSyncCrash396 runs DIFFSyncTest's schedule on three local
// servers of 3.9.6, which persists a DIFF sync before it ACKs NEWLEADER,
// through Chaos bounded to one run, of seed 0 (upstream's timing; the
// table of the README has the seeded runs). Nothing may be lost, and the
// output names the seed.
func TestDiffSyncCrash396(t *testing.T) {
	c := localEnsemble(t, 3, home(t, zkversions.V396))
	var out strings.Builder
	results := Chaos(context.Background(), c, diffSyncCrash, ChaosOptions{Seed: 0, Runs: 1, For: 2 * time.Minute, Out: &out})
	t.Logf("%s", out.String())
	if len(results) != 1 {
		t.Fatalf("%d runs, want 1", len(results))
	}
	for i, r := range results {
		if r.Seed != int64(i) || !r.Passed() {
			t.Errorf("run %d: seed %d, passed %v, error %v, lost %+v", i, r.Seed, r.Passed(), r.Err, r.Judgement.Lost)
		}
		if !strings.Contains(out.String(), fmt.Sprintf("diff-sync-crash seed %d: PASS", i)) {
			t.Errorf("the output does not name seed %d's verdict", i)
		}
	}
}
