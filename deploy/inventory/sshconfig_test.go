package inventory_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"zkctl/deploy/inventory"
)

// sshConfigFile writes an ssh_config into a fresh HOME's .ssh/config (the
// default one) and returns the HOME.
func sshConfigFile(t *testing.T, text string) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh/config"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

// TestSSHConfigAliases: aliases become addresses; the inventory wins over
// ssh_config, which wins over the defaults; wildcards match as in ssh and
// the first value found wins; hops are looked up too.
func TestSSHConfigAliases(t *testing.T) {
	home := sshConfigFile(t, lines(
		"Host bastion",
		"  HostName 192.0.2.1",
		"  User admin",
		"  Port 2222",
		"  IdentityFile ~/.ssh/bastion_key",
		"Host vm1",
		"  HostName 10.0.0.11",
		"  HostKeyAlias zk-vm1",
		"Host vm* !vm3",
		"  User ubuntu",
		"  Port 2022",
		"  ProxyJump bastion",
		"Host *",
		"  User ignored-after-first",
		"  IdentityFile %d/.ssh/id_%n",
		"  ConnectTimeout 3",
		"  ServerAliveInterval 30",
	))
	inv, err := inventory.Parse("/srv/inv.toml", []byte(concat(
		host("vm1", "vm1"),
		host("vm2", "vm2", "[host.ssh]", `user = "root"`, `jump = ""`),
		host("vm3", "vm3"),
		host("ip", "10.0.0.99", "[host.ssh]", `identity_file = ""`),
	)))
	if err != nil {
		t.Fatal(err)
	}
	bastion := inventory.Hop{User: "admin", Address: "192.0.2.1", Port: 2222, IdentityFile: filepath.Join(home, ".ssh/bastion_key")}
	kh := filepath.Join(home, ".ssh/known_hosts")
	want := []struct {
		addr string
		ssh  inventory.SSH
	}{
		{"10.0.0.11", inventory.SSH{User: "ubuntu", Port: 2022, IdentityFile: filepath.Join(home, ".ssh/id_vm1"), KnownHosts: kh,
			DialTimeout: 3 * time.Second, Jump: []inventory.Hop{bastion}, Tunnel: inventory.TunnelAlways, HostKeyAlias: "zk-vm1"}},
		// The inventory's user and its empty jump win.
		{"vm2", inventory.SSH{User: "root", Port: 2022, IdentityFile: filepath.Join(home, ".ssh/id_vm2"), KnownHosts: kh, DialTimeout: 3 * time.Second}},
		// "!vm3" keeps vm3 out of the vm* block; Host * still applies.
		{"vm3", inventory.SSH{User: "ignored-after-first", Port: 22, IdentityFile: filepath.Join(home, ".ssh/id_vm3"), KnownHosts: kh, DialTimeout: 3 * time.Second}},
		// identity_file = "" (the agent) is the inventory's word.
		{"10.0.0.99", inventory.SSH{User: "ignored-after-first", Port: 22, KnownHosts: kh, DialTimeout: 3 * time.Second}},
	}
	for i, w := range want {
		h := inv.Hosts[i]
		if h.Address != w.addr || !reflect.DeepEqual(h.SSH, w.ssh) {
			t.Errorf("%s:\n got %s %+v\nwant %s %+v", h.Name, h.Address, h.SSH, w.addr, w.ssh)
		}
	}
}

// TestSSHConfigNamedAndNone: ssh_config = "path" reads that file (relative
// to the inventory), ssh_config = "" none, and a missing default is no
// error.
func TestSSHConfigNamedAndNone(t *testing.T) {
	sshConfigFile(t, lines("Host vm1", "  HostName 10.9.9.9"))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ssh.conf"), []byte(lines("Host vm1", "  HostName 10.1.1.1")), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ ssh, addr string }{
		{`ssh_config = "ssh.conf"`, "10.1.1.1"},
		{`ssh_config = ""`, "vm1"},
		{"", "10.9.9.9"},
	} {
		inv, err := inventory.Parse(filepath.Join(dir, "inv.toml"), []byte(concat([]string{"[ssh]", c.ssh}, host("vm1", "vm1"))))
		if err != nil {
			t.Fatalf("%s: %v", c.ssh, err)
		}
		if got := inv.Hosts[0].Address; got != c.addr {
			t.Errorf("%s: address %q, want %q", c.ssh, got, c.addr)
		}
	}
	t.Setenv("HOME", t.TempDir())
	if _, err := inventory.Parse("/srv/inv.toml", []byte(concat(host("vm1", "vm1")))); err != nil {
		t.Errorf("no ~/.ssh/config: %v", err)
	}
}

// TestSSHConfigRefused: what zkctl does not follow is an error naming the
// inventory's line and key, the host, and the ssh_config's line.
func TestSSHConfigRefused(t *testing.T) {
	cases := []struct {
		name, config string
		inv          []string
		want         []string
	}{
		{"ProxyCommand", lines("Host vm1", "  HostName 10.0.0.1", "  ProxyCommand nc %h %p"), host("vm1", "vm1"),
			[]string{`inv.toml:3: host "vm1": address "vm1": ssh_config ~/.ssh/config:3: ProxyCommand is not supported for "vm1"`}},
		{"Match", lines("Host other", "  User x", "Match host vm*", "  User y"), host("vm1", "vm1"),
			[]string{`inv.toml:3: host "vm1": address "vm1": ssh_config ~/.ssh/config:3: Match is not supported for "vm1"`}},
		{"unknown directive", lines("Host *", "  Ciphers aes128-ctr"), host("vm1", "10.0.0.1"),
			[]string{`ssh_config ~/.ssh/config:2: Ciphers is not supported for "10.0.0.1"`}},
		{"bad port", lines("Host vm1", "  Port ssh"), host("vm1", "vm1"),
			[]string{`ssh_config ~/.ssh/config:2: Port "ssh": want 1..65535`}},
		{"bad ProxyJump", lines("Host vm1", "  ProxyJump @bastion"), host("vm1", "vm1"),
			[]string{`host "vm1": address "vm1": ssh_config ~/.ssh/config: ProxyJump: hop "bastion": empty user before @`}},
		{"unknown token", lines("Host vm1", "  IdentityFile ~/.ssh/%C"), host("vm1", "vm1"),
			[]string{`ssh_config ~/.ssh/config:2: IdentityFile "~/.ssh/%C": token %C is not supported`}},
		{"does not parse", lines("Host vm1", "  HostName 10.0.0.1", "Match exec true", "  User x"), host("vm1", "vm1"),
			[]string{`inv.toml: ssh_config ~/.ssh/config:3: Match Exec is not supported`}},
		{"in a host table", "", host("vm1", "10.0.0.1", "[host.ssh]", `ssh_config = "x"`),
			[]string{`inv.toml:6: host "vm1": ssh.ssh_config: ssh_config is read once, from [ssh]`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sshConfigFile(t, c.config)
			_, err := inventory.Parse("/srv/inv.toml", []byte(concat(c.inv)))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n %v\nwant it to contain\n %s", err, w)
				}
			}
		})
	}
	t.Run("named file missing", func(t *testing.T) {
		_, err := inventory.Parse("/srv/inv.toml", []byte(concat([]string{"[ssh]", `ssh_config = "/nonexistent/config"`}, host("vm1", "vm1"))))
		if err == nil || !strings.Contains(err.Error(), "inv.toml:2: ssh_config: open /nonexistent/config") {
			t.Errorf("got %v", err)
		}
	})
}
