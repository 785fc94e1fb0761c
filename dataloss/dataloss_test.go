package dataloss

import (
	"testing"

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

// TestDiffSyncCrash396 runs DIFFSyncTest's schedule once on three local
// servers of 3.9.6, which persists a DIFF sync before it ACKs NEWLEADER:
// nothing is lost.
func TestDiffSyncCrash396(t *testing.T) {
	c := localEnsemble(t, 3, home(t, zkversions.V396))
	res := runOne(t, c, "diff-sync-crash", 0)
	if !res.Passed() {
		t.Errorf("3.9.6 lost writes in diff-sync-crash: %+v", res.Judgement.Lost)
	}
}
