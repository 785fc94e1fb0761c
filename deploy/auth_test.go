package deploy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/deploy"
	"zkctl/internal/buildbin"
	"zkctl/node"
	"zkctl/ops"
	"zkctl/roles"
	"zkctl/roles/protocol"
)

// With auth_file, roles authenticate, every znode carries the digest ACL,
// and the secret shows up on no command line and in no log.
func TestDeployWithAuth(t *testing.T) {
	if node.Detect("").ZooKeeperHome == "" {
		t.Skip("ZooKeeper missing: apt-get install -y zookeeper")
	}
	const secret = "zkctl:very-s3cret"
	path := localInventory(t)
	dir := filepath.Dir(path)
	if err := os.WriteFile(filepath.Join(dir, "zk.secret"), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	data = []byte(strings.Replace(string(data), "[cluster]\n", "[cluster]\nauth_file = \"zk.secret\"\n", 1))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	c, _ := newCluster(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Cleanup(func() { _ = deploy.StopAll(context.Background(), c) })
	if _, err := deploy.Deploy(ctx, c, deploy.DeployOptions{Binary: buildbin.Path(t)}); err != nil {
		t.Fatal(err)
	}
	if err := deploy.Reset(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ role, host string }{{"master", "vm1"}, {"worker", "vm2"}} {
		if _, err := (ops.Start{Role: p.role, Host: p.host, Options: roles.Options{Concurrency: 1}}).Run(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := c.Connect(ctx, c.Inv.Hosts)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tasks, err := roles.Submit(ctx, conn, roles.ACL(secret), []string{"a-1", "a-2"}, "0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := roles.Wait(ctx, conn, tasks, nil); err != nil {
		t.Fatalf("roles did not work with auth: %v", err)
	}

	anon, _, err := zk.Connect(c.Inv.Servers(), 2*time.Second, zk.WithLogger(silent{}))
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	if _, err := anon.Create(protocol.Result("a-3"), []byte("ok forged"), 0, zk.WorldACL(zk.PermAll)); !errors.Is(err, zk.ErrNoAuth) {
		t.Errorf("anonymous forged result: %v, want %v", err, zk.ErrNoAuth)
	}

	for _, h := range c.Inv.Hosts {
		l := node.Layout{Dir: h.Dir}
		if st, err := os.Stat(filepath.Join(l.Conf(), "auth")); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: conf/auth %v (mode %v), want 0600", h.Name, err, st.Mode().Perm())
		}
		procs, _ := node.List(l)
		for _, p := range procs {
			if cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.PID), "cmdline")); strings.Contains(string(cmdline), "s3cret") {
				t.Errorf("%s: the secret is on the command line of %s", h.Name, p.Name)
			}
		}
		logs, _ := filepath.Glob(filepath.Join(l.Logs(), "*.log"))
		for _, f := range logs {
			if b, _ := os.ReadFile(f); strings.Contains(string(b), "s3cret") {
				t.Errorf("%s: the secret is in %s", h.Name, f)
			}
		}
		if b, _ := os.ReadFile(l.ConfigFile()); strings.Contains(string(b), "s3cret") {
			t.Errorf("%s: the secret is in node.json", h.Name)
		}
	}
}

type silent struct{}

func (silent) Printf(string, ...any) {}
