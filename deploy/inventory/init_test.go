package inventory_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"zkctl/deploy/inventory"
)

// TestInit: what init writes loads and validates, for each kind of login
// and for the local default, and says in comments what each key does.
func TestInit(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	three := []inventory.InitHost{{"vm1", "10.0.0.11"}, {"vm2", "10.0.0.12"}, {"vm3", "10.0.0.13"}}
	cases := []struct {
		name         string
		o            inventory.InitOptions
		user, dir    string
		sudo, local  bool
		install, has string
	}{
		{"root", inventory.InitOptions{Hosts: three}, "root", "/opt/zkctl", false, false, "apt", `# user = "root"`},
		{"sudo", inventory.InitOptions{Hosts: three, User: "ubuntu", Sudo: true}, "ubuntu", "/opt/zkctl", true, false, "apt", "sudo = true"},
		{"plain", inventory.InitOptions{Hosts: three, User: "zk"}, "zk", "/home/zk/zkctl", false, false, "", "# sudo = true"},
		{"local", inventory.InitOptions{}, "", "", false, true, "", "transport = \"local\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "inventory.toml")
			data, err := inventory.Init(path, c.o)
			if err != nil {
				t.Fatal(err)
			}
			if err := inventory.WriteNew(path, data); err != nil {
				t.Fatal(err)
			}
			inv, err := inventory.Load(path)
			if err != nil {
				t.Fatalf("the written inventory does not load: %v\n%s", err, data)
			}
			if len(inv.Hosts) != 3 || len(inv.Warnings) != 0 || inv.ZooKeeper.Install != c.install {
				t.Errorf("hosts %d, warnings %v, install %q\n%s", len(inv.Hosts), inv.Warnings, inv.ZooKeeper.Install, data)
			}
			for i, h := range inv.Hosts {
				if c.local {
					if !h.IsLocal() || h.Dir != filepath.Join(filepath.Dir(path), ".zkctl", h.Name) {
						t.Errorf("%s: %+v", h.Name, h)
					}
					continue
				}
				if h.Name != three[i].Name || h.Address != three[i].Address || h.SSH.User != c.user || h.SSH.Sudo != c.sudo || h.Dir != c.dir {
					t.Errorf("%s: %+v", h.Name, h)
				}
			}
			if !strings.Contains(string(data), c.has) || !strings.Contains(string(data), "zkctl check") {
				t.Errorf("want %q and the next step in\n%s", c.has, data)
			}
		})
	}
}

// TestInitRefuses: an existing file is never overwritten; bad flags are
// refused before anything is written.
func TestInitRefuses(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	path := filepath.Join(t.TempDir(), "inventory.toml")
	if err := os.WriteFile(path, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := inventory.Init(path, inventory.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = inventory.WriteNew(path, data)
	if err == nil || !strings.Contains(err.Error(), "exists: init never overwrites") {
		t.Errorf("over an existing file: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "mine\n" {
		t.Errorf("the file was changed: %q", got)
	}
	for _, c := range []struct{ hosts, want string }{
		{"vm1", `"vm1": want NAME=ADDR`},
		{"vm1=10.0.0.1,=10.0.0.2", `"=10.0.0.2": want NAME=ADDR`},
		{`vm1=10.0.0.1"x`, "no spaces, quotes or backslashes"},
	} {
		if _, err := inventory.ParseInitHosts(c.hosts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--hosts %s: %v", c.hosts, err)
		}
	}
	dup := []inventory.InitHost{{"vm1", "10.0.0.1"}, {"vm1", "10.0.0.2"}}
	if _, err := inventory.Init(path, inventory.InitOptions{Hosts: dup}); err == nil || !strings.Contains(err.Error(), `host "vm1": duplicate name`) {
		t.Errorf("duplicate names: %v", err)
	}
	if _, err := inventory.Init(path, inventory.InitOptions{User: "ubuntu"}); err == nil || !strings.Contains(err.Error(), "--hosts") {
		t.Errorf("--user without --hosts: %v", err)
	}
}
