package zkversions_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"zkctl/internal/zktest"
	"zkctl/internal/zkversions"
	"zkctl/node"
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

// TestVersionsServe starts each version standalone from its release home on
// this machine's Java and asks it its version.
func TestVersionsServe(t *testing.T) {
	for _, v := range zkversions.Versions {
		t.Run(v.Upstream, func(t *testing.T) {
			h := zktest.ReleaseHome(t, v)
			for _, jar := range []string{"zookeeper-" + v.Upstream + ".jar", "zookeeper-jute-" + v.Upstream + ".jar"} {
				if _, err := os.Stat(filepath.Join(h, "lib", jar)); err != nil {
					t.Errorf("home %s: %v", h, err)
				}
			}
			e := zktest.StartHome(t, 1, h)
			st := e.Status(0)
			if st.Mode != "standalone" || st.Version != v.Upstream {
				t.Fatalf("srvr of %s: mode %q version %q, want standalone %s", h, st.Mode, st.Version, v.Upstream)
			}
			cp := classpath(node.ServerLaunch(e.Config(0), node.Detect(h)).Argv)
			jute := slices.Index(cp, filepath.Join(h, "lib", "zookeeper-jute-"+v.Upstream+".jar"))
			if lib := slices.Index(cp, filepath.Join(h, "lib", "*")); jute < 0 || jute > lib {
				t.Errorf("classpath %v: want the home's own jute jar before lib/*", cp)
			}
		})
	}
}

// classpath is the -cp of argv, split.
func classpath(argv []string) []string {
	if i := slices.Index(argv, "-cp"); i >= 0 && i+1 < len(argv) {
		return strings.Split(argv[i+1], ":")
	}
	return nil
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
