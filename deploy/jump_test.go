package deploy_test

import (
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
	if _, err := deploy.Deploy(ctx, c, deploy.DeployOptions{Binary: buildbin.Path(t)}); err != nil {
		t.Fatalf("deploy behind the bastion: %v\n%s", err, out)
	}
	vm1 := c.Inv.Hosts[0]
	if conn, err := net.DialTimeout("tcp", vm1.ClientAddr(), time.Second); err == nil {
		conn.Close()
		t.Fatalf("%s is reachable from this machine: the lab has no bastion to test", vm1.ClientAddr())
	}
	if err := deploy.Reset(ctx, c); err != nil { // starts the servers, then creates the base znodes through a tunnel
		t.Fatalf("reset: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = deploy.StopAll(context.Background(), c) })

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
		st := deploy.Status(ctx, c)
		if st.App == nil {
			t.Errorf("status has no application state (its session failed): %+v", st)
		}
	})

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
