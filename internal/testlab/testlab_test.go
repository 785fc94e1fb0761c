package testlab

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func dial(t *testing.T, lab *Lab, i int) (*ssh.Client, error) {
	t.Helper()
	key, err := os.ReadFile(lab.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		t.Fatalf("parse KeyFile: %v", err)
	}
	hk, err := knownhosts.New(lab.KnownHosts)
	if err != nil {
		t.Fatalf("knownhosts.New: %v", err)
	}
	cfg := &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hk,
		Timeout:         5 * time.Second,
	}
	return ssh.Dial("tcp", net.JoinHostPort(lab.Hosts[i].Addr, "22"), cfg)
}

func run(t *testing.T, c *ssh.Client, cmd string) string {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	if err != nil {
		t.Fatalf("%q: %v: %s", cmd, err, out)
	}
	return string(out)
}

func mustDial(t *testing.T, lab *Lab, i int) *ssh.Client {
	t.Helper()
	c, err := dial(t, lab, i)
	if err != nil {
		t.Fatalf("%s: dial: %v (sshd stderr: %s)", lab.Hosts[i].Name, err, lab.SSHDStderr(i))
	}
	return c
}

func TestLab(t *testing.T) {
	var (
		bridge  string
		nss     []string
		pids    []int
		skipped = true
	)
	t.Run("lab", func(t *testing.T) {
		start := time.Now()
		lab := New(t, 3)
		skipped = false
		t.Logf("lab up in %v: subnet %s, bridge %s", time.Since(start).Round(time.Millisecond), lab.Subnet, lab.Bridge)
		bridge = lab.Bridge
		for i, h := range lab.Hosts {
			nss = append(nss, h.NetNS)
			pids = append(pids, lab.SSHDPid(i))
		}

		// Every host: SSH works with KeyFile + KnownHosts, and the session runs
		// inside the host's namespace (it sees its own address, not the others').
		for i, h := range lab.Hosts {
			c := mustDial(t, lab, i)
			out := run(t, c, "ip -4 -o addr show")
			if !strings.Contains(out, " "+h.Addr+"/24 ") {
				t.Errorf("%s: address %s not in:\n%s", h.Name, h.Addr, out)
			}
			for j, o := range lab.Hosts {
				if j != i && strings.Contains(out, " "+o.Addr+"/") {
					t.Errorf("%s: sees %s's address %s:\n%s", h.Name, o.Name, o.Addr, out)
				}
			}
			// Host-to-host over the bridge.
			next := lab.Hosts[(i+1)%len(lab.Hosts)]
			run(t, c, "timeout 3 bash -c '</dev/tcp/"+next.Addr+"/22'")
			c.Close()
		}

		// Exec runs inside the namespace.
		out, err := lab.Exec(1, "ip", "-4", "-o", "addr", "show", "dev", "eth0").CombinedOutput()
		if err != nil || !strings.Contains(string(out), lab.Hosts[1].Addr) {
			t.Errorf("Exec: %v: %s", err, out)
		}

		// Inventory decodes and names every host.
		var inv struct {
			SSH struct {
				User         string `toml:"user"`
				Port         int    `toml:"port"`
				IdentityFile string `toml:"identity_file"`
				KnownHosts   string `toml:"known_hosts"`
			} `toml:"ssh"`
			Cluster struct {
				TickTime string `toml:"tick_time"`
			} `toml:"cluster"`
			Host []struct {
				Name    string `toml:"name"`
				Address string `toml:"address"`
				Dir     string `toml:"dir"`
				RunAs   string `toml:"run_as"`
			} `toml:"host"`
		}
		path := lab.WriteInventory(t, "[cluster]\ntick_time = \"500ms\"")
		md, err := toml.DecodeFile(path, &inv)
		if err != nil {
			t.Fatalf("inventory: %v\n%s", err, lab.Inventory(""))
		}
		if und := md.Undecoded(); len(und) > 0 {
			t.Errorf("inventory: unexpected keys %v", und)
		}
		if inv.SSH.User != "root" || inv.SSH.Port != 22 || inv.SSH.IdentityFile != lab.KeyFile ||
			inv.SSH.KnownHosts != lab.KnownHosts || inv.Cluster.TickTime != "500ms" || len(inv.Host) != 3 {
			t.Errorf("inventory: %+v", inv)
		}
		for i, h := range inv.Host {
			if want := lab.Hosts[i]; h.Name != want.Name || h.Address != want.Addr || h.Dir != want.Dir || h.RunAs != "root" {
				t.Errorf("inventory host %d: %+v, want %+v", i, h, want)
			}
		}

		// StopSSHD: connection refused; StartSSHD: back.
		lab.StopSSHD(1)
		if lab.SSHDPid(1) != 0 {
			t.Errorf("SSHDPid after StopSSHD = %d", lab.SSHDPid(1))
		}
		if c, err := dial(t, lab, 1); err == nil {
			c.Close()
			t.Errorf("dial after StopSSHD succeeded")
		} else if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial after StopSSHD: %v, want connection refused", err)
		}
		lab.StartSSHD(1)
		mustDial(t, lab, 1).Close()

		// SwapHostKey: KnownHosts is stale → key mismatch.
		lab.SwapHostKey(2)
		c, err := dial(t, lab, 2)
		var ke *knownhosts.KeyError
		switch {
		case err == nil:
			c.Close()
			t.Errorf("dial after SwapHostKey succeeded")
		case !errors.As(err, &ke):
			t.Errorf("dial after SwapHostKey: %v, want *knownhosts.KeyError", err)
		case len(ke.Want) == 0:
			t.Errorf("dial after SwapHostKey: KeyError without Want (host unknown): %v", err)
		}
		lab.UpdateKnownHosts()
		mustDial(t, lab, 2).Close()
		pids[1], pids[2] = lab.SSHDPid(1), lab.SSHDPid(2)
	})
	if skipped {
		t.Skip("lab skipped")
	}

	// After the subtest's cleanup nothing is left.
	if linkExists(bridge) {
		t.Errorf("bridge %s left behind", bridge)
	}
	for _, ns := range nss {
		if nsExists(ns) {
			t.Errorf("namespace %s left behind", ns)
		}
	}
	for _, pid := range pids {
		if pid != 0 && pidAlive(pid) {
			t.Errorf("sshd pid %d still alive", pid)
		}
	}
	if ifs, err := net.Interfaces(); err == nil {
		for _, ifc := range ifs {
			if strings.HasPrefix(ifc.Name, strings.TrimSuffix(bridge, "br")+"h") {
				t.Errorf("veth %s left behind", ifc.Name)
			}
		}
	}
}

// Two labs at once get distinct subnets and names.
func TestTwoLabs(t *testing.T) {
	a := New(t, 1)
	b := New(t, 1)
	if a.Subnet == b.Subnet || a.Bridge == b.Bridge || a.Hosts[0].NetNS == b.Hosts[0].NetNS {
		t.Fatalf("labs collide: %s/%s %s/%s", a.Subnet, a.Bridge, b.Subnet, b.Bridge)
	}
	mustDial(t, a, 0).Close()
	mustDial(t, b, 0).Close()
}

// TestCrashHelper is the child of TestCrashRecovery: it builds a lab, reports it
// and waits to be killed.
func TestCrashHelper(t *testing.T) {
	if os.Getenv("TESTLAB_CRASH_HELPER") != "1" {
		t.Skip("helper process for TestCrashRecovery")
	}
	lab := New(t, 2)
	fmt.Printf("READY %s %s %s %d %d\n", lab.Bridge, lab.Hosts[0].NetNS, lab.Hosts[1].NetNS, lab.SSHDPid(0), lab.SSHDPid(1))
	time.Sleep(time.Minute)
}

// A lab whose process dies without cleanup: its sshds die with it (Pdeathsig) and
// the next New deletes its bridge, veths and namespaces.
func TestCrashRecovery(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "TESTLAB_CRASH_HELPER=1", "TMPDIR="+t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "READY ") || strings.Contains(sc.Text(), "SKIP") {
				lines <- sc.Text()
				break
			}
		}
		close(lines)
		io.Copy(io.Discard, stdout)
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(20 * time.Second):
	}
	cmd.Process.Kill()
	cmd.Wait()
	f := strings.Fields(line)
	if len(f) != 6 || f[0] != "READY" {
		t.Fatalf("helper did not report a lab: %q", line)
	}
	bridge, nss := f[1], f[2:4]
	for _, s := range f[4:6] {
		pid, _ := strconv.Atoi(s)
		deadline := time.Now().Add(3 * time.Second)
		for pidAlive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if pidAlive(pid) {
			t.Errorf("sshd %d survived its test process", pid)
		}
	}
	if !linkExists(bridge) || !nsExists(nss[0]) {
		t.Fatalf("crashed lab's bridge %s / namespace %s not found before New", bridge, nss[0])
	}
	New(t, 1)
	if linkExists(bridge) {
		t.Errorf("stale bridge %s not removed", bridge)
	}
	for _, ns := range nss {
		if nsExists(ns) {
			t.Errorf("stale namespace %s not removed", ns)
		}
	}
}
