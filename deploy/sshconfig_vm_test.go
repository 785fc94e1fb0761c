package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"zkctl/deploy"
	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/internal/buildbin"
	"zkctl/internal/testlab"
)

// sshConfigLab writes, for lab's hosts behind its bastion, an ssh_config
// that names them zk1, zk2, … and the bastion "jump", with the hosts'
// keys in a known_hosts under the HostKeyAlias zk-N-key (not their
// addresses); first comes before all that, so that its values win. It
// returns the ssh_config's path.
func sshConfigLab(t *testing.T, lab *testlab.VMLab, first string) string {
	t.Helper()
	dir := t.TempDir()
	kh, err := os.ReadFile(lab.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	known := string(kh)
	var b strings.Builder
	b.WriteString(first)
	fmt.Fprintf(&b, "Host jump\n  HostName %s\n  User root\n\n", lab.Bastion.Addr)
	for i, h := range lab.Hosts {
		known = strings.Replace(known, h.Addr+" ", fmt.Sprintf("zk-%d-key ", i+1), 1)
		fmt.Fprintf(&b, "Host zk%d\n  HostName %s\n  User %s\n  HostKeyAlias zk-%d-key\n\n", i+1, h.Addr, h.User, i+1)
	}
	fmt.Fprintf(&b, "Host zk*\n  ProxyJump jump\n\nHost *\n  IdentityFile %s\n  UserKnownHostsFile %s\n  ConnectTimeout 5\n",
		lab.KeyFile, filepath.Join(dir, "known_hosts"))
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(known), 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "ssh_config")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// aliasInventory is an inventory of lab's hosts by their ssh_config
// aliases alone: no user, key, known_hosts or jump of its own. Each host's
// dir is dir under the lab's suggested one; more[i] adds lines to host
// i's table (an address there replaces the alias). only lists the hosts to
// take (none: all).
func aliasInventory(t *testing.T, lab *testlab.VMLab, sshConfig, dir string, more map[int]string, only ...int) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "[ssh]\nssh_config = %q\n", sshConfig)
	for i, h := range lab.Hosts {
		if len(only) > 0 && !slices.Contains(only, i) {
			continue
		}
		fmt.Fprintf(&b, "\n[[host]]\nname = %q\ndir = %q\n%s\n", h.Name, filepath.Join(h.Dir, dir), more[i])
		if !strings.Contains(more[i], "address =") {
			fmt.Fprintf(&b, "address = \"zk%d\"\n", i+1)
		}
		if h.Sudo {
			b.WriteString("[host.ssh]\nsudo = true\n")
		}
	}
	p := filepath.Join(t.TempDir(), "inventory.toml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// testSSHConfig reaches the bastion lab's hosts by ssh_config aliases: the
// address, user, key, known_hosts (under HostKeyAlias) and the jump host
// all come from ssh_config.
func testSSHConfig(t *testing.T, lab *testlab.VMLab) {
	ctx := context.Background()
	cfg := sshConfigLab(t, lab, "")
	c, _ := newCluster(t, aliasInventory(t, lab, cfg, "", nil))
	for i, h := range c.Inv.Hosts {
		if h.Address != lab.Hosts[i].Addr || len(h.SSH.Jump) != 1 || h.SSH.Jump[0].Address != lab.Bastion.Addr {
			t.Fatalf("%s: address %s jump %+v", h.Name, h.Address, h.SSH.Jump)
		}
		tr, err := c.Transport(ctx, h)
		if err != nil {
			t.Fatalf("%s by its alias: %v", h.Name, err)
		}
		out, err := transport.Output(ctx, tr, "id -un")
		if err != nil || strings.TrimSpace(string(out)) != lab.Hosts[i].User {
			t.Errorf("%s: logged in as %q (%v), want %s", h.Name, out, err, lab.Hosts[i].User)
		}
	}

	// known_hosts is read under the HostKeyAlias: without that line the key
	// is unknown, and the error names the alias.
	kh := filepath.Join(filepath.Dir(cfg), "known_hosts")
	data, _ := os.ReadFile(kh)
	var kept []string
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(l, "zk-1-key ") {
			kept = append(kept, l)
		}
	}
	if err := os.WriteFile(kh, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	c2, _ := newCluster(t, aliasInventory(t, lab, cfg, "", nil))
	_, err := c2.Transport(ctx, c2.Inv.Hosts[0])
	if !errors.Is(err, transport.ErrHostKey) || !strings.Contains(err.Error(), "zk-1-key") {
		t.Errorf("a key missing under its HostKeyAlias: %v", err)
	}
}

// testRefusedBeforeAnyChange deploys inventories that are wrong for one
// host in a way only that host can tell, into a dir no host has yet: the
// deploy fails naming that host and the step, no host has the dir
// afterwards (every host's preflight comes before any change), and check
// says the same with its fix.
func testRefusedBeforeAnyChange(t *testing.T, lab *testlab.VMLab) {
	ctx := context.Background()
	const dir = "private/refused"
	// Name resolution limited to this machine's hosts file: no DNS query
	// leaves the machine.
	noDNS := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS in this test")
	}}
	// vm1 logs in as root and runs ZooKeeper as zookeeper, which cannot
	// cross a folder only root may enter.
	mustRun(t, lab, 0, "mkdir -p -m 0700 /opt/zkctl/private")
	t.Cleanup(func() { mustRun(t, lab, 0, "rm -rf /opt/zkctl/private") })
	// Something that is not this inventory's server listens on vm3's port.
	pid := strings.TrimSpace(mustOutput(t, lab, 2, `perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalPort => 12181, Listen => 1, ReuseAddr => 1) or die; sleep 600' >/dev/null 2>&1 & echo $!`))
	t.Cleanup(func() { mustRun(t, lab, 2, "kill "+pid) })
	cases := []struct {
		name      string
		inventory func(t *testing.T) string
		host      string
		want      []string
	}{
		{"an unreachable jump host", func(t *testing.T) string {
			return aliasInventory(t, lab, sshConfigLab(t, lab, "Host jump\n  Port 2\n\n"), dir, nil)
		}, "vm1", []string{"jump host root@" + lab.Bastion.Addr + ":2", "connection refused"}},
		{"a wrong ProxyJump", func(t *testing.T) string {
			return aliasInventory(t, lab, sshConfigLab(t, lab, "Host zk2\n  ProxyJump root@"+lab.Bastion.Addr+":2\n\n"), dir, nil)
		}, "vm2", []string{"connection refused"}},
		{"an address that does not resolve", func(t *testing.T) string {
			return aliasInventory(t, lab, sshConfigLab(t, lab, ""), dir, map[int]string{2: `address = "no-such-host.invalid"`})
		}, "vm3", []string{`"no-such-host.invalid" is neither an IP address nor a name this machine resolves`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newCluster(t, tc.inventory(t))
			c.Resolver = noDNS
			_, err := c.Deploy(ctx, deploy.DeployOptions{Binary: buildbin.Path(t)})
			wantHostErr(t, err, tc.host, "connect", tc.want...)
			assertUntouched(t, lab, dir)
		})
	}
	t.Run("check names the jump host", func(t *testing.T) {
		c, _ := newCluster(t, aliasInventory(t, lab, sshConfigLab(t, lab, "Host jump\n  Port 2\n\n"), dir, nil))
		r := check(t, c)
		for _, h := range c.Inv.Hosts {
			if !hasLine(r, h.Name, "reach", deploy.CheckFail, "check the jump hosts") {
				t.Errorf("%s: no failing reach line naming the fix", h.Name)
			}
		}
	})
	// One deploy and one check, of vm1 and vm3, for what only the hosts'
	// agents find: the ports are not the running ensemble's, except vm3's
	// client port.
	t.Run("a dir the service user cannot reach, a port held by another process", func(t *testing.T) {
		ports := "client_port = 12281\npeer_port = 12888\nelection_port = 13888\n"
		c, _ := newCluster(t, aliasInventory(t, lab, sshConfigLab(t, lab, ""), dir,
			map[int]string{0: ports, 2: "client_port = 12181\npeer_port = 12888\nelection_port = 13888\n"}, 0, 2))
		_, err := c.Deploy(ctx, deploy.DeployOptions{Binary: buildbin.Path(t)})
		wantHostErr(t, err, "vm1", "preflight", "run_as dir: zookeeper cannot search /opt/zkctl/private (mode 0700, root:root)", "fix: chmod o+x /opt/zkctl/private")
		wantHostErr(t, err, "vm3", "preflight", "client_port 12181: held by perl (pid "+pid+")", "fix: stop it, or set another client_port")
		assertUntouched(t, lab, dir)
		r := check(t, c)
		if !hasLine(r, "vm1", "run_as dir", deploy.CheckFail, "chmod o+x /opt/zkctl/private") ||
			!hasLine(r, "vm3", "client_port 12181", deploy.CheckFail, "set another client_port") || !hasLine(r, "vm3", "run_as dir", deploy.CheckOK, "") {
			var out strings.Builder
			deploy.PrintCheck(&out, r)
			t.Errorf("check:\n%s", out.String())
		}
		assertUntouched(t, lab, dir)
	})
	t.Run("an ssh_config that does not parse", func(t *testing.T) {
		cfg := sshConfigLab(t, lab, "Match exec \"true\"\n")
		_, err := inventory.Load(aliasInventory(t, lab, cfg, dir, nil))
		if err == nil || !strings.Contains(err.Error(), cfg+":1: Match Exec is not supported") {
			t.Errorf("got %v", err)
		}
	})
}

// hasLine reports whether r has host's line item with status and a fix
// containing fix.
func hasLine(r deploy.CheckReport, host, item string, status deploy.CheckStatus, fix string) bool {
	for _, l := range r.Lines {
		if l.Host == host && l.Item == item && l.Status == status && strings.Contains(l.Fix, fix) {
			return true
		}
	}
	return false
}

func mustOutput(t *testing.T, lab *testlab.VMLab, i int, script string) string {
	t.Helper()
	out, err := lab.Run(i, script)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertUntouched fails unless no host of lab has dir under its suggested
// zkctl dir, nor a copy of zkctl that check or the preflight left in /tmp.
func assertUntouched(t *testing.T, lab *testlab.VMLab, dir string) {
	t.Helper()
	for i, h := range lab.Hosts {
		p := filepath.Join(h.Dir, dir)
		script := "test ! -e " + p + " && ! ls -d /tmp/zkctl-check.* 2>/dev/null && echo absent"
		if out, err := lab.Run(i, script); err != nil || strings.TrimSpace(out) != "absent" {
			t.Errorf("%s: the refused deploy left %s or a copy of zkctl in /tmp (%s %v)", h.Name, p, out, err)
		}
	}
}

// check runs c.Check with the test binary.
func check(t *testing.T, c *deploy.Cluster) deploy.CheckReport {
	t.Helper()
	r, err := c.Check(context.Background(), buildbin.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// testCheckRunning checks the running ensemble: its own servers hold the
// ports, which is no conflict.
func testCheckRunning(t *testing.T, c *deploy.Cluster) {
	r := check(t, c)
	var out strings.Builder
	deploy.PrintCheck(&out, r)
	if r.Failed() {
		t.Errorf("check of the running ensemble fails:\n%s", out.String())
	}
	for _, h := range c.Inv.Hosts {
		for _, l := range r.Lines {
			if l.Host == h.Name && strings.HasPrefix(l.Item, "client_port") && l.Found != "held by this inventory's server" {
				t.Errorf("%s: %s %s", h.Name, l.Item, l.Found)
			}
		}
	}
	for _, want := range []string{"via root@", "run_as dir", "clock", "zookeeper version"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check's table lacks %q:\n%s", want, out.String())
		}
	}
}

// testInitCheck writes an inventory with init for the root hosts of the
// bastion lab, by their aliases in ~/.ssh/config (the default ssh_config:
// HOME is the test's), and checks it: it validates, reaches every host
// through the jump host, and a deploy would pass (the ensemble running in
// /opt/zkctl holds the ports: its own).
func testInitCheck(t *testing.T, lab *testlab.VMLab) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	cfg, err := os.ReadFile(sshConfigLab(t, lab, ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "config"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	var hosts []inventory.InitHost
	for i, h := range lab.Hosts {
		if h.Profile == testlab.Root {
			hosts = append(hosts, inventory.InitHost{Name: h.Name, Address: fmt.Sprintf("zk%d", i+1)})
		}
	}
	path := filepath.Join(t.TempDir(), "inventory.toml")
	data, err := inventory.Init(path, inventory.InitOptions{Hosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	if err := inventory.WriteNew(path, data); err != nil {
		t.Fatal(err)
	}
	c, _ := newCluster(t, path)
	r := check(t, c)
	var out strings.Builder
	deploy.PrintCheck(&out, r)
	if r.Failed() || !strings.Contains(out.String(), "via root@"+lab.Bastion.Addr+":22") {
		t.Errorf("check of init's inventory:\n%s", out.String())
	}
}
