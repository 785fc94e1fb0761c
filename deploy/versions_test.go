package deploy

import (
	"strings"
	"testing"
)

// TestServerVersions: one version is one line; two are a mixed ensemble
// listing each version's hosts, oldest first; a server that does not
// answer counts for none.
func TestServerVersions(t *testing.T) {
	tests := []struct {
		name  string
		rows  []ServerRow
		mixed bool
		line  string
	}{
		{"none answers", []ServerRow{{Host: "vm1"}, {Host: "vm2"}}, false, ""},
		{"one version", []ServerRow{{Host: "vm1", Version: "3.9.3"}, {Host: "vm2", Version: "3.9.3"}, {Host: "vm3"}}, false,
			"ZooKeeper 3.9.3 on every server that answers"},
		{"mid-roll", []ServerRow{{Host: "vm1", Version: "3.10.0"}, {Host: "vm2", Version: "3.8.0"}, {Host: "vm3", Version: "3.9.3"}, {Host: "vm4", Version: "3.8.0"}}, true,
			"MIXED ensemble: ZooKeeper 3.8.0 on vm2, vm4; 3.9.3 on vm3; 3.10.0 on vm1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs, mixed := serverVersions(tc.rows)
			line := versionsLine(vs, mixed)
			if mixed != tc.mixed || !strings.HasPrefix(line, tc.line) || (tc.line == "") != (line == "") {
				t.Errorf("got mixed %v, %q; want %v, %q…", mixed, line, tc.mixed, tc.line)
			}
		})
	}
}
