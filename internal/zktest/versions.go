package zktest

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"zkctl/internal/zkversions"
)

// ReleaseHome is the release home of ZooKeeper version v, fetched into the
// shared cache on first use (zkversions.Getter). The test skips, saying
// why, without root (the cache is root's) or when the archive no longer
// serves v.
func ReleaseHome(t testing.TB, v zkversions.Version) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("zkversions: fetching into the shared cache needs root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	h, err := zkversions.Getter{Logf: t.Logf}.Home(ctx, v)
	if errors.Is(err, zkversions.ErrNotServed) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("release home of %s: %s (%v)", v.Upstream, h, time.Since(start).Round(time.Millisecond))
	return h
}
