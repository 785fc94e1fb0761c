package dataloss

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"zkctl/deploy"
	"zkctl/internal/zktest"
	"zkctl/internal/zkversions"
)

// TestDataLossTable is the measured table of the README's "Known
// ZooKeeper data-loss bugs", beside the suite (minutes):
//
//	ZKCTL_DATALOSS_TABLE=1 ZKCTL_DATALOSS_RUNS=20 go test -count=1 -timeout 60m -run TestDataLossTable -v ./dataloss
//
// Each version × schedule runs RUNS times (seed 0 first, as upstream's
// test; then seeds 1, 2, …), on a fresh local ensemble per cell.
// ZKCTL_DATALOSS_VERSIONS picks versions ("3.8.0 3.9.3 3.9.6"),
// ZKCTL_DATALOSS_SCHEDULES schedules.
func TestDataLossTable(t *testing.T) {
	if os.Getenv("ZKCTL_DATALOSS_TABLE") == "" {
		t.Skip("beside the suite: ZKCTL_DATALOSS_TABLE=1 (see the README's \"Known ZooKeeper data-loss bugs\")")
	}
	runs := 20
	if s := os.Getenv("ZKCTL_DATALOSS_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("ZKCTL_DATALOSS_RUNS=%q: want a positive number", s)
		}
		runs = n
	}
	versions, scs := cells(t)
	var rows []Row
	for _, v := range versions {
		zkHome := zktest.ReleaseHome(t, v)
		for _, s := range scs {
			c := localEnsemble(t, s.Servers, zkHome)
			row := Row{Version: v.Upstream, Schedule: s.Name}
			start := time.Now()
			for i := range runs {
				res := runOne(t, c, s.Name, int64(i))
				row.Add(res, time.Since(start))
			}
			rows = append(rows, row)
			_ = deploy.StopAll(context.Background(), c) // the next cell runs alone
			t.Logf("%s", row.Markdown())
		}
	}
	var b strings.Builder
	PrintTable(&b, rows)
	t.Logf("\n%s", b.String())
}

// cells are the versions and schedules that ZKCTL_DATALOSS_VERSIONS and
// ZKCTL_DATALOSS_SCHEDULES name (all when unset).
func cells(t *testing.T) ([]zkversions.Version, []Schedule) {
	t.Helper()
	scs, err := Lookup(strings.Fields(os.Getenv("ZKCTL_DATALOSS_SCHEDULES")))
	if err != nil {
		t.Fatal(err)
	}
	return pickVersions(t, os.Getenv("ZKCTL_DATALOSS_VERSIONS")), scs
}

func pickVersions(t *testing.T, list string) []zkversions.Version {
	t.Helper()
	if list == "" {
		return zkversions.Versions
	}
	var out []zkversions.Version
	for _, name := range strings.Fields(list) {
		found := false
		for _, v := range zkversions.Versions {
			if v.Upstream == name {
				out, found = append(out, v), true
			}
		}
		if !found {
			t.Fatalf("ZKCTL_DATALOSS_VERSIONS: no version %q (known: %v)", name, zkversions.Versions)
		}
	}
	return out
}
