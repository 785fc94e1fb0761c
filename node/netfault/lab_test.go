package netfault_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"golang.org/x/sys/unix"

	"zkctl/internal/buildbin"
	"zkctl/internal/testlab"
	"zkctl/node/netfault"
)

const (
	echoPort  = 7000 // every host's test listener
	udpPort   = 7001
	probeWait = 400 * time.Millisecond
)

// inNS runs f on a thread moved into network namespace ns; sockets that f
// creates stay in ns. The thread goes back to its own namespace afterwards;
// if it cannot, it stays locked and dies with the goroutine.
func inNS(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		own, err := unix.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(own)
		fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- f()
		if unix.Setns(own, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
	}()
	return <-errc
}

// fixture is a lab of three hosts, each running a TCP sink on echoPort
// (it reads to EOF, then answers one byte), and the agent binary.
type fixture struct {
	lab *testlab.Lab
	bin string
}

func newFixture(t *testing.T) *fixture {
	lab := testlab.New(t, 3)
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("nft missing: apt-get install -y nftables")
	}
	f := &fixture{lab: lab, bin: buildbin.Path(t)}
	t.Cleanup(func() { // before the lab's: heal every host, stop any timer
		for i := range lab.Hosts {
			_, _ = f.agent(i, "heal")
			lab.KillNamespaceProcs(i)
		}
	})
	for _, h := range lab.Hosts {
		var ln net.Listener
		err := inNS(h.NetNS, func() (err error) {
			ln, err = net.Listen("tcp", net.JoinHostPort(h.Addr, fmt.Sprint(echoPort)))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go serveSink(ln)
	}
	return f
}

func serveSink(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
			_, _ = c.Write([]byte{1})
		}()
	}
}

// agent runs `zkctl node --dir DIR net ARGS` on host i and returns stdout.
func (f *fixture) agent(i int, args ...string) (string, error) {
	argv := append([]string{"node", "--dir", f.lab.Hosts[i].Dir, "net"}, args...)
	cmd := f.lab.Exec(i, f.bin, argv...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

func (f *fixture) mustAgent(t *testing.T, i int, args ...string) string {
	t.Helper()
	out, err := f.agent(i, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) status(t *testing.T, i int) netfault.Status {
	t.Helper()
	var st netfault.Status
	if err := json.Unmarshal([]byte(f.mustAgent(t, i, "status")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// reach reports whether a TCP connection from host from (-1: this machine,
// the controller's side of the bridge) to host to's port succeeds.
func (f *fixture) reach(from, to, port int) bool {
	addr := net.JoinHostPort(f.lab.Hosts[to].Addr, fmt.Sprint(port))
	dial := func() error {
		c, err := net.DialTimeout("tcp", addr, probeWait)
		if err == nil {
			c.Close()
		}
		return err
	}
	if from < 0 {
		return dial() == nil
	}
	return inNS(f.lab.Hosts[from].NetNS, dial) == nil
}

func (f *fixture) expectReach(t *testing.T, from, to, port int, want bool) {
	t.Helper()
	if got := f.reach(from, to, port); got != want {
		t.Errorf("host %d -> host %d:%d reachable = %v, want %v", from, to, port, got, want)
	}
}

// udpLoss sends n datagrams from host from to host to and returns how many
// arrived.
func (f *fixture) udpArrived(t *testing.T, from, to, n int) int {
	t.Helper()
	var rx *net.UDPConn
	dst := &net.UDPAddr{IP: net.ParseIP(f.lab.Hosts[to].Addr), Port: udpPort}
	if err := inNS(f.lab.Hosts[to].NetNS, func() (err error) { rx, err = net.ListenUDP("udp", dst); return err }); err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	var tx *net.UDPConn
	if err := inNS(f.lab.Hosts[from].NetNS, func() (err error) { tx, err = net.DialUDP("udp", nil, dst); return err }); err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	got := make(chan int)
	go func() {
		buf := make([]byte, 64)
		count := 0
		for {
			_ = rx.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			if _, err := rx.Read(buf); err != nil {
				got <- count
				return
			}
			count++
		}
	}()
	for i := 0; i < n; i++ {
		_, _ = tx.Write([]byte("datagram"))
		time.Sleep(200 * time.Microsecond)
	}
	return <-got
}

// transfer sends size bytes over TCP from host from to host to's sink and
// returns how long until the sink acknowledged them.
func (f *fixture) transfer(t *testing.T, from, to, size int) time.Duration {
	t.Helper()
	var c net.Conn
	addr := net.JoinHostPort(f.lab.Hosts[to].Addr, fmt.Sprint(echoPort))
	if err := inNS(f.lab.Hosts[from].NetNS, func() (err error) { c, err = net.DialTimeout("tcp", addr, 2*time.Second); return err }); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_ = c.SetDeadline(start.Add(20 * time.Second))
	if _, err := c.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	_ = c.(*net.TCPConn).CloseWrite()
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	return time.Since(start)
}

// sshRun runs "true" over a real SSH session from host from (-1: this
// machine) to host to.
func (f *fixture) sshRun(t *testing.T, from, to int) error {
	t.Helper()
	key, err := os.ReadFile(f.lab.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	hk, err := knownhosts.New(f.lab.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort(f.lab.Hosts[to].Addr, "22")
	var conn net.Conn
	dial := func() (err error) { conn, err = net.DialTimeout("tcp", addr, 2*time.Second); return err }
	if from >= 0 {
		err = inNS(f.lab.Hosts[from].NetNS, dial)
	} else {
		err = dial()
	}
	if err != nil {
		return err
	}
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	cc, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: hk})
	if err != nil {
		conn.Close()
		return err
	}
	client := ssh.NewClient(cc, chans, reqs)
	defer client.Close()
	s, err := client.NewSession()
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Run("true")
}

// onlySSHD fails unless host i's namespace holds no process but its sshd:
// nothing is left that could heal it.
func (f *fixture) onlySSHD(t *testing.T, i int) {
	t.Helper()
	for _, pid := range f.lab.NamespacePids(i) {
		if pid != f.lab.SSHDPid(i) {
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			t.Errorf("host %d: process %d (%q) alive besides sshd", i, pid, strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
}

// clean fails if host i's ruleset or qdiscs hold anything of zkctl's.
func (f *fixture) clean(t *testing.T, i int) {
	t.Helper()
	rules, err := f.lab.Exec(i, "nft", "list", "ruleset").CombinedOutput()
	if err != nil {
		t.Fatalf("nft list ruleset: %v: %s", err, rules)
	}
	if strings.Contains(string(rules), "zkctl") {
		t.Errorf("host %d: ruleset after heal:\n%s", i, rules)
	}
	qd, err := f.lab.Exec(i, "tc", "qdisc", "show").CombinedOutput()
	if err != nil {
		t.Fatalf("tc qdisc show: %v: %s", err, qd)
	}
	if strings.Contains(string(qd), netfault.QdiscHandle) {
		t.Errorf("host %d: qdiscs after heal:\n%s", i, qd)
	}
}

// TestNetfault runs every fault on one lab of three hosts.
func TestNetfault(t *testing.T) {
	f := newFixture(t)
	t.Run("partition expires in the kernel", f.testExpiry)
	t.Run("ssh, controller and bystanders are never cut", f.testExempt)
	t.Run("degrade loss and rate, removed by the timer", f.testDegrade)
	t.Run("others' tables and qdiscs are left alone", f.testForeign)
}

// healAfter heals every host when the subtest ends, so that a failed one
// leaves nothing to the next.
func (f *fixture) healAfter(t *testing.T) {
	t.Cleanup(func() {
		for i := range f.lab.Hosts {
			if _, err := f.agent(i, "heal"); err != nil {
				t.Error(err)
			}
		}
	})
}

func (f *fixture) testExpiry(t *testing.T) {
	f.healAfter(t)
	vm2 := f.lab.Hosts[1].Addr
	for _, p := range [][2]int{{1, 0}, {0, 1}, {2, 1}} {
		f.expectReach(t, p[0], p[1], echoPort, true)
	}
	const hold = 3 * time.Second
	start := time.Now()
	// vm1 cuts vm2 both ways; the agent exits once the rules are in.
	out := f.mustAgent(t, 0, "partition", "--peer", vm2, "--for", hold.String())
	var cutsMade []netfault.Cut
	if err := json.Unmarshal([]byte(out), &cutsMade); err != nil || len(cutsMade) != 1 || cutsMade[0].Direction != netfault.DirBoth {
		t.Fatalf("partition output %q: %v", out, err)
	}
	// vm3 cuts vm2 one way, from a process that is then SIGKILLed.
	cmd := f.lab.Exec(2, "sh", "-c", `"$0" "$@" && exec sleep 60`, f.bin, "node", "--dir", f.lab.Hosts[2].Dir, "net",
		"partition", "--peer", vm2, "--oneway", "--for", hold.String())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.Contains(line, `"direction":"out"`) {
		t.Fatalf("one-way partition output %q: %v", line, err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	f.onlySSHD(t, 0)
	f.onlySSHD(t, 2)

	f.expectReach(t, 1, 0, echoPort, false)
	f.expectReach(t, 0, 1, echoPort, false)
	f.expectReach(t, 2, 1, echoPort, false)
	f.expectReach(t, 0, 2, echoPort, true) // vm1 and vm3 are not cut from each other
	if n := f.udpArrived(t, 1, 2, 20); n != 20 {
		t.Errorf("one way: %d of 20 datagrams vm2 -> vm3 arrived, want all (only vm3's outbound is cut)", n)
	}
	if n := f.udpArrived(t, 2, 1, 20); n != 0 {
		t.Errorf("one way: %d of 20 datagrams vm3 -> vm2 arrived, want none", n)
	}
	st := f.status(t, 0)
	if len(st.Partitions) != 1 || st.Partitions[0].Peer != vm2 || st.Partitions[0].Direction != netfault.DirBoth ||
		st.Partitions[0].ExpiresAt.Before(start.Add(hold-2*time.Second)) || st.Partitions[0].ExpiresAt.After(start.Add(hold+time.Second)) {
		t.Errorf("status on vm1: %+v, want vm2 both ways expiring in about %s", st.Partitions, hold)
	}

	for _, p := range [][2]int{{1, 0}, {2, 1}} {
		for !f.reach(p[0], p[1], echoPort) {
			if time.Since(start) > hold+4*time.Second {
				t.Fatalf("host %d -> host %d still cut %s after a %s partition", p[0], p[1], time.Since(start), hold)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if back := time.Since(start); back < hold-500*time.Millisecond {
			t.Errorf("host %d -> host %d back after %s, before the %s expiry", p[0], p[1], back, hold)
		}
	}
	t.Logf("both partitions expired %s after the first was made (--for %s)", time.Since(start), hold)
	if st := f.status(t, 0); len(st.Partitions) != 0 {
		t.Errorf("status after expiry: %+v", st.Partitions)
	}
}

func (f *fixture) testExempt(t *testing.T) {
	f.healAfter(t)
	ctl, vm2 := f.lab.BridgeAddr, f.lab.Hosts[1].Addr
	// The controller's address is a peer but exempt: only vm2 is cut.
	f.mustAgent(t, 0, "partition", "--peer", vm2+","+ctl, "--controller", ctl, "--for", "0")
	f.expectReach(t, -1, 0, echoPort, true)
	f.expectReach(t, 1, 0, echoPort, false)
	if err := f.sshRun(t, 1, 0); err != nil {
		t.Errorf("ssh vm2 -> vm1 during the partition: %v", err)
	}
	f.expectReach(t, 2, 0, echoPort, true) // a host not named
	f.expectReach(t, 2, 1, echoPort, true) // two hosts not partitioned from each other
	// 100% loss on all of vm1's traffic: only SSH and the controller get through.
	f.mustAgent(t, 0, "degrade", "--loss", "100%", "--controller", ctl, "--for", "0")
	f.expectReach(t, 2, 0, echoPort, false)
	if err := f.sshRun(t, 2, 0); err != nil {
		t.Errorf("ssh vm3 -> vm1 during 100%% loss: %v", err)
	}
	f.expectReach(t, -1, 0, echoPort, true)
	// A fault that names the controller (and does not exempt it) cuts it, but not SSH.
	f.mustAgent(t, 0, "partition", "--peer", ctl, "--for", "0")
	f.expectReach(t, -1, 0, echoPort, false)
	if err := f.sshRun(t, -1, 0); err != nil {
		t.Errorf("ssh controller -> vm1 with the controller cut: %v", err)
	}
	st := f.status(t, 0)
	if len(st.Partitions) != 2 || !st.Partitions[0].UntilHealed || len(st.Degradations) != 1 || !st.Degradations[0].All {
		t.Errorf("status: %+v, want vm2 and the controller cut until healed, one degradation of all traffic", st)
	}
	// A rate limit on top, then heal removes everything.
	f.mustAgent(t, 0, "degrade", "--rate", "1mbit", "--for", "0")
	var healed netfault.Healed
	if err := json.Unmarshal([]byte(f.mustAgent(t, 0, "heal")), &healed); err != nil || !healed.Table || len(healed.Qdiscs) != 1 {
		t.Errorf("heal: %+v, %v; want the table and one qdisc removed", healed, err)
	}
	f.clean(t, 0)
	f.expectReach(t, 1, 0, echoPort, true)
	f.expectReach(t, 2, 0, echoPort, true)
	f.expectReach(t, -1, 0, echoPort, true)
	var again netfault.Healed
	if err := json.Unmarshal([]byte(f.mustAgent(t, 0, "heal")), &again); err != nil || again.Table || len(again.Qdiscs) != 0 {
		t.Errorf("second heal: %+v, %v; want nothing to remove", again, err)
	}
}

func (f *fixture) testDegrade(t *testing.T) {
	f.healAfter(t)
	vm2, vm3 := f.lab.Hosts[1].Addr, f.lab.Hosts[2].Addr
	// A delay alone needs sch_netem: without it nothing is applied and nothing is left.
	if out, err := f.agent(0, "degrade", "--peer", vm2, "--delay", "50ms"); err != nil {
		if !strings.Contains(err.Error(), "nothing applied: delay 50ms: not applied, no sch_netem in this kernel") {
			t.Errorf("delay without netem: %v", err)
		}
		if qd, _ := f.lab.Exec(0, "tc", "qdisc", "show").CombinedOutput(); strings.Contains(string(qd), netfault.QdiscHandle) {
			t.Errorf("qdiscs left by a degradation that applied nothing:\n%s", qd)
		}
	} else if !strings.Contains(out, `"via":"netem on eth0"`) {
		t.Errorf("delay with netem: %s", out)
	} else {
		f.mustAgent(t, 0, "degrade", "--clear")
	}
	if st := f.status(t, 0); len(st.Degradations) != 0 {
		t.Errorf("degradations after a failed or cleared one: %+v", st.Degradations)
	}
	const size = 150_000 // 1.2 Mbit: over a second at 1mbit
	base := f.transfer(t, 0, 2, size)
	const hold = 4 * time.Second
	start := time.Now()
	var loss, rate netfault.Degradation
	if err := json.Unmarshal([]byte(f.mustAgent(t, 0, "degrade", "--peer", vm2, "--loss", "50%", "--delay", "100ms", "--for", hold.String())), &loss); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(f.mustAgent(t, 0, "degrade", "--peer", vm3, "--rate", "1mbit", "--for", hold.String())), &rate); err != nil {
		t.Fatal(err)
	}
	t.Logf("applied: %v; %v", loss.Knobs, rate.Knobs)
	if len(rate.Knobs) != 1 || rate.Knobs[0].String() != "rate 1mbit via htb on eth0" || rate.TimerPID == 0 {
		t.Errorf("rate degradation: %+v", rate)
	}
	if !hasKnob(loss.Knobs, "loss 50% via nft numgen") || !hasKnob(loss.Knobs, "delay 100ms: not applied, no sch_netem in this kernel") {
		t.Errorf("loss degradation: %+v", loss)
	}
	st := f.status(t, 0)
	if len(st.Degradations) != 2 || st.Degradations[0].ExpiresAt.IsZero() || st.Degradations[1].TimerPID == 0 {
		t.Errorf("status: %+v, want two degradations expiring, with timers", st.Degradations)
	}

	const n = 200
	if got := f.udpArrived(t, 0, 1, n); got < n*20/100 || got > n*80/100 {
		t.Errorf("50%% loss: %d of %d datagrams arrived, want 20%%..80%%", got, n)
	} else {
		t.Logf("50%% loss: %d of %d datagrams arrived", got, n)
	}
	if got := f.udpArrived(t, 1, 0, n); got != n {
		t.Errorf("inbound from the degraded peer: %d of %d arrived, want all (outbound only)", got, n)
	}
	if got := f.udpArrived(t, 0, 2, n); got != n {
		t.Errorf("vm1 -> vm3 (rate only): %d of %d arrived", got, n)
	}
	slow := f.transfer(t, 0, 2, size)
	t.Logf("%d bytes vm1 -> vm3: %s unlimited, %s at 1mbit", size, base, slow)
	if slow < 800*time.Millisecond || slow < 4*base {
		t.Errorf("rate 1mbit: %d bytes in %s (unlimited %s), want over 0.8s", size, slow, base)
	}

	// The timers remove both at their expiry, then exit.
	for _, pid := range []int{loss.TimerPID, rate.TimerPID} {
		for syscall.Kill(pid, 0) == nil {
			if time.Since(start) > hold+8*time.Second {
				t.Fatalf("timer %d still alive %s after a %s expiry: %+v", pid, time.Since(start), hold, f.status(t, 0))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if gone := time.Since(start); gone < hold {
		t.Errorf("timers done after %s, before their %s expiry", gone, hold)
	}
	t.Logf("timers removed both degradations %s after they were made (--for %s)", time.Since(start), hold)
	f.onlySSHD(t, 0)
	if st := f.status(t, 0); len(st.Degradations) != 0 {
		t.Errorf("status after expiry: %+v", st.Degradations)
	}
	tables, _ := f.lab.Exec(0, "nft", "list", "table", "inet", "zkctl").CombinedOutput()
	if strings.Contains(string(tables), "zkctl deg") || strings.Contains(string(tables), "@deg") {
		t.Errorf("degradation sets or rules left after expiry:\n%s", tables)
	}
	if qd, _ := f.lab.Exec(0, "tc", "qdisc", "show").CombinedOutput(); strings.Contains(string(qd), netfault.QdiscHandle) {
		t.Errorf("qdiscs after expiry:\n%s", qd)
	}
	if got := f.udpArrived(t, 0, 1, n); got != n {
		t.Errorf("after expiry: %d of %d datagrams arrived", got, n)
	}
}

func hasKnob(ks []netfault.Knob, s string) bool {
	for _, k := range ks {
		if k.String() == s {
			return true
		}
	}
	return false
}

func (f *fixture) testForeign(t *testing.T) {
	f.healAfter(t)
	const vm2 = 1
	for _, argv := range [][]string{
		{"nft", "add table inet other; add chain inet other c { type filter hook output priority 0; policy accept; }; add rule inet other c counter"},
		{"tc", "qdisc", "add", "dev", "eth0", "root", "handle", "1:", "pfifo"},
	} {
		if out, err := f.lab.Exec(vm2, argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", argv, err, out)
		}
	}
	t.Cleanup(func() { _ = f.lab.Exec(vm2, "tc", "qdisc", "del", "dev", "eth0", "root").Run() })
	_, err := f.agent(vm2, "degrade", "--rate", "1mbit", "--for", "0")
	if err == nil || !strings.Contains(err.Error(), "eth0 has a root qdisc pfifo 1: that zkctl did not make") {
		t.Errorf("rate over someone else's root qdisc: %v", err)
	}
	f.mustAgent(t, vm2, "partition", "--peer", f.lab.Hosts[0].Addr, "--for", "0")
	f.mustAgent(t, vm2, "heal")
	f.clean(t, vm2)
	rules, _ := f.lab.Exec(vm2, "nft", "list", "table", "inet", "other").CombinedOutput()
	if !strings.Contains(string(rules), "counter") {
		t.Errorf("heal touched another table:\n%s", rules)
	}
	if qd, _ := f.lab.Exec(vm2, "tc", "qdisc", "show", "dev", "eth0").CombinedOutput(); !strings.Contains(string(qd), "pfifo 1: root") {
		t.Errorf("heal touched another root qdisc:\n%s", qd)
	}
}
