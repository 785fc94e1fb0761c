package testlab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"zkctl/internal/retry"
	"zkctl/internal/syncbuf"
)

// Profile is what a second-version host looks like to whoever logs in.
type Profile string

// The profiles of NewVMs (DESIGN.md "Test hosts, second version").
const (
	// Fresh: Java and ZooKeeper purged, apt sources list only the lab's local
	// repository; login "ubuntu" with passwordless sudo.
	Fresh Profile = "fresh"
	// NoSudo: Java and ZooKeeper present; login "zk", no sudo.
	NoSudo Profile = "nosudo"
	// Root: Java and ZooKeeper present; login root.
	Root Profile = "root"
)

// login returns the profile's login user and whether it has sudo.
func (p Profile) login() (string, bool, error) {
	switch p {
	case Fresh:
		return "ubuntu", true, nil
	case NoSudo:
		return "zk", false, nil
	case Root:
		return "root", false, nil
	}
	return "", false, fmt.Errorf("unknown profile %q (want %q, %q or %q)", p, Fresh, NoSudo, Root)
}

// VMOptions says what NewVMs builds.
type VMOptions struct {
	// Profiles has one entry per host: host i is "vm<i+1>" with Profiles[i].
	Profiles []Profile
	// Bastion puts the hosts on a second bridge reachable only from a bastion
	// host (login root, TCP forwarding allowed), the only host this machine
	// reaches; this machine gets an unreachable route for the hosts' subnet.
	Bastion bool
	// OmitPackages are left out of the lab's apt repository (see OmitPackages).
	OmitPackages []string
}

// VM is one second-version host of a VMLab.
type VM struct {
	Name    string  // "vm1", "vm2", ... or "bastion"
	Addr    string  // its IPv4 address, e.g. "10.231.7.11"
	User    string  // its login: "ubuntu" (fresh), "zk" (nosudo), "root"
	Sudo    bool    // the login has passwordless sudo (fresh)
	Profile Profile // what it looks like
	// Dir is a suggested zkctl dir, not created: "/opt/zkctl" where the login
	// is root or has sudo, "/home/zk/zkctl" (inside the login's home) for nosudo.
	Dir   string
	NetNS string // its network namespace, e.g. "zkl7-vm1"
}

// VMLab is a set of second-version hosts made by NewVMs.
type VMLab struct {
	Hosts      []VM
	Bastion    *VM    // nil without VMOptions.Bastion
	Dir        string // the lab's folder on this machine (t.TempDir())
	KeyFile    string // private ed25519 client key authorized for every host's login (and the bastion's root)
	KnownHosts string // every host's key (and the bastion's), "ADDR ssh-ed25519 AAAA... NAME"
	// Repo is the lab's apt repository on this machine (fresh hosts see it
	// read-only at RepoPath); "" when no host is fresh.
	Repo string

	t       testing.TB
	octets  []int
	locks   []*os.File
	bridge  string
	route   string // the unreachable route added for the hosts' subnet, or ""
	tmpfs   string // a tmpfs this lab mounted for the upper dirs, or ""
	img     *freshImage
	vms     []*vmState // Hosts, then the bastion
	pubKey  string
	netnses []string
	links   []string // links to delete, in the root namespace
}

type vmState struct {
	vm                  *VM
	upper, work, merged string
	hostPub             string
	init                *sshdProc // PID 1 of the host's PID namespace
}

const (
	bootTimeout  = 20 * time.Second // PID 1 to sshd listening
	bastionOctet = 10               // the bastion's address on the outer bridge
)

// NewVMs creates one host per o.Profiles entry and returns when every host's
// sshd listens. It calls t.Skip when not root or when a tool is missing; a
// fresh host needs dpkg-dev and sudo installed on this machine (the first run
// also downloads the .deb files from this machine's apt sources).
// Everything is torn down by a t.Cleanup registered here.
func NewVMs(t testing.TB, o VMOptions) *VMLab {
	t.Helper()
	if len(o.Profiles) < 1 || len(o.Profiles) > maxHosts {
		t.Fatalf("testlab: %d hosts requested, want 1..%d", len(o.Profiles), maxHosts)
	}
	skipUnlessVMs(t, o.Profiles)
	dir := t.TempDir()
	l := &VMLab{t: t, Dir: dir}
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		t.Fatalf("testlab: %v", err)
	}
	sweepStale()
	sweepStaleRoutes()
	t.Cleanup(l.teardown)
	if slices.Contains(o.Profiles, Fresh) {
		start := time.Now()
		img, err := loadFreshImage(t.Logf)
		if err != nil {
			t.Fatalf("testlab: %v", err)
		}
		l.img = img
		t.Logf("testlab: fresh layer and apt repository ready in %v", time.Since(start).Round(time.Millisecond))
		l.Repo = filepath.Join(dir, "repo")
		if err := l.OmitPackages(o.OmitPackages...); err != nil {
			t.Fatalf("testlab: %v", err)
		}
	}
	l.reserve(o.Bastion)
	if err := l.mountDisk(); err != nil {
		t.Fatalf("testlab: %v", err)
	}
	if err := l.makeKeys(); err != nil {
		t.Fatalf("testlab: %v", err)
	}
	if err := l.define(o); err != nil {
		t.Fatalf("testlab: %v", err)
	}
	if err := l.network(); err != nil {
		t.Fatalf("testlab: %v", err)
	}
	if err := l.bootAll(); err != nil {
		t.Fatalf("testlab: %v", err)
	}
	if err := l.writeKnownHosts(); err != nil {
		t.Fatalf("testlab: %v", err)
	}
	return l
}

func skipUnlessVMs(t testing.TB, profiles []Profile) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("testlab: needs root (namespaces, overlay mounts, bridge, sshd)")
	}
	for _, tool := range []string{"ip", "ssh-keygen", "nsenter", "mount", "useradd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("testlab: %s not found in PATH (install iproute2, openssh-client, util-linux, passwd)", tool)
		}
	}
	for _, f := range []string{SSHDPath, "/usr/sbin/pivot_root"} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("testlab: %s missing (apt-get install -y openssh-server util-linux): %v", f, err)
		}
	}
	for _, p := range profiles {
		if _, _, err := p.login(); err != nil {
			t.Fatalf("testlab: %v", err)
		}
	}
	if slices.Contains(profiles, Fresh) {
		for _, tool := range []string{"dpkg-scanpackages", "sudo"} {
			if _, err := exec.LookPath(tool); err != nil {
				t.Skipf("testlab: a fresh host needs %s on this machine (apt-get install -y dpkg-dev sudo)", tool)
			}
		}
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Skip("testlab: java not found (apt-get install -y default-jre-headless zookeeper)")
	}
	if _, err := os.Stat("/usr/share/java/zookeeper.jar"); err != nil {
		t.Skip("testlab: ZooKeeper not installed (apt-get install -y zookeeper)")
	}
}

// reserve takes the octet of the outer bridge and, with a bastion, of the
// hosts' inner one.
func (l *VMLab) reserve(bastion bool) {
	n := 1
	if bastion {
		n = 2
	}
	for k := 0; k < n; k++ {
		x, f := reserveOctet(l.t)
		l.octets = append(l.octets, x)
		l.locks = append(l.locks, f)
		removeOctetLeftovers(x)
		_, _ = ipCmd("route", "del", "unreachable", subnetOf(x))
	}
}

func subnetOf(x int) string { return fmt.Sprintf("%s.%d.0/24", netPrefix, x) }

// mountDisk gives the upper dirs a tmpfs when the lab's folder is itself on
// overlayfs (an overlay's upper dir cannot be).
func (l *VMLab) mountDisk() error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(l.Dir, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", l.Dir, err)
	}
	const overlayMagic = 0x794c7630
	if st.Type != overlayMagic {
		return nil
	}
	disk := filepath.Join(l.Dir, "disk")
	if err := os.Mkdir(disk, 0o755); err != nil {
		return err
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "mode=755", "zkctl-testlab", disk).CombinedOutput(); err != nil {
		return fmt.Errorf("mount a tmpfs for the upper dirs: %w: %s", err, out)
	}
	l.tmpfs = disk
	return nil
}

func (l *VMLab) makeKeys() error {
	l.KeyFile = filepath.Join(l.Dir, "id_ed25519")
	if err := keygen(l.KeyFile, "zkctl-testlab"); err != nil {
		return err
	}
	pub, err := os.ReadFile(l.KeyFile + ".pub")
	if err != nil {
		return err
	}
	l.pubKey = strings.TrimSpace(string(pub))
	return nil
}

// define fills Hosts and Bastion and each host's folders.
func (l *VMLab) define(o VMOptions) error {
	x := l.octets[0]
	inner := x
	if o.Bastion {
		inner = l.octets[1]
	}
	for i, p := range o.Profiles {
		user, sudo, _ := p.login()
		name := fmt.Sprintf("vm%d", i+1)
		vm := VM{Name: name, Addr: fmt.Sprintf("%s.%d.%d", netPrefix, inner, firstHostOctet+i),
			User: user, Sudo: sudo, Profile: p, Dir: "/opt/zkctl", NetNS: fmt.Sprintf("zkl%d-%s", x, name)}
		if p == NoSudo {
			vm.Dir = "/home/" + user + "/zkctl"
		}
		l.Hosts = append(l.Hosts, vm)
	}
	for i := range l.Hosts {
		l.vms = append(l.vms, &vmState{vm: &l.Hosts[i]})
	}
	if o.Bastion {
		l.Bastion = &VM{Name: "bastion", Addr: fmt.Sprintf("%s.%d.%d", netPrefix, x, bastionOctet),
			User: "root", Profile: Root, Dir: "/opt/zkctl", NetNS: fmt.Sprintf("zkl%d-bastion", x)}
		l.vms = append(l.vms, &vmState{vm: l.Bastion})
	}
	base := l.Dir
	if l.tmpfs != "" {
		base = l.tmpfs
	}
	for _, s := range l.vms {
		d := filepath.Join(base, "vms", s.vm.Name)
		s.upper, s.work, s.merged = filepath.Join(d, "upper"), filepath.Join(d, "work"), filepath.Join(d, "root")
		for _, p := range []string{s.upper, s.work, s.merged} {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		}
	}
	return nil
}

// network makes the bridges, namespaces and links. Without a bastion, every
// host is on bridge zklXbr with this machine (10.231.X.1). With one, the
// bastion is there (10.231.X.10) and also holds the hosts' bridge, with
// 10.231.Y.1 on it, in its own namespace; this machine routes 10.231.Y.0/24
// to "unreachable".
func (l *VMLab) network() error {
	x := l.octets[0]
	l.bridge = fmt.Sprintf("zkl%dbr", x)
	if out, err := ipCmd("link", "add", "name", l.bridge, "type", "bridge"); err != nil {
		l.t.Skipf("testlab: cannot create a bridge (need CAP_NET_ADMIN): %v: %s", err, out)
	}
	l.links = append(l.links, l.bridge)
	cmds := [][]string{
		{"addr", "add", fmt.Sprintf("%s.%d.1/24", netPrefix, x), "dev", l.bridge},
		{"link", "set", l.bridge, "up"},
	}
	if err := ipAll(cmds); err != nil {
		return err
	}
	for _, s := range l.vms {
		if nsExists(s.vm.NetNS) {
			_, _ = ipCmd("netns", "del", s.vm.NetNS)
		}
		if out, err := ipCmd("netns", "add", s.vm.NetNS); err != nil {
			return fmt.Errorf("ip netns add %s: %w: %s", s.vm.NetNS, err, out)
		}
		l.netnses = append(l.netnses, s.vm.NetNS)
	}
	if l.Bastion == nil {
		for i, s := range l.vms {
			if err := l.plug(s.vm, fmt.Sprintf("zkl%dh%d", x, i+1), "", l.bridge); err != nil {
				return err
			}
		}
		return nil
	}
	b := l.Bastion
	if err := l.plug(b, fmt.Sprintf("zkl%dh0", x), "", l.bridge); err != nil {
		return err
	}
	y := l.octets[1]
	if err := ipAll([][]string{
		{"-n", b.NetNS, "link", "add", "name", "br1", "type", "bridge"},
		{"-n", b.NetNS, "addr", "add", fmt.Sprintf("%s.%d.1/24", netPrefix, y), "dev", "br1"},
		{"-n", b.NetNS, "link", "set", "br1", "up"},
	}); err != nil {
		return err
	}
	for i := range l.Hosts {
		if err := l.plug(&l.Hosts[i], fmt.Sprintf("zkl%dh%d", y, i+1), b.NetNS, "br1"); err != nil {
			return err
		}
	}
	l.route = subnetOf(y)
	if out, err := ipCmd("route", "add", "unreachable", l.route); err != nil {
		l.route = ""
		return fmt.Errorf("ip route add unreachable %s: %w: %s", subnetOf(y), err, out)
	}
	return nil
}

// plug connects vm's eth0 to bridge, which is in namespace brNS ("" for this
// machine's), through a veth whose bridge side is named veth.
func (l *VMLab) plug(vm *VM, veth, brNS, bridge string) error {
	if out, err := ipCmd("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", vm.NetNS); err != nil {
		return fmt.Errorf("ip link add %s: %w: %s", veth, err, out)
	}
	var cmds [][]string
	if brNS == "" {
		l.links = append(l.links, veth)
		cmds = append(cmds, []string{"link", "set", veth, "master", bridge}, []string{"link", "set", veth, "up"})
	} else { // it dies with brNS
		cmds = append(cmds, []string{"link", "set", veth, "netns", brNS},
			[]string{"-n", brNS, "link", "set", veth, "master", bridge},
			[]string{"-n", brNS, "link", "set", veth, "up"})
	}
	cmds = append(cmds,
		[]string{"-n", vm.NetNS, "addr", "add", vm.Addr + "/24", "dev", "eth0"},
		[]string{"-n", vm.NetNS, "link", "set", "eth0", "up"},
		[]string{"-n", vm.NetNS, "link", "set", "lo", "up"})
	return ipAll(cmds)
}

func ipAll(cmds [][]string) error {
	for _, c := range cmds {
		if out, err := ipCmd(c...); err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(c, " "), err, out)
		}
	}
	return nil
}

// bootAll prepares every host's disk, boots them in parallel and creates
// their logins.
func (l *VMLab) bootAll() error {
	keys := filepath.Join(l.Dir, "hostkeys")
	if err := os.Mkdir(keys, 0o700); err != nil {
		return err
	}
	for _, s := range l.vms {
		if err := l.prepare(s, keys); err != nil {
			return fmt.Errorf("%s: %w", s.vm.Name, err)
		}
	}
	for _, s := range l.vms {
		if err := l.start(s); err != nil {
			return err
		}
	}
	for i, s := range l.vms {
		if err := waitUp(s); err != nil {
			return err
		}
		out, err := l.Exec(i, "/bin/sh", "-c", firstBootScript, "firstboot",
			string(s.vm.Profile), s.vm.User, l.pubKey, s.vm.Name).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: create login %s: %w: %s", s.vm.Name, s.vm.User, err, out)
		}
	}
	return nil
}

// prepare writes a host's upper dir before its first boot.
func (l *VMLab) prepare(s *vmState, keys string) error {
	if s.vm.Profile == Fresh {
		if out, err := exec.Command("cp", "-a", l.img.layer+"/.", s.upper).CombinedOutput(); err != nil {
			return fmt.Errorf("copy the fresh layer: %w: %s", err, out)
		}
	}
	key := filepath.Join(keys, s.vm.Name)
	if err := keygen(key, s.vm.Name); err != nil {
		return err
	}
	priv, err := os.ReadFile(key)
	if err != nil {
		return err
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		return err
	}
	s.hostPub = strings.TrimSpace(string(pub))
	return prepareUpper(s.upper, s.vm.Name, s.vm.User == "root", priv, pub)
}

// start runs a host's PID 1 (initScript) in new PID, UTS, IPC and mount
// namespaces, inside the host's network namespace.
func (l *VMLab) start(s *vmState) error {
	repo := ""
	if s.vm.Profile == Fresh {
		repo = l.Repo
	}
	p := &sshdProc{stderr: &syncbuf.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command("nsenter", "--net=/run/netns/"+s.vm.NetNS, "--", "/bin/sh", "-c", initScript,
		"zkctl-vm-init", s.upper, s.work, s.merged, s.vm.Name, repo)
	p.cmd.Env = vmEnv("/root")
	p.cmd.Dir = "/"
	p.cmd.Stdout = p.stderr
	p.cmd.Stderr = p.stderr
	p.cmd.WaitDelay = 200 * time.Millisecond
	p.cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC,
		// Go makes every mount of the new namespace private (MS_REC|MS_PRIVATE)
		// before the exec, so nothing mounted inside appears on this machine.
		Unshareflags: syscall.CLONE_NEWNS,
		Setpgid:      true,
		Pdeathsig:    syscall.SIGKILL, // the host dies with the test process
	}
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("%s: boot: %w", s.vm.Name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	s.init = p
	return nil
}

// waitUp waits until the host's PID 1 says sshd listens.
func waitUp(s *vmState) error {
	var failed error
	err := retry.Poll(context.Background(), 10*time.Millisecond, bootTimeout, func() (bool, error) {
		out := s.init.stderr.String()
		switch {
		case strings.Contains(out, readyMarker):
			return true, nil
		case strings.Contains(out, noSSHDMarker):
			failed = fmt.Errorf("%s: boot: sshd did not start; output:\n%s", s.vm.Name, out)
		case s.init.exited():
			failed = fmt.Errorf("%s: boot: PID 1 exited: %v; output:\n%s", s.vm.Name, s.init.err, s.init.stderr.String())
		}
		return false, failed
	})
	if failed != nil || err == nil {
		return failed
	}
	return fmt.Errorf("%s: boot: sshd not up after %v; output:\n%s", s.vm.Name, bootTimeout, s.init.stderr.String())
}

// halt kills a host's PID 1 (the kernel then kills every process of its PID
// namespace, and its mounts go with its mount namespace) and waits for it.
func halt(s *vmState) error {
	p := s.init
	if p == nil || p.exited() {
		return nil
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return nil
	case <-time.After(bootTimeout):
		return fmt.Errorf("%s: PID 1 (pid %d) still running after SIGKILL", s.vm.Name, p.cmd.Process.Pid)
	}
}

func (l *VMLab) writeKnownHosts() error {
	var b strings.Builder
	for _, s := range l.vms {
		fmt.Fprintf(&b, "%s %s\n", s.vm.Addr, s.hostPub)
	}
	l.KnownHosts = filepath.Join(l.Dir, "known_hosts")
	return os.WriteFile(l.KnownHosts, []byte(b.String()), 0o600)
}

func (l *VMLab) state(i int) *vmState {
	if i < 0 || i >= len(l.vms) {
		l.t.Helper()
		l.t.Fatalf("testlab: host index %d out of range [0, %d)", i, len(l.vms))
	}
	return l.vms[i]
}

// Exec returns a command that runs argv as root inside host i, in all its
// namespaces and its root, with a plain environment (PATH, HOME=/root,
// LANG). Index len(Hosts) is the bastion. The started process is nsenter,
// which forks argv into the host's PID namespace and waits for it: killing
// it does not kill argv.
func (l *VMLab) Exec(i int, argv ...string) *exec.Cmd {
	s := l.state(i)
	pid := 0
	if s.init != nil {
		pid = s.init.cmd.Process.Pid
	}
	args := append([]string{"-t", strconv.Itoa(pid), "-m", "-u", "-i", "-n", "-p", "-r", "-w", "--"}, argv...)
	cmd := exec.Command("nsenter", args...)
	cmd.Env = vmEnv("/root")
	cmd.Dir = "/"
	return cmd
}

// Run runs script with /bin/sh -c as root inside host i and returns its
// combined output.
func (l *VMLab) Run(i int, script string) (string, error) {
	out, err := l.Exec(i, "/bin/sh", "-c", script).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %s: %w: %s", l.state(i).vm.Name, script, err, out)
	}
	return string(out), nil
}

// Reboot power-cycles host i: SIGKILL to its PID 1 (every process of the
// host dies, its mounts go), then a boot on the same upper dir (what it
// wrote to its disk stays; /tmp and /run start empty). It returns once sshd
// listens again.
func (l *VMLab) Reboot(i int) error {
	s := l.state(i)
	if err := halt(s); err != nil {
		return err
	}
	if err := l.start(s); err != nil {
		return err
	}
	return waitUp(s)
}

// PID1 returns the pid, on this machine, of host i's first process (0 when down).
func (l *VMLab) PID1(i int) int {
	s := l.state(i)
	if s.init == nil || s.init.exited() {
		return 0
	}
	return s.init.cmd.Process.Pid
}

// Console returns what host i's PID 1 and sshd wrote since its last boot.
func (l *VMLab) Console(i int) string {
	if s := l.state(i); s.init != nil {
		return s.init.stderr.String()
	}
	return ""
}

// Path returns where on this machine the file p of host i's disk is: in its
// upper dir, so it exists only once the host wrote or changed p (a file it
// never touched is this machine's, and absent here; one it deleted is a
// whiteout). For assertions: read it, do not write it while the host runs.
func (l *VMLab) Path(i int, p string) string {
	return filepath.Join(l.state(i).upper, filepath.Clean("/"+p))
}

// OmitPackages rewrites the lab's apt repository so that it lacks the named
// packages (index and .deb), and holds every other; with no names it is
// complete again. Fresh hosts see the change at once (run apt-get update).
func (l *VMLab) OmitPackages(names ...string) error {
	if l.img == nil {
		return errors.New("testlab: no fresh host, no apt repository")
	}
	for _, n := range names {
		if !slices.ContainsFunc(l.img.debs, func(d string) bool { return debPackage(d) == n }) {
			return fmt.Errorf("testlab: omit %s: not in the repository (it has %s)", n, strings.Join(l.img.debs, " "))
		}
	}
	if err := os.MkdirAll(l.Repo, 0o755); err != nil {
		return fmt.Errorf("testlab: apt repository: %w", err)
	}
	for _, d := range l.img.debs {
		p := filepath.Join(l.Repo, d)
		_ = os.Remove(p)
		if slices.Contains(names, debPackage(d)) {
			continue
		}
		if err := linkOrCopy(filepath.Join(l.img.pool, d), p); err != nil {
			return fmt.Errorf("testlab: apt repository: %w", err)
		}
	}
	if err := writeIndex(l.Repo, filterIndex(l.img.index, names)); err != nil {
		return fmt.Errorf("testlab: apt repository: %w", err)
	}
	return nil
}

// RepoPackages returns the .deb file names the complete repository holds.
func (l *VMLab) RepoPackages() []string {
	if l.img == nil {
		return nil
	}
	return slices.Clone(l.img.debs)
}

// Inventory returns the TOML text of an inventory for the hosts (not the
// bastion): an [ssh] table with identity_file KeyFile and known_hosts
// KnownHosts (and jump = "root@BASTION:22" with a bastion), then per host
// name, address, dir and a [host.ssh] table with its user (and sudo = true
// for fresh). extra is appended verbatim after a blank line and must begin
// with a table header.
func (l *VMLab) Inventory(extra string) string {
	var b strings.Builder
	b.WriteString("# generated by zkctl/internal/testlab (second-version hosts)\n\n[ssh]\nport = 22\n")
	fmt.Fprintf(&b, "identity_file = %s\n", tomlString(l.KeyFile))
	fmt.Fprintf(&b, "known_hosts = %s\n", tomlString(l.KnownHosts))
	if l.Bastion != nil {
		fmt.Fprintf(&b, "jump = %s\n", tomlString("root@"+l.Bastion.Addr+":22"))
	}
	for _, h := range l.Hosts {
		b.WriteString("\n[[host]]\n")
		fmt.Fprintf(&b, "name = %s\naddress = %s\ndir = %s\n", tomlString(h.Name), tomlString(h.Addr), tomlString(h.Dir))
		fmt.Fprintf(&b, "[host.ssh]\nuser = %s\n", tomlString(h.User))
		if h.Sudo {
			b.WriteString("sudo = true\n")
		}
	}
	appendExtra(&b, extra)
	return b.String()
}

// WriteInventory writes Inventory(extra) to Dir/inventory.toml and returns its path.
func (l *VMLab) WriteInventory(t testing.TB, extra string) string {
	return writeInventory(t, l.Dir, l.Inventory(extra))
}

// Mounts returns the lines of every process's mountinfo on this machine that
// name the lab's folder (the hosts' overlays name their upper dirs): while
// the lab runs, its hosts' own mounts; after teardown, nothing.
func (l *VMLab) Mounts() []string { return mountsNaming(l.Dir) }

func mountsNaming(dir string) []string {
	seen := map[string]bool{}
	var lines []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		ns, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns/mnt"))
		if err != nil || seen[ns] {
			continue
		}
		seen[ns] = true
		f, err := os.Open(filepath.Join("/proc", e.Name(), "mountinfo"))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.Contains(sc.Text(), dir) {
				lines = append(lines, e.Name()+": "+sc.Text())
			}
		}
		f.Close()
	}
	return lines
}

// teardown stops every host by its PID 1, then deletes the route, links,
// namespaces and the tmpfs; safe on a partial lab.
func (l *VMLab) teardown() {
	var errs []string
	for _, s := range l.vms {
		if err := halt(s); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if l.route != "" {
		if out, err := ipCmd("route", "del", "unreachable", l.route); err != nil {
			errs = append(errs, fmt.Sprintf("ip route del %s: %v: %s", l.route, err, out))
		}
	}
	for _, ln := range slices.Backward(l.links) {
		if out, err := ipCmd("link", "del", ln); err != nil && linkExists(ln) {
			errs = append(errs, fmt.Sprintf("ip link del %s: %v: %s", ln, err, out))
		}
	}
	for _, ns := range l.netnses {
		if out, err := ipCmd("netns", "del", ns); err != nil && nsExists(ns) {
			errs = append(errs, fmt.Sprintf("ip netns del %s: %v: %s", ns, err, out))
		}
	}
	if l.tmpfs != "" {
		if out, err := exec.Command("umount", l.tmpfs).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Sprintf("umount %s: %v: %s", l.tmpfs, err, out))
		}
	}
	for _, f := range l.locks {
		f.Close()
	}
	l.locks = nil
	if left := mountsNaming(l.Dir); len(left) > 0 {
		errs = append(errs, "still mounted: "+strings.Join(left, "; "))
	}
	if len(errs) > 0 {
		l.t.Errorf("testlab: teardown: %s", strings.Join(errs, "; "))
	}
}

// sweepStaleRoutes deletes the unreachable routes of crashed labs (those
// whose octet nobody holds).
func sweepStaleRoutes() {
	out, err := exec.Command("ip", "-4", "route", "show", "type", "unreachable", "root", netPrefix+".0.0/16").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		dst := f[1] // "unreachable 10.231.Y.0/24"
		var a, b, y, z int
		if n, _ := fmt.Sscanf(dst, "%d.%d.%d.%d/24", &a, &b, &y, &z); n != 4 || y < 1 || y > 254 {
			continue
		}
		if lk, ok := tryLock(y); ok {
			_, _ = ipCmd("route", "del", "unreachable", dst)
			lk.Close()
		}
	}
}

// BreakPackage replaces the named package's .deb in the lab's repository by
// one whose postinst fails ("exit 1"). Leaving a package out (OmitPackages)
// makes apt-get refuse the whole install before touching anything; a broken
// package instead fails half-way: dpkg unpacks everything, configures what it
// can and leaves this package half-configured (and what depends on it
// unconfigured), as a failing maintainer script does on a real host.
// OmitPackages() (no names) restores the original. Run apt-get update inside
// after either (the index changes).
func (l *VMLab) BreakPackage(name string) error {
	if l.img == nil {
		return errors.New("testlab: no fresh host, no apt repository")
	}
	i := slices.IndexFunc(l.img.debs, func(d string) bool { return debPackage(d) == name })
	if i < 0 {
		return fmt.Errorf("testlab: break %s: not in the repository (it has %s)", name, strings.Join(l.img.debs, " "))
	}
	deb := l.img.debs[i]
	tmp, err := os.MkdirTemp(l.Dir, "break-")
	if err != nil {
		return fmt.Errorf("testlab: break %s: %w", name, err)
	}
	defer os.RemoveAll(tmp)
	tree := filepath.Join(tmp, "tree")
	if out, err := exec.Command("dpkg-deb", "-R", filepath.Join(l.img.pool, deb), tree).CombinedOutput(); err != nil {
		return fmt.Errorf("testlab: break %s: dpkg-deb -R: %w: %s", name, err, out)
	}
	postinst := filepath.Join(tree, "DEBIAN", "postinst")
	script := "#!/bin/sh\necho 'zkctl-testlab: " + name + " postinst broken on purpose' >&2\nexit 1\n"
	if err := os.WriteFile(postinst, []byte(script), 0o755); err != nil {
		return fmt.Errorf("testlab: break %s: %w", name, err)
	}
	if err := os.Chmod(postinst, 0o755); err != nil {
		return fmt.Errorf("testlab: break %s: %w", name, err)
	}
	dst := filepath.Join(l.Repo, deb)
	_ = os.Remove(dst) // a hard link to the pool's file: never write through it
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "-b", tree, dst).CombinedOutput(); err != nil {
		return fmt.Errorf("testlab: break %s: dpkg-deb -b: %w: %s", name, err, out)
	}
	cmd := exec.Command("dpkg-scanpackages", "-m", ".", "/dev/null")
	cmd.Dir = l.Repo
	idx, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("testlab: break %s: dpkg-scanpackages: %w", name, err)
	}
	if err := writeIndex(l.Repo, string(idx)); err != nil {
		return fmt.Errorf("testlab: break %s: %w", name, err)
	}
	return nil
}
