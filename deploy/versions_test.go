package deploy

import (
	"strings"
	"testing"

	"zkctl/deploy/inventory"
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

// TestZooKeeperHome: a host's zookeeper_home wins over [zookeeper]'s
// tarball and home; without it a host runs the tarball's release, else
// the home, else Debian's package ("").
func TestZooKeeperHome(t *testing.T) {
	tests := []struct {
		name, zk, host, want string
	}{
		{"Debian's package", "", "", ""},
		{"the cluster's home", `home = "/opt/zk-3.9.3"`, "", "/opt/zk-3.9.3"},
		{"the cluster's tarball", `tarball = "/tmp/apache-zookeeper-3.9.3-bin.tar.gz"`, "", "/opt/zkctl/zookeeper/apache-zookeeper-3.9.3-bin"},
		{"the host's own over the home", `home = "/opt/zk-3.9.3"`, `zookeeper_home = "/opt/zk-3.9.6"`, "/opt/zk-3.9.6"},
		{"the host's own over the tarball", `tarball = "/tmp/apache-zookeeper-3.9.3-bin.tar.gz"`, `zookeeper_home = "/opt/zk-3.9.6"`, "/opt/zk-3.9.6"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "[zookeeper]\n" + tc.zk + "\n[[host]]\nname = \"vm1\"\naddress = \"10.0.0.1\"\ndir = \"/opt/zkctl\"\n" + tc.host + "\n"
			inv, err := inventory.Parse("inv.toml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			c := &Cluster{Inv: inv}
			if got := c.zooKeeperHome(inv.Hosts[0]); got != tc.want {
				t.Errorf("zooKeeperHome = %q, want %q", got, tc.want)
			}
		})
	}
}
