package zkversions_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"zkctl/internal/zkversions"
)

// TestUpstreamOf pins versions by their upstream part.
func TestUpstreamOf(t *testing.T) {
	for in, want := range map[string]string{
		"3.9.3-1+deb13u1": "3.9.3",
		"3.9.6-2":         "3.9.6",
		"1:3.8.0-11":      "3.8.0",
		"3.9.6":           "3.9.6",
		"3.9.6-2-1":       "3.9.6-2",
	} {
		if got := zkversions.UpstreamOf(in); got != want {
			t.Errorf("UpstreamOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNotServed: a version the suite does not serve is ErrNotServed, and
// the error says what the suite serves instead.
func TestNotServed(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("zkversions: fetching into the shared cache needs root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, err := zkversions.Getter{Logf: t.Logf}.Deb(ctx, zkversions.Version{Upstream: "3.9.2", Suite: zkversions.V393.Suite})
	if !errors.Is(err, zkversions.ErrNotServed) || !strings.Contains(err.Error(), "3.9.3-1") {
		t.Fatalf("3.9.2 from trixie: got %v, want ErrNotServed naming what trixie serves", err)
	}
	t.Log(err)
}
