// Package testlab builds throw-away "hosts" for end-to-end tests: as root on Linux,
// New creates N network namespaces attached to a Linux bridge, each running its
// own OpenSSH sshd, so that tests can deploy over real SSH without VMs (see
// "Test hosts without VMs" in DESIGN.md).
//
// # Topology
//
// A lab takes one free /24 in 10.231.0.0/16, 10.231.X.0/24 with X in 1..254:
//
//	root namespace:  bridge zklXbr, address 10.231.X.1/24 (the test and the
//	                 zkctl controller run here and reach every host directly)
//	host i (0-based): namespace zklX-vm<i+1>, interface eth0 with address
//	                 10.231.X.(11+i)/24, lo up; host-side veth zklXh<i+1>
//	                 enslaved to the bridge
//
// Hosts reach each other and the root namespace over the bridge; they have no
// default route, so nothing inside a lab can reach the outside world.
// The octet X is reserved with an flock on /run/zkctl-testlab/X.lock held for the
// lifetime of the lab, so concurrent labs (in one process or several) never collide,
// and leftovers of a crashed run (whose lock died with it) are deleted the next time
// New runs.
//
// # sshd
//
// Each host runs "ip netns exec NS /usr/sbin/sshd -D -e -f CONFIG" as a child of the
// test process, listening on ADDR:22 with its own ed25519 host key, "UsePAM no",
// "StrictModes no", root login by key only, the internal SFTP server, and
// SHLVL=1 in every session's environment: bash, root's login shell, then
// does not read ~/.bashrc for each command. The hosts share the machine's
// /root, whose .bashrc on this image runs `pyenv init -`: about a second
// per SSH command, up to a minute when many start at once. Every host
// authorizes Lab.KeyFile for root; Lab.KnownHosts lists every host's key as
// created by New (it is not updated by SwapHostKey unless UpdateKnownHosts is called).
// Hosts share the filesystem (and the process table); only the network is separate,
// which is why every host has its own Host.Dir. Host.Dir is not created: like a
// fresh VM, whatever deploys to it must create it.
//
// # Cleanup
//
// New registers a t.Cleanup that stops the sshd processes it started (by pid, TERM
// then KILL), deletes the veths, the namespaces and the bridge, even when the test
// fails. testlab never kills a process by name and sends traffic only to the
// namespaces it created. Processes that a test starts inside a host (for example
// ZooKeeper launched over SSH) are that test's business: "ip netns del" does not
// kill them, they would keep running in a detached namespace without network. Stop
// them before the lab's cleanup runs (register their cleanup after calling New, so
// that it runs first), or call KillNamespaceProcs. The lab's cleanup logs any
// process still left in a namespace.
//
// The methods of Lab that take no testing.TB report failures through the TB given
// to New and must be called from the test's goroutine.
//
// # Second-version hosts
//
// NewVMs builds hosts that share nothing with this machine but its kernel and
// the read-only base of their disk (DESIGN.md "Test hosts, second version").
// Host i ("vm<i+1>", VMOptions.Profiles[i]) is:
//
//   - a network namespace on a bridge, as above (zklX-vm<i+1>, 10.231.X.(11+i));
//   - a disk: an overlay with lowerdir=/ (this machine's root) and an upper dir
//     of its own on the lab's folder (VMLab.Path(i, p) is p's place there); the
//     controller's folders are masked: /root, /home, /work, /var/tmp, /opt and
//     CacheDir are opaque (empty, then holding only what the host writes, kept
//     across reboots), /tmp and /run are tmpfs (emptied by a reboot); /proc,
//     /sys, /dev (null, zero, random, tty, a pts instance, shm) are its own;
//   - PID, mount, UTS and IPC namespaces: its PID 1 (a shell) mounts all that
//     privately (nothing appears on this machine), pivots into the overlay and
//     detaches the old root (nothing of this machine's tree is reachable, not
//     even through /proc/1/root), sets the hostname, starts sshd (its own host
//     key, UsePAM no, root login only for the root profile, TCP forwarding)
//     and reaps orphans. Reboot(i) kills PID 1 (the kernel kills the rest) and
//     boots again on the same upper dir.
//
// Profiles: Fresh (login "ubuntu", passwordless sudo; Java and ZooKeeper
// purged; apt lists only the lab's repository), NoSudo (login "zk", no sudo,
// Java and ZooKeeper present), Root (login root). Every login authorizes
// VMLab.KeyFile; VMLab.KnownHosts lists every host. VM.Dir is a suggested
// zkctl dir, not created: /opt/zkctl (root-owned parent) for fresh and root,
// /home/zk/zkctl (in the login's home) for nosudo.
//
// The fresh layer and the apt repository are built once per machine and kept
// in CacheDir: the layer is what "apt-get purge default-jre-headless zookeeper
// libzookeeper-java openjdk-*" leaves in an overlay's upper dir, keyed by a
// hash of /var/lib/dpkg/status (copied into each fresh host's upper dir); the
// repository holds the .deb files (apt-get download, keyed by version) of what
// "apt-get install default-jre-headless zookeeper" takes inside it, plus
// ProbePackage, indexed by dpkg-scanpackages. Each lab has its own copy
// (VMLab.Repo, hard links) bind-mounted read-only at RepoPath inside fresh
// hosts; OmitPackages (leave packages out: apt refuses the install before
// touching anything) and BreakPackage (a failing postinst: the install fails
// half-way) change it while the lab runs.
//
// With VMOptions.Bastion, a bastion host (profile root) is on the bridge with
// this machine, and the hosts are on a second bridge inside the bastion's
// network namespace (10.231.Y.0/24, the bastion at .1); this machine has an
// "unreachable" route for that subnet until teardown.
//
// Exec and Run enter every namespace of a host as root. Teardown kills every
// PID 1 and deletes routes, links and namespaces; it fails the test if any
// mount namespace still names the lab's folder (VMLab.Mounts).
package testlab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"zkctl/internal/retry"
	"zkctl/internal/syncbuf"
)

const (
	// SSHDPath is the sshd binary every host runs.
	SSHDPath = "/usr/sbin/sshd"

	netPrefix      = "10.231" // the lab's /24 is netPrefix.X.0/24
	firstHostOctet = 11       // host i gets netPrefix.X.(firstHostOctet+i)
	maxHosts       = 50
	lockDir        = "/run/zkctl-testlab"
	privsepDir     = "/run/sshd"

	startTimeout = 10 * time.Second // sshd must accept TCP within this
	stopTimeout  = 5 * time.Second  // after SIGTERM, before SIGKILL
)

// Host is one namespace "VM" of a Lab.
type Host struct {
	Name    string // "vm1", "vm2", ...
	Addr    string // IPv4 address inside the namespace, e.g. "10.231.7.11"
	NetNS   string // namespace name, e.g. "zkl7-vm1"
	Dir     string // a distinct per-host dir under the lab's temp dir, e.g. <tmp>/vm1 (not created)
	SSHPort int    // 22
}

// Lab is a set of hosts created by New.
type Lab struct {
	Hosts      []Host
	Dir        string // temp root (t.TempDir())
	KeyFile    string // private ed25519 client key (OpenSSH format, no passphrase) authorized for root on every host
	KnownHosts string // known_hosts with every host's key as of New (or the last UpdateKnownHosts)

	Bridge     string // bridge in the root namespace, e.g. "zkl7br"
	BridgeAddr string // the root namespace's address on the bridge, e.g. "10.231.7.1"
	Subnet     string // e.g. "10.231.7.0/24"

	t              testing.TB
	octet          int
	lock           *os.File
	authorizedKeys string
	hosts          []*hostState
	bridgeMade     bool
}

type hostState struct {
	sshDir   string // per-host sshd files
	config   string
	hostKey  string // private host key path; public key at hostKey+".pub"
	veth     string // host-side veth in the root namespace
	nsMade   bool
	vethMade bool
	sshd     *sshdProc
}

type sshdProc struct {
	cmd    *exec.Cmd
	stderr *syncbuf.Buffer
	done   chan struct{} // closed when cmd.Wait returned
	err    error         // cmd.Wait's result, valid after done
}

// New creates n hosts (1 ≤ n ≤ 50) and returns when every host's sshd accepts
// TCP connections. It calls t.Skip when not running as root, when ip, ssh-keygen or
// /usr/sbin/sshd is missing (apt-get install -y openssh-server), or when a bridge or
// network namespace cannot be created. Everything is torn down by a t.Cleanup
// registered here.
func New(t testing.TB, n int) *Lab {
	t.Helper()
	if n < 1 || n > maxHosts {
		t.Fatalf("testlab: %d hosts requested, want 1..%d", n, maxHosts)
	}
	if os.Geteuid() != 0 {
		t.Skip("testlab: needs root (network namespaces, bridge, sshd)")
	}
	for _, tool := range []string{"ip", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("testlab: %s not found in PATH (install iproute2 / openssh-client)", tool)
		}
	}
	if _, err := os.Stat(SSHDPath); err != nil {
		t.Skipf("testlab: %s missing (apt-get install -y openssh-server): %v", SSHDPath, err)
	}

	// Temp dir first: its removal is a cleanup registered before ours, so it
	// runs after ours, once sshd no longer uses the files.
	dir := t.TempDir()
	l := &Lab{t: t, Dir: dir}

	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		t.Fatalf("testlab: %v", err)
	}
	// sshd's privilege separation directory; must be root-owned and not writable by others.
	if err := os.MkdirAll(privsepDir, 0o755); err != nil {
		t.Fatalf("testlab: %v", err)
	}
	sweepStale()

	l.octet, l.lock = reserveOctet(t)
	t.Cleanup(l.teardown)

	x := l.octet
	l.Bridge = fmt.Sprintf("zkl%dbr", x)
	l.BridgeAddr = fmt.Sprintf("%s.%d.1", netPrefix, x)
	l.Subnet = fmt.Sprintf("%s.%d.0/24", netPrefix, x)
	removeOctetLeftovers(x) // a crashed lab's, now that the octet is ours

	if out, err := ipCmd("link", "add", "name", l.Bridge, "type", "bridge"); err != nil {
		t.Skipf("testlab: cannot create a bridge (need CAP_NET_ADMIN): %v: %s", err, out)
	}
	l.bridgeMade = true
	l.mustIP("addr", "add", l.BridgeAddr+"/24", "dev", l.Bridge)
	l.mustIP("link", "set", l.Bridge, "up")

	sshRoot := filepath.Join(dir, "sshd")
	if err := os.MkdirAll(sshRoot, 0o700); err != nil {
		t.Fatalf("testlab: %v", err)
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("vm%d", i+1)
		h := Host{
			Name:    name,
			Addr:    fmt.Sprintf("%s.%d.%d", netPrefix, x, firstHostOctet+i),
			NetNS:   fmt.Sprintf("zkl%d-%s", x, name),
			Dir:     filepath.Join(dir, name),
			SSHPort: 22,
		}
		hs := &hostState{
			sshDir: filepath.Join(sshRoot, name),
			veth:   fmt.Sprintf("zkl%dh%d", x, i+1),
		}
		hs.config = filepath.Join(hs.sshDir, "sshd_config")
		hs.hostKey = filepath.Join(hs.sshDir, "ssh_host_ed25519_key")
		l.Hosts = append(l.Hosts, h)
		l.hosts = append(l.hosts, hs)

		if nsExists(h.NetNS) { // stale, from a run that could not clean up
			_, _ = ipCmd("netns", "del", h.NetNS)
		}
		if out, err := ipCmd("netns", "add", h.NetNS); err != nil {
			t.Skipf("testlab: cannot create network namespace %s: %v: %s", h.NetNS, err, out)
		}
		hs.nsMade = true
		l.mustIP("link", "add", hs.veth, "type", "veth", "peer", "name", "eth0", "netns", h.NetNS)
		hs.vethMade = true
		l.mustIP("link", "set", hs.veth, "master", l.Bridge)
		l.mustIP("link", "set", hs.veth, "up")
		l.mustIP("-n", h.NetNS, "addr", "add", h.Addr+"/24", "dev", "eth0")
		l.mustIP("-n", h.NetNS, "link", "set", "eth0", "up")
		l.mustIP("-n", h.NetNS, "link", "set", "lo", "up")
	}

	// Keys.
	l.KeyFile = filepath.Join(dir, "id_ed25519")
	l.keygen(l.KeyFile, "zkctl-testlab")
	pub, err := os.ReadFile(l.KeyFile + ".pub")
	if err != nil {
		t.Fatalf("testlab: %v", err)
	}
	l.authorizedKeys = filepath.Join(sshRoot, "authorized_keys")
	if err := os.WriteFile(l.authorizedKeys, pub, 0o600); err != nil {
		t.Fatalf("testlab: %v", err)
	}
	for i, hs := range l.hosts {
		if err := os.MkdirAll(hs.sshDir, 0o700); err != nil {
			t.Fatalf("testlab: %v", err)
		}
		l.keygen(hs.hostKey, l.Hosts[i].Name)
		l.writeConfig(i)
	}
	l.KnownHosts = filepath.Join(dir, "known_hosts")
	l.UpdateKnownHosts()

	// Start every sshd, then wait for all (they come up in parallel).
	for i := range l.hosts {
		l.spawnSSHD(i)
	}
	for i := range l.hosts {
		l.waitSSHD(i)
	}
	l.checkBridging()
	return l
}

// StopSSHD stops host i's sshd (SIGTERM, then SIGKILL, by pid) so that connecting
// to the host's port 22 is refused. Established SSH sessions are not cut (as with
// a real sshd restart). Stopping a stopped sshd does nothing.
func (l *Lab) StopSSHD(i int) {
	l.t.Helper()
	l.checkIndex(i)
	if err := stopProc(l.hosts[i].sshd); err != nil {
		l.t.Fatalf("testlab: %s: stop sshd: %v", l.Hosts[i].Name, err)
	}
	l.hosts[i].sshd = nil
}

// StartSSHD starts host i's sshd again and waits until it accepts connections.
// Starting a running sshd does nothing.
func (l *Lab) StartSSHD(i int) {
	l.t.Helper()
	l.checkIndex(i)
	if l.hosts[i].sshd != nil && !l.hosts[i].sshd.exited() {
		return
	}
	l.spawnSSHD(i)
	l.waitSSHD(i)
}

// SwapHostKey gives host i a new host key and restarts its sshd, so that
// KnownHosts is stale for that host (a client checking it gets a *knownhosts.KeyError
// with Want set). Call UpdateKnownHosts to accept the new key.
func (l *Lab) SwapHostKey(i int) {
	l.t.Helper()
	l.checkIndex(i)
	l.StopSSHD(i)
	hs := l.hosts[i]
	for _, f := range []string{hs.hostKey, hs.hostKey + ".pub"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			l.t.Fatalf("testlab: %v", err)
		}
	}
	l.keygen(hs.hostKey, l.Hosts[i].Name)
	l.StartSSHD(i)
}

// HostKey returns host i's current public host key, "ssh-ed25519 AAAA... vmN".
func (l *Lab) HostKey(i int) string {
	l.t.Helper()
	l.checkIndex(i)
	b, err := os.ReadFile(l.hosts[i].hostKey + ".pub")
	if err != nil {
		l.t.Fatalf("testlab: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// UpdateKnownHosts rewrites KnownHosts with every host's current key, one line
// "ADDR ssh-ed25519 AAAA... vmN" per host.
func (l *Lab) UpdateKnownHosts() {
	l.t.Helper()
	var b strings.Builder
	for i, h := range l.Hosts {
		fmt.Fprintf(&b, "%s %s\n", h.Addr, l.HostKey(i))
	}
	if err := os.WriteFile(l.KnownHosts, []byte(b.String()), 0o600); err != nil {
		l.t.Fatalf("testlab: %v", err)
	}
}

// SSHDPid returns the pid of host i's sshd, or 0 when it is stopped.
func (l *Lab) SSHDPid(i int) int {
	l.checkIndex(i)
	p := l.hosts[i].sshd
	if p == nil || p.exited() {
		return 0
	}
	return p.cmd.Process.Pid
}

// SSHDStderr returns what host i's current sshd wrote to stderr (LogLevel ERROR).
func (l *Lab) SSHDStderr(i int) string {
	l.checkIndex(i)
	if p := l.hosts[i].sshd; p != nil {
		return p.stderr.String()
	}
	return ""
}

// Inventory returns the TOML text of an inventory (DESIGN.md "Inventory (TOML)")
// for the lab: an [ssh] table (user "root", port 22, identity_file KeyFile,
// known_hosts KnownHosts) and one [[host]] table per host with name, address,
// dir and run_as = "root" (the hosts share this machine's users and folders). extra is appended verbatim after a blank line; since it follows the last
// [[host]], it must begin with a table header (e.g. "[cluster]\ntick_time = ...").
func (l *Lab) Inventory(extra string) string {
	var b strings.Builder
	b.WriteString("# generated by zkctl/internal/testlab\n\n")
	b.WriteString("[ssh]\n")
	b.WriteString("user = \"root\"\n")
	b.WriteString("port = 22\n")
	fmt.Fprintf(&b, "identity_file = %s\n", tomlString(l.KeyFile))
	fmt.Fprintf(&b, "known_hosts = %s\n", tomlString(l.KnownHosts))
	for _, h := range l.Hosts {
		b.WriteString("\n[[host]]\n")
		fmt.Fprintf(&b, "name = %s\n", tomlString(h.Name))
		fmt.Fprintf(&b, "address = %s\n", tomlString(h.Addr))
		fmt.Fprintf(&b, "dir = %s\n", tomlString(h.Dir))
		b.WriteString("run_as = \"root\"\n") // these hosts share this machine's users and folders
	}
	appendExtra(&b, extra)
	return b.String()
}

// appendExtra appends the caller's own inventory lines after the hosts.
func appendExtra(b *strings.Builder, extra string) {
	if extra != "" {
		b.WriteString("\n" + extra)
		if !strings.HasSuffix(extra, "\n") {
			b.WriteString("\n")
		}
	}
}

// WriteInventory writes Inventory(extra) to l.Dir/inventory.toml and returns its path.
func (l *Lab) WriteInventory(t testing.TB, extra string) string {
	return writeInventory(t, l.Dir, l.Inventory(extra))
}

// writeInventory writes an inventory to dir/inventory.toml and returns its path.
func writeInventory(t testing.TB, dir, content string) string {
	t.Helper()
	p := filepath.Join(dir, "inventory.toml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatalf("testlab: write inventory: %v", err)
	}
	return p
}

// Exec returns a command that runs name with args inside host i's network
// namespace ("ip netns exec NS name args..."). The pid of the started command is
// that of name itself (ip execs it). The caller owns the process.
func (l *Lab) Exec(i int, name string, args ...string) *exec.Cmd {
	l.checkIndex(i)
	return exec.Command("ip", append([]string{"netns", "exec", l.Hosts[i].NetNS, name}, args...)...)
}

// NamespacePids returns the pids of the processes whose network namespace is host
// i's (sshd and anything started over SSH or with Exec).
func (l *Lab) NamespacePids(i int) []int {
	l.checkIndex(i)
	return nsPids(l.Hosts[i].NetNS)
}

// KillNamespaceProcs sends SIGKILL, by pid, to every process in host i's network
// namespace except the lab's own sshd, and waits (up to 5 s) until they are gone.
// It returns the pids it signalled. Use it in a test's own cleanup when the test
// started processes on a host that it cannot stop properly.
func (l *Lab) KillNamespaceProcs(i int) []int {
	l.checkIndex(i)
	own := l.SSHDPid(i)
	var killed []int
	for _, pid := range l.NamespacePids(i) {
		if pid == own || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed = append(killed, pid)
		}
	}
	_ = retry.Poll(context.Background(), 10*time.Millisecond, stopTimeout, func() (bool, error) {
		return !slices.ContainsFunc(killed, pidAlive), nil
	})
	return killed
}

// ---- internals ----

func (l *Lab) checkIndex(i int) {
	if i < 0 || i >= len(l.Hosts) {
		l.t.Helper()
		l.t.Fatalf("testlab: host index %d out of range [0, %d)", i, len(l.Hosts))
	}
}

func (l *Lab) mustIP(args ...string) {
	l.t.Helper()
	if out, err := ipCmd(args...); err != nil {
		l.t.Fatalf("testlab: ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func (l *Lab) keygen(path, comment string) {
	l.t.Helper()
	if err := keygen(path, comment); err != nil {
		l.t.Fatalf("testlab: %v", err)
	}
}

// keygen writes a new ed25519 key pair, path and path.pub, without passphrase.
func keygen(path, comment string) error {
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ssh-keygen %s: %w: %s", path, err, out)
	}
	return nil
}

func (l *Lab) writeConfig(i int) {
	l.t.Helper()
	h, hs := l.Hosts[i], l.hosts[i]
	cfg := fmt.Sprintf(`# sshd for testlab host %s (namespace %s)
ListenAddress %s:22
HostKey %s
PidFile %s
AuthorizedKeysFile %s
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
PrintMotd no
PrintLastLog no
Subsystem sftp internal-sftp
LogLevel ERROR
SetEnv SHLVL=1
`, h.Name, h.NetNS, h.Addr, hs.hostKey, filepath.Join(hs.sshDir, "sshd.pid"), l.authorizedKeys)
	if err := os.WriteFile(hs.config, []byte(cfg), 0o600); err != nil {
		l.t.Fatalf("testlab: %v", err)
	}
}

// checkBridging verifies that host 1 reaches host 2's sshd over the bridge (the
// root namespace reaching every host was verified by waitSSHD). With br_netfilter
// loaded, bridged frames traverse iptables' FORWARD chain, and a DROP policy there
// (as Docker sets) would cut hosts off from each other.
func (l *Lab) checkBridging() {
	l.t.Helper()
	if len(l.Hosts) < 2 {
		return
	}
	if _, err := exec.LookPath("bash"); err != nil {
		return
	}
	to := l.Hosts[1].Addr
	out, err := l.Exec(0, "timeout", "5", "bash", "-c", "exec 3<>/dev/tcp/"+to+"/22").CombinedOutput()
	if err != nil {
		l.t.Fatalf("testlab: %s cannot reach %s:22 over bridge %s: %v: %s\n"+
			"(if br_netfilter is loaded, check iptables' FORWARD chain, or set "+
			"net.bridge.bridge-nf-call-iptables=0)", l.Hosts[0].Name, to, l.Bridge, err, out)
	}
}

func (l *Lab) spawnSSHD(i int) {
	l.t.Helper()
	h, hs := l.Hosts[i], l.hosts[i]
	p := &sshdProc{stderr: &syncbuf.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command("ip", "netns", "exec", h.NetNS, SSHDPath, "-D", "-e", "-f", hs.config)
	p.cmd.Stdout = p.stderr
	p.cmd.Stderr = p.stderr
	// sshd's per-connection children inherit the output pipe and outlive the
	// listener while a client stays connected: do not let Wait block on them.
	p.cmd.WaitDelay = 200 * time.Millisecond
	p.cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // not hit by the terminal's ^C meant for go test
		Pdeathsig: syscall.SIGKILL, // dies with the test process if it crashes
	}
	if err := p.cmd.Start(); err != nil {
		l.t.Fatalf("testlab: %s: start sshd: %v", h.Name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	hs.sshd = p
}

func (l *Lab) waitSSHD(i int) {
	l.t.Helper()
	h, p := l.Hosts[i], l.hosts[i].sshd
	addr := net.JoinHostPort(h.Addr, strconv.Itoa(h.SSHPort))
	var lastErr error
	err := retry.Poll(context.Background(), 20*time.Millisecond, startTimeout, func() (bool, error) {
		if p.exited() {
			l.t.Fatalf("testlab: %s: sshd exited: %v; stderr:\n%s", h.Name, p.err, p.stderr.String())
		}
		c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err == nil {
			c.Close()
			return true, nil
		}
		lastErr = err
		return false, nil
	})
	if err == nil {
		return
	}
	l.t.Fatalf("testlab: %s: sshd does not accept on %s after %v: %v; stderr:\n%s",
		h.Name, addr, startTimeout, lastErr, p.stderr.String())
}

func (p *sshdProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stopProc stops p by pid: SIGTERM, then SIGKILL after stopTimeout, and waits.
func stopProc(p *sshdProc) error {
	if p == nil || p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("pid %d still running after SIGKILL", p.cmd.Process.Pid)
	}
}

// teardown undoes whatever New managed to create; it is safe on a partial lab.
func (l *Lab) teardown() {
	var errs []string
	for i, hs := range l.hosts {
		if err := stopProc(hs.sshd); err != nil {
			errs = append(errs, fmt.Sprintf("%s: stop sshd: %v", l.Hosts[i].Name, err))
		}
		hs.sshd = nil
	}
	for i, hs := range l.hosts {
		h := l.Hosts[i]
		if hs.nsMade {
			if pids := nsPids(h.NetNS); len(pids) > 0 {
				l.t.Logf("testlab: %s: processes still in namespace %s (left running, detached): %s",
					h.Name, h.NetNS, describePids(pids))
			}
		}
		if hs.vethMade {
			if out, err := ipCmd("link", "del", hs.veth); err != nil && linkExists(hs.veth) {
				errs = append(errs, fmt.Sprintf("ip link del %s: %v: %s", hs.veth, err, out))
			}
		}
		if hs.nsMade {
			if out, err := ipCmd("netns", "del", h.NetNS); err != nil && nsExists(h.NetNS) {
				errs = append(errs, fmt.Sprintf("ip netns del %s: %v: %s", h.NetNS, err, out))
			}
		}
	}
	if l.bridgeMade {
		if out, err := ipCmd("link", "del", l.Bridge); err != nil && linkExists(l.Bridge) {
			errs = append(errs, fmt.Sprintf("ip link del %s: %v: %s", l.Bridge, err, out))
		}
	}
	if l.lock != nil {
		l.lock.Close() // releases the octet; the lock file itself stays (see reserveOctet)
		l.lock = nil
	}
	if len(errs) > 0 {
		l.t.Errorf("testlab: teardown: %s", strings.Join(errs, "; "))
	}
}

// ---- octet reservation and stale leftovers ----

// reserveOctet picks X in 1..254 such that 10.231.X.0/24 does not overlap any
// address or route of the root namespace other than a testlab's own, and holds an
// exclusive flock on lockDir/X.lock. The lock files are never removed: removing a
// lock file that another process may have opened would let two labs own one octet.
func reserveOctet(t testing.TB) (int, *os.File) {
	t.Helper()
	used := usedNets()
	start := (os.Getpid() + rand.IntN(254)) % 254
	for k := 0; k < 254; k++ {
		x := (start+k)%254 + 1
		_, cand, _ := net.ParseCIDR(fmt.Sprintf("%s.%d.0/24", netPrefix, x))
		if overlapsAny(cand, used) {
			continue
		}
		f, ok := tryLock(x)
		if ok {
			return x, f
		}
	}
	t.Skipf("testlab: no free subnet in %s.0.0/16", netPrefix)
	return 0, nil
}

func tryLock(x int) (*os.File, bool) {
	f, err := os.OpenFile(filepath.Join(lockDir, fmt.Sprintf("%d.lock", x)), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return f, true
}

var (
	linkRe = regexp.MustCompile(`^zkl([0-9]{1,3})(br|h[0-9]+)$`)
	nsRe   = regexp.MustCompile(`^zkl([0-9]{1,3})-`)
)

// sweepStale deletes the links and namespaces named by testlab's scheme whose
// octet nobody holds (their lab crashed). It takes each octet's lock while
// cleaning, so it cannot race with a lab being created.
func sweepStale() {
	octets := map[int]bool{}
	if ifs, err := net.Interfaces(); err == nil {
		for _, ifc := range ifs {
			if m := linkRe.FindStringSubmatch(ifc.Name); m != nil {
				x, _ := strconv.Atoi(m[1])
				octets[x] = true
			}
		}
	}
	for _, ns := range nsList() {
		if m := nsRe.FindStringSubmatch(ns); m != nil {
			x, _ := strconv.Atoi(m[1])
			octets[x] = true
		}
	}
	for x := range octets {
		if x < 1 || x > 254 {
			continue
		}
		if f, ok := tryLock(x); ok {
			removeOctetLeftovers(x)
			f.Close()
		}
	}
}

// removeOctetLeftovers deletes the veths, namespaces and bridge of octet x. The
// caller holds x's lock.
func removeOctetLeftovers(x int) {
	prefix := fmt.Sprintf("zkl%d", x)
	var bridge bool
	if ifs, err := net.Interfaces(); err == nil {
		for _, ifc := range ifs {
			m := linkRe.FindStringSubmatch(ifc.Name)
			if m == nil || "zkl"+m[1] != prefix {
				continue
			}
			if m[2] == "br" {
				bridge = true
				continue
			}
			_, _ = ipCmd("link", "del", ifc.Name)
		}
	}
	for _, ns := range nsList() {
		if strings.HasPrefix(ns, prefix+"-") {
			_, _ = ipCmd("netns", "del", ns)
		}
	}
	if bridge {
		_, _ = ipCmd("link", "del", prefix+"br")
	}
}

// usedNets returns the IPv4 networks of the root namespace's addresses and of its
// routes inside 10.0.0.0/8, except those on testlab's own links.
func usedNets() []*net.IPNet {
	var nets []*net.IPNet
	if ifs, err := net.Interfaces(); err == nil {
		for _, ifc := range ifs {
			if linkRe.MatchString(ifc.Name) {
				continue
			}
			addrs, _ := ifc.Addrs()
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
					nets = append(nets, n)
				}
			}
		}
	}
	out, err := exec.Command("ip", "-4", "route", "show", "table", "all", "root", "10.0.0.0/8").Output()
	if err == nil {
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 0 {
				continue
			}
			if i := indexOf(f, "dev"); i >= 0 && i+1 < len(f) && linkRe.MatchString(f[i+1]) {
				continue
			}
			dst := f[0]
			switch dst {
			case "broadcast", "local", "unicast", "multicast", "anycast":
				if len(f) < 2 {
					continue
				}
				dst = f[1]
			}
			if !strings.Contains(dst, "/") {
				dst += "/32"
			}
			if _, n, err := net.ParseCIDR(dst); err == nil {
				nets = append(nets, n)
			}
		}
	}
	return nets
}

func overlapsAny(n *net.IPNet, used []*net.IPNet) bool {
	for _, u := range used {
		if u.Contains(n.IP) || n.Contains(u.IP) {
			return true
		}
	}
	return false
}

// ---- small helpers ----

func ipCmd(args ...string) (string, error) {
	out, err := exec.Command("ip", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func nsList() []string {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return nil
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0]) // "name (id: 3)"
		}
	}
	return names
}

func nsExists(name string) bool {
	_, err := os.Stat(filepath.Join("/run/netns", name))
	return err == nil
}

func linkExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

func nsPids(ns string) []int {
	out, err := exec.Command("ip", "netns", "pids", ns).Output()
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

func describePids(pids []int) string {
	parts := make([]string, 0, len(pids))
	for _, pid := range pids {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		parts = append(parts, fmt.Sprintf("%d (%s)", pid, strings.TrimSpace(string(comm))))
	}
	return strings.Join(parts, ", ")
}

// pidAlive reports whether pid exists and is not a zombie.
func pidAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

func indexOf(ss []string, s string) int {
	for i, v := range ss {
		if v == s {
			return i
		}
	}
	return -1
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
