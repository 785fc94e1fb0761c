package zktest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Timings is the [cluster] table of the default inventory's timings
// (tickTime 200ms, session timeout 2s), for inventories written by tests.
const Timings = "[cluster]\ntick_time = \"200ms\"\nsession_timeout = \"2s\"\n"

// LocalInventory writes an inventory of n local hosts vm1…vmN on free ports,
// with dirs in a temporary folder, and returns its path.
func LocalInventory(t testing.TB, n int) string {
	t.Helper()
	p := FreePorts(t, 3*n)
	var b strings.Builder
	b.WriteString(Timings)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "\n[[host]]\nname = \"vm%d\"\ntransport = \"local\"\ndir = \"vm%d\"\nclient_port = %d\npeer_port = %d\nelection_port = %d\n",
			i+1, i+1, p[3*i], p[3*i+1], p[3*i+2])
	}
	path := filepath.Join(t.TempDir(), "inventory.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
