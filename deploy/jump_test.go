package deploy_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/deploy"
	"zkctl/internal/buildbin"
	"zkctl/internal/testlab"
	"zkctl/ops"
	"zkctl/scenario"
)

// TestDeployBehindBastion runs an ensemble on hosts that only a bastion
// reaches (this machine routes their subnet to "unreachable"): deploy and
// every agent call go through the jump host, the controller's ZooKeeper
// sessions and srvr through SSH tunnels, a partition keeps the controller's
// path (which the host sees coming from the bastion), and a scenario runs
// and is judged there.
func TestDeployBehindBastion(t *testing.T) {
	lab := testlab.NewVMs(t, testlab.VMOptions{Profiles: []testlab.Profile{testlab.Root, testlab.NoSudo, testlab.Root}, Bastion: true})
	path := lab.WriteInventory(t, "[cluster]\ntick_time = \"200ms\"\nsession_timeout = \"4s\"\n")
	c, out := newCluster(t, path)
	ctx := context.Background()
	if _, err := c.Deploy(ctx, deploy.DeployOptions{Binary: buildbin.Path(t)}); err != nil {
		t.Fatalf("deploy behind the bastion: %v\n%s", err, out)
	}
	vm1 := c.Inv.Hosts[0]
	if conn, err := net.DialTimeout("tcp", vm1.ClientAddr(), time.Second); err == nil {
		conn.Close()
		t.Fatalf("%s is reachable from this machine: the lab has no bastion to test", vm1.ClientAddr())
	}
	if err := c.Reset(ctx); err != nil { // starts the servers, then creates the base znodes through a tunnel
		t.Fatalf("reset: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = c.StopAll(context.Background()) })

	t.Run("the controller's sessions go through tunnels", func(t *testing.T) {
		err := c.WithConn(ctx, func(conn *zk.Conn) error {
			if _, err := conn.Create("/behind-bastion", []byte("hello"), 0, zk.WorldACL(zk.PermAll)); err != nil {
				return err
			}
			data, _, err := conn.Get("/behind-bastion")
			if err == nil && string(data) != "hello" {
				t.Errorf("read back %q", data)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range c.Inv.Hosts { // srvr from this machine, as the scenarios ask it
			if m := c.QueryServer(h, 2*time.Second).Mode; m != "leader" && m != "follower" {
				t.Errorf("srvr of %s through its tunnel: mode %q", h.Name, m)
			}
		}
		st := c.Status(ctx)
		if st.App == nil {
			t.Errorf("status has no application state (its session failed): %+v", st)
		}
	})

	t.Run("check on the running ensemble", func(t *testing.T) { testCheckRunning(t, c) })

	t.Run("the host sees the controller as the bastion", func(t *testing.T) {
		got, err := c.ControllerAddrOn(ctx, vm1)
		if err != nil {
			t.Fatal(err)
		}
		inner := vm1.Address[:strings.LastIndex(vm1.Address, ".")] + ".1" // the bastion on the hosts' bridge
		if got != inner {
			t.Errorf("controller address on %s: %q, want the bastion's %q", vm1.Name, got, inner)
		}
	})

	t.Run("a partition keeps the controller's path", func(t *testing.T) {
		if _, err := (ops.Partition{Hosts: []string{vm1.Name}, For: time.Minute}).Run(ctx, c); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if _, err := (ops.Heal{Hosts: []string{vm1.Name}}).Run(ctx, c); err != nil {
				t.Errorf("heal: %v", err)
			}
		}()
		deadline := time.Now().Add(15 * time.Second)
		for serverMode(c, vm1.Name) != "error" && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
		}
		if m := serverMode(c, vm1.Name); m != "error" {
			t.Errorf("%s cut off from its peers is %q, want \"not serving\"", vm1.Name, m)
		}
	})

	t.Run("a scenario behind the bastion", func(t *testing.T) {
		sc, _ := scenario.Lookup("c2w2m1")
		res := (&scenario.Runner{Cluster: c}).Run(ctx, []*scenario.Scenario{sc})[0]
		if res.Err != nil || !res.Passed() {
			t.Errorf("c2w2m1 behind the bastion: %v; failed: %s", res.Err, strings.Join(res.Failed(), "; "))
		}
	})

	t.Run("ssh_config aliases", func(t *testing.T) { testSSHConfig(t, lab) })
	t.Run("init, then check", func(t *testing.T) { testInitCheck(t, lab) })
	t.Run("refused before any change", func(t *testing.T) { testRefusedBeforeAnyChange(t, lab) })
	t.Run("after a reboot of every host", func(t *testing.T) { testReboot(t, lab, c) })

	t.Run("a bad jump host is named", func(t *testing.T) {
		bad := strings.Replace(lab.Inventory(""), ":22\"\n", ":2\"\n", 1) // the bastion's port 2: refused
		p := filepath.Join(t.TempDir(), "inventory.toml")
		if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		c2, _ := newCluster(t, p)
		_, err := c2.Transport(ctx, c2.Inv.Hosts[0])
		if err == nil || !strings.Contains(err.Error(), "jump host root@"+lab.Bastion.Addr+":2") || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("dial through a refusing bastion: %v", err)
		}
	})
}

// testReboot power-cycles every host (its first process killed: every
// process dies, /tmp and /run start empty) and brings the ensemble back
// with `start zookeeper` and the roles with their starts, the data kept.
func testReboot(t *testing.T, lab *testlab.VMLab, c *deploy.Cluster) {
	ctx := context.Background()
	if err := c.WithConn(ctx, func(conn *zk.Conn) error {
		_, err := conn.Create("/before-reboot", []byte("kept"), 0, zk.WorldACL(zk.PermAll))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for i := range lab.Hosts {
		if _, err := lab.Run(i, "touch /tmp/gone /run/gone"); err != nil {
			t.Fatal(err)
		}
		if err := lab.Reboot(i); err != nil {
			t.Fatalf("reboot %s: %v", lab.Hosts[i].Name, err)
		}
		if out, err := lab.Run(i, "ls /tmp/gone /run/gone 2>&1; true"); err != nil || !strings.Contains(out, "No such file") {
			t.Fatalf("%s: /tmp and /run survived the reboot: %s %v", lab.Hosts[i].Name, out, err)
		}
	}
	c.Close() // the old connections died with the hosts' sshd
	var out bytes.Buffer
	if err := deploy.PrintStatus(&out, c.Status(ctx), false); err != nil {
		t.Fatal(err)
	}
	if want := "no server runs on vm1, vm2, vm3: `zkctl start zookeeper`"; !strings.Contains(out.String(), want) {
		t.Errorf("status after the reboot does not say %q:\n%s", want, out.String())
	}
	rec, err := ops.StartServers{}.Run(ctx, c)
	if err != nil {
		t.Fatalf("start zookeeper: %v", err)
	}
	if len(rec.Procs) != len(lab.Hosts) {
		t.Errorf("start zookeeper started %d servers, want %d: %+v", len(rec.Procs), len(lab.Hosts), rec.Procs)
	}
	if rec, err := (ops.StartServers{}).Run(ctx, c); err != nil || len(rec.Procs) != 0 {
		t.Errorf("start zookeeper again: started %+v, %v; want nothing", rec.Procs, err)
	}
	if err := c.WithConn(ctx, func(conn *zk.Conn) error {
		data, _, err := conn.Get("/before-reboot")
		if err == nil && string(data) != "kept" {
			t.Errorf("/before-reboot holds %q", data)
		}
		return err
	}); err != nil {
		t.Fatalf("the data after the reboot: %v", err)
	}
	for _, role := range []string{"master", "worker"} {
		if _, err := (ops.Start{Role: role, Host: "vm1", Count: 1}).Run(ctx, c); err != nil {
			t.Fatalf("start %s after the reboot: %v", role, err)
		}
	}
	t.Cleanup(func() { _ = c.StopAll(context.Background()) })
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := c.Status(ctx)
		if st.App != nil && st.App.Master != nil && len(st.App.Workers) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the roles did not come back: %+v", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
