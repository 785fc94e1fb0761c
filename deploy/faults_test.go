package deploy_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"zkctl/deploy"
	"zkctl/internal/buildbin"
	"zkctl/internal/testlab"
)

// resettingProxy forwards 127.0.0.1:port to target and resets the first
// connection once it has carried more than cutAfter bytes towards target.
type resettingProxy struct {
	l      net.Listener
	resets atomic.Int32
}

func newResettingProxy(t *testing.T, target string, cutAfter int64) *resettingProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &resettingProxy{l: l}
	t.Cleanup(func() { l.Close() })
	first := true
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			cut := first
			first = false
			go p.relay(c, target, cut, cutAfter)
		}
	}()
	return p
}

func (p *resettingProxy) relay(c net.Conn, target string, cut bool, cutAfter int64) {
	defer c.Close()
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	go func() { _, _ = io.Copy(c, up) }()
	if !cut {
		_, _ = io.Copy(up, c)
		return
	}
	_, _ = io.CopyN(up, c, cutAfter)
	p.resets.Add(1)
	c.(*net.TCPConn).SetLinger(0) // close with RST
}

func (p *resettingProxy) port() int { return p.l.Addr().(*net.TCPAddr).Port }

// proxiedInventory points host vm1 of lab at the proxy and trusts its key there.
func proxiedInventory(t *testing.T, lab *testlab.Lab, port int) string {
	kh := filepath.Join(t.TempDir(), "known_hosts")
	line := fmt.Sprintf("[127.0.0.1]:%d %s\n", port, lab.HostKey(0))
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	inv := fmt.Sprintf("%s\n[ssh]\nidentity_file = %q\nknown_hosts = %q\nport = %d\n\n[[host]]\nname = \"vm1\"\naddress = \"127.0.0.1\"\ndir = %q\nrun_as = \"root\"\n",
		timings, lab.KeyFile, kh, port, lab.Hosts[0].Dir)
	path := filepath.Join(t.TempDir(), "inventory.toml")
	if err := os.WriteFile(path, []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDeployRetriesAConnectionResetDuringUpload(t *testing.T) {
	lab := testlab.New(t, 1)
	proxy := newResettingProxy(t, net.JoinHostPort(lab.Hosts[0].Addr, "22"), 2<<20)
	c, out := newCluster(t, proxiedInventory(t, lab, proxy.port()))
	res, err := c.Deploy(context.Background(), deploy.DeployOptions{Binary: buildbin.Path(t)})
	if err != nil {
		t.Fatalf("deploy should survive one reset: %v\n%s", err, out)
	}
	if proxy.resets.Load() != 1 || !strings.Contains(out.String(), "reconnecting, try 2") {
		t.Fatalf("want one reset and a retry in the output, got %d resets:\n%s", proxy.resets.Load(), out)
	}
	if res[0].Binary != "pushed" {
		t.Fatalf("binary %q, want pushed", res[0].Binary)
	}
	sum, _ := os.ReadFile(filepath.Join(lab.Hosts[0].Dir, "bin", "zkctl"))
	bin, _ := os.ReadFile(buildbin.Path(t))
	if string(sum) != string(bin) {
		t.Fatal("deployed binary differs from the local one")
	}
}

func TestDeployLock(t *testing.T) {
	lab := testlab.New(t, 1)
	path := lab.WriteInventory(t, timings)
	lock := filepath.Join(lab.Hosts[0].Dir, "run", "deploy.lock")
	hold := func(owner string) { // the lock as a deploy takes it: a file naming its owner
		if err := os.MkdirAll(filepath.Dir(lock), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(lock, []byte(owner), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hold("another-machine 1\n")

	t.Run("a held lock is waited for, then refused", func(t *testing.T) {
		c, out := newCluster(t, path)
		c.LockWait = time.Second
		_, err := c.Deploy(context.Background(), deploy.DeployOptions{Binary: buildbin.Path(t)})
		if err == nil || !strings.Contains(err.Error(), "vm1: lock: another deploy has held") {
			t.Fatalf("want refusal naming the lock, got %v\n%s", err, out)
		}
		if _, err := os.Stat(lock); err != nil {
			t.Fatalf("the other deploy's lock was removed: %v", err)
		}
	})
	t.Run("the second deploy proceeds once the first ends", func(t *testing.T) {
		c, _ := newCluster(t, path)
		go func() { time.Sleep(700 * time.Millisecond); os.Remove(lock) }()
		if _, err := c.Deploy(context.Background(), deploy.DeployOptions{Binary: buildbin.Path(t)}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(lock); !os.IsNotExist(err) {
			t.Fatalf("deploy left its lock behind: %v", err)
		}
	})
	t.Run("a stale lock is taken over", func(t *testing.T) {
		hold("another-machine 1\n")
		old := time.Now().Add(-time.Hour)
		if err := os.Chtimes(lock, old, old); err != nil {
			t.Fatal(err)
		}
		c, out := newCluster(t, path)
		if _, err := c.Deploy(context.Background(), deploy.DeployOptions{Binary: buildbin.Path(t)}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "taking over a deploy lock") {
			t.Fatalf("no takeover reported:\n%s", out)
		}
	})
	t.Run("a lock whose deploy was killed on this machine is taken over at once", func(t *testing.T) {
		dead := exec.Command("true")
		if err := dead.Run(); err != nil {
			t.Fatal(err)
		}
		host, _ := os.Hostname()
		hold(fmt.Sprintf("%s %d\n", host, dead.Process.Pid))
		c, out := newCluster(t, path)
		c.LockWait = 100 * time.Millisecond // no waiting: the owner is known dead
		if _, err := c.Deploy(context.Background(), deploy.DeployOptions{Binary: buildbin.Path(t)}); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !strings.Contains(out.String(), "which is gone") {
			t.Fatalf("no takeover reported:\n%s", out)
		}
		if _, err := os.Stat(lock); !os.IsNotExist(err) {
			t.Fatalf("lock left behind: %v", err)
		}
	})
}

// A deploy killed in the middle of an upload leaves the previous binary in
// place and working, and the next deploy completes.
func TestDeployKilledMidUpload(t *testing.T) {
	lab := testlab.New(t, 1)
	path := lab.WriteInventory(t, timings)
	c, _ := newCluster(t, path)
	old := buildbin.Path(t)
	if _, err := c.Deploy(context.Background(), deploy.DeployOptions{Binary: old}); err != nil {
		t.Fatal(err)
	}
	// A different, larger binary: the same program with 64 MiB appended.
	newer := filepath.Join(t.TempDir(), "zkctl")
	data, _ := os.ReadFile(old)
	if err := os.WriteFile(newer, append(data, make([]byte, 64<<20)...), 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(lab.Hosts[0].Dir, "bin")
	cmd := exec.Command(old, "-i", path, "deploy", "--binary", newer)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The binary crosses the network once, in the preflight, into a folder
	// of /tmp (this lab's hosts share this machine's); the upload step then
	// copies it into bin/ through a temporary file and a rename.
	staging := func() []string {
		m, _ := filepath.Glob("/tmp/zkctl-check.*/.zkctl.tmp*")
		return m
	}
	before := map[string]bool{}
	for _, f := range staging() { // other tests' deploys
		before[f] = true
	}
	uploading := func() string {
		for _, f := range staging() {
			if !before[f] {
				return f
			}
		}
		return ""
	}
	deadline := time.Now().Add(30 * time.Second)
	for uploading() == "" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	caught := uploading()
	if caught == "" {
		t.Fatal("never caught the deploy in the middle of its upload")
	}
	// A killed controller cannot remove its copy: it stays in /tmp (0700),
	// which a reboot empties.
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(caught)) })
	if got, _ := os.ReadFile(filepath.Join(bin, "zkctl")); !bytes.Equal(got, data) {
		t.Fatalf("the installed binary changed under a killed deploy (%d bytes, want %d)", len(got), len(data))
	}
	if out, err := exec.Command(filepath.Join(bin, "zkctl"), "node", "--dir", lab.Hosts[0].Dir, "info").CombinedOutput(); err != nil {
		t.Fatalf("the installed binary does not run: %v\n%s", err, out)
	}
	c2, out := newCluster(t, path)
	c2.LockWait = time.Second
	res, err := c2.Deploy(context.Background(), deploy.DeployOptions{Binary: newer})
	if err != nil || res[0].Binary != "pushed" {
		t.Fatalf("next deploy: %v %+v\n%s", err, res, out)
	}
}
