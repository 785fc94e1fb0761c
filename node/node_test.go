package node

import (
	"context"
	"errors"
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

func TestRenderZooCfg(t *testing.T) {
	c := &Config{Host: "vm1", Dir: "/opt/zkctl", MyID: 1, Address: "10.0.0.11", ClientPort: 2181,
		TickTime: 500 * time.Millisecond, Servers: []Server{
			{ID: 1, Address: "10.0.0.11", PeerPort: 2888, ElectionPort: 3888},
			{ID: 2, Address: "10.0.0.12", PeerPort: 2888, ElectionPort: 3888},
			{ID: 3, Address: "10.0.0.13", PeerPort: 2888, ElectionPort: 3888},
		}}
	cfg := RenderZooCfg(c)
	for _, want := range []string{
		"tickTime=500\n", "dataDir=/opt/zkctl/data\n", "clientPort=2181\n", "clientPortAddress=10.0.0.11\n",
		"4lw.commands.whitelist=srvr,mntr,ruok,stat,conf\n", "admin.enableServer=false\n", "autopurge.purgeInterval=1\n",
		"server.1=10.0.0.11:2888:3888\n", "server.3=10.0.0.13:2888:3888\n", "initLimit=", "syncLimit=",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("zoo.cfg lacks %q:\n%s", want, cfg)
		}
	}
	c.Servers = c.Servers[:1]
	if cfg := RenderZooCfg(c); strings.Contains(cfg, "server.") {
		t.Errorf("a one-server ensemble must be standalone (no server.N):\n%s", cfg)
	}
}

func TestParseSrvr(t *testing.T) {
	out := "Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.0/0\nReceived: 10\nSent: 9\nConnections: 3\nOutstanding: 0\nZxid: 0x100000004\nMode: follower\nNode count: 12\n"
	s := ParseSrvr(out)
	if s.Mode != "follower" || s.Zxid != 0x100000004 || s.Connections != 3 || s.NodeCount != 12 || s.Version != "3.8.0" {
		t.Fatalf("parsed %+v", s)
	}
	if s := ParseSrvr("This ZooKeeper instance is not currently serving requests\n"); s.Mode != "error" || s.Error == "" {
		t.Fatalf("not serving: %+v", s)
	}
}

// TestReleaseOf reads the release from srvr's version line as Debian's
// builds and Apache's releases write it.
func TestReleaseOf(t *testing.T) {
	for in, want := range map[string]string{
		"3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC":                      "3.8.0",
		"3.9.3-c26634f34490bb0ea7a09cc51e05ede3b4e320ee, built on 2024-10-17 23:21 UTC": "3.9.3",
		"3.9.6": "3.9.6",
		"":      "",
	} {
		if got := ReleaseOf(in); got != want {
			t.Errorf("ReleaseOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWipeStaysInsideDir(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	precious := filepath.Join(outside, "precious")
	if err := os.WriteFile(precious, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := Layout{Dir: dir}
	if err := os.Symlink(outside, l.Data()); err != nil {
		t.Fatal(err)
	}
	if err := Wipe(l); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Fatalf("wipe of a symlinked data/ should be refused, got %v", err)
	}
	if _, err := os.Stat(precious); err != nil {
		t.Fatalf("file outside dir was deleted: %v", err)
	}
	if err := os.Remove(l.Data()); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(l.Data(), "version-2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Wipe(l); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.Data()); !os.IsNotExist(err) {
		t.Fatalf("data/ still there: %v", err)
	}
	c := &Config{Host: "h", Dir: dir, MyID: 1, TickTime: time.Second}
	if err := os.Symlink(outside, l.Data()); err != nil {
		t.Fatal(err)
	}
	if err := RenderFiles(c); err == nil {
		t.Fatal("rendering myid through a data/ symlink leading outside dir should be refused")
	}
}

func TestSupervision(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	p, err := Spawn(l, "worker-a1", []string{"/bin/sh", "-c", "echo started; exec sleep 60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(p.PID, syscall.SIGKILL) })
	got, err := Inspect(l, "worker-a1")
	if err != nil || got.State != StateRunning || got.Role != "worker" || got.ID != "a1" {
		t.Fatalf("inspect: %+v %v", got, err)
	}
	// Stop it only once it has written its line: a SIGSTOP before the
	// shell's echo would leave the log empty whatever supervision does.
	if err := retry.Poll(context.Background(), 10*time.Millisecond, 5*time.Second, func() (bool, error) {
		log, _ := os.ReadFile(got.Log)
		return len(log) > 0, nil
	}); err != nil {
		t.Fatalf("the process wrote nothing: %v", err)
	}
	if err := Signal(got, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitState(t, l, "worker-a1", StateStopped)
	got, _ = Inspect(l, "worker-a1")
	if err := Stop(got, 2*time.Second); err != nil { // TERM on a stopped process: CONT follows
		t.Fatal(err)
	}
	waitState(t, l, "worker-a1", StateDead)
	if log, _ := os.ReadFile(got.Log); string(log) != "started\n" {
		t.Fatalf("log %q, want the process's output", log)
	}

	// A pidfile whose pid now belongs to another process is stale.
	other := exec.Command("sleep", "60")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer other.Process.Kill()
	if err := os.WriteFile(filepath.Join(l.Run(), "master-b2.pid"), []byte("99999999 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, _ := Inspect(l, "master-b2"); p.State != StateDead {
		t.Fatalf("pidfile of a vanished pid: state %q, want dead", p.State)
	}
	reused := []byte(strconv.Itoa(other.Process.Pid) + " 12345\n") // wrong start time
	if err := os.WriteFile(filepath.Join(l.Run(), "master-b3.pid"), reused, 0o644); err != nil {
		t.Fatal(err)
	}
	if p, _ := Inspect(l, "master-b3"); p.State != StateDead {
		t.Fatalf("pidfile of a reused pid: state %q, want dead", p.State)
	}
}

func waitState(t *testing.T, l Layout, name, want string) {
	t.Helper()
	if retry.Poll(context.Background(), 20*time.Millisecond, 5*time.Second, func() (bool, error) {
		p, err := Inspect(l, name)
		return err == nil && p.State == want, nil
	}) == nil {
		return
	}
	p, _ := Inspect(l, name)
	t.Fatalf("%s: state %q, want %q", name, p.State, want)
}

func TestSpawnDetaches(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	p, err := Spawn(l, "client-c1", []string{"/bin/sleep", "60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(p.PID, syscall.SIGKILL)
	fields, err := procStat(p.PID) // field 6 of /proc/PID/stat is the session id
	if err != nil || fields[3] != strconv.Itoa(p.PID) {
		sid := ""
		if err == nil {
			sid = fields[3]
		}
		t.Fatalf("spawned process is not a session leader: sid %s, pid %d, %v", sid, p.PID, err)
	}
}

func TestParseSignal(t *testing.T) {
	for _, in := range []string{"TERM", "SIGTERM", "term", "sigkill", "STOP", "Cont", "INT", "hup"} {
		if _, err := ParseSignal(in); err != nil {
			t.Errorf("%q refused: %v", in, err)
		}
	}
	for _, in := range []string{"", "FOO", "SIGFOO", "9", "USR1"} {
		if _, err := ParseSignal(in); err == nil || !strings.Contains(err.Error(), "want TERM, KILL, STOP, CONT, INT or HUP") {
			t.Errorf("%q: want a refusal listing the signals, got %v", in, err)
		}
	}
	if SignalName(syscall.SIGKILL) != "KILL" {
		t.Errorf("SignalName(SIGKILL) = %q", SignalName(syscall.SIGKILL))
	}
}

func TestTail(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	if err := os.MkdirAll(l.Logs(), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		f, err := os.OpenFile(filepath.Join(l.Logs(), name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		f.WriteString(text)
	}
	write("zookeeper.log", "z1\nz2\nz3\n")
	write("master-vm1-m1.log", "m1\nm2\n")
	var out syncbuf.Buffer
	if err := Tail(context.Background(), l, "", 2, false, &out); err != nil {
		t.Fatal(err)
	}
	want := "master-vm1-m1 | m1\nmaster-vm1-m1 | m2\nzookeeper | z2\nzookeeper | z3\n"
	if out.String() != want {
		t.Fatalf("tail -n 2:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	if err := Tail(context.Background(), l, "master", 10, false, &out); err != nil || strings.Contains(out.String(), "zookeeper") {
		t.Fatalf("tail master shows other logs: %q %v", out.String(), err)
	}

	out.Reset()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- Tail(ctx, l, "", 0, true, &out) }()
	time.Sleep(300 * time.Millisecond)
	write("worker-vm2-w1.log", "new worker\n")
	write("zookeeper.log", "z4 partial")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "worker-vm2-w1 | new worker") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	write("zookeeper.log", " done\n")
	for !strings.Contains(out.String(), "zookeeper | z4 partial done") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "worker-vm2-w1 | new worker\n") || !strings.Contains(out.String(), "zookeeper | z4 partial done\n") {
		t.Fatalf("follow missed lines:\n%s", out.String())
	}
}

// TestRenderObservers: an observer's line ends in ":observer" on every
// host, and only the observer's own zoo.cfg says peerType=observer.
func TestRenderObservers(t *testing.T) {
	servers := []Server{
		{ID: 1, Address: "10.0.0.11", PeerPort: 2888, ElectionPort: 3888},
		{ID: 2, Address: "10.0.0.12", PeerPort: 2888, ElectionPort: 3888},
		{ID: 3, Address: "10.0.0.13", PeerPort: 2888, ElectionPort: 3888},
		{ID: 4, Address: "10.0.0.14", PeerPort: 2888, ElectionPort: 3888, Observer: true},
	}
	for _, tc := range []struct {
		myid         int
		peerObserver bool
	}{{1, false}, {4, true}} {
		cfg := RenderZooCfg(&Config{Host: "h", Dir: "/opt/zkctl", MyID: tc.myid, TickTime: time.Second, Servers: servers})
		if !strings.Contains(cfg, "server.4=10.0.0.14:2888:3888:observer\n") || !strings.Contains(cfg, "server.1=10.0.0.11:2888:3888\n") {
			t.Errorf("myid %d: server lines:\n%s", tc.myid, cfg)
		}
		if got := strings.Contains(cfg, "peerType=observer\n"); got != tc.peerObserver {
			t.Errorf("myid %d: peerType=observer %v, want %v:\n%s", tc.myid, got, tc.peerObserver, cfg)
		}
	}
	// A role-only host (its id among no server's) renders no peerType and is no server.
	c := &Config{Host: "h5", MyID: 5, Servers: servers}
	if _, ok := c.Self(); ok {
		t.Error("a host whose id is no server's counts as a server")
	}
	if _, err := StartZooKeeper(c); !errors.Is(err, ErrNoServer) {
		t.Errorf("start on a role-only host: %v, want ErrNoServer", err)
	}
}

// TestConfMismatches checks a real 3.8 conf reply against the config it
// was started with, and each kind of difference.
func TestConfMismatches(t *testing.T) {
	const conf = "clientPort=2181\nsecureClientPort=-1\ndataDir=/opt/zkctl/data/version-2\ntickTime=200\nmaxClientCnxns=0\n" +
		"serverId=1\ninitLimit=20\nsyncLimit=10\nelectionAlg=3\nelectionPort=3888\nquorumPort=2888\npeerType=0\nmembership: \n" +
		"server.1=10.0.0.11:2888:3888:participant\nserver.2=10.0.0.12:2888:3888:participant\nserver.3=10.0.0.13:2888:3888:participant\nversion=0\n"
	servers := func() []Server {
		return []Server{
			{ID: 1, Address: "10.0.0.11", PeerPort: 2888, ElectionPort: 3888},
			{ID: 2, Address: "10.0.0.12", PeerPort: 2888, ElectionPort: 3888},
			{ID: 3, Address: "10.0.0.13", PeerPort: 2888, ElectionPort: 3888},
		}
	}
	base := func() *Config {
		return &Config{Host: "vm1", MyID: 1, ClientPort: 2181, TickTime: 200 * time.Millisecond, Servers: servers()}
	}
	cases := []struct {
		name   string
		change func(c *Config)
		want   []string
	}{
		{"same", func(*Config) {}, nil},
		{"tick", func(c *Config) { c.TickTime = 400 * time.Millisecond }, []string{`tickTime: got "200", want "400"`}},
		{"client port", func(c *Config) { c.ClientPort = 2182 }, []string{`clientPort: got "2181", want "2182"`}},
		{"observer", func(c *Config) { c.Servers[2].Observer = true }, []string{`server.3: got "10.0.0.13:2888:3888:participant", want "10.0.0.13:2888:3888:observer"`}},
		{"self observer", func(c *Config) { c.Servers[0].Observer = true }, []string{
			`peerType: got "0", want "1"`, `server.1: got "10.0.0.11:2888:3888:participant", want "10.0.0.11:2888:3888:observer"`}},
		{"a server less", func(c *Config) { c.Servers = c.Servers[:2] }, []string{`server.3: got "10.0.0.13:2888:3888:participant", want none`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.change(c)
			if got := ConfMismatches(conf, c); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSignalRolesSettles: what `zkctl kill` prints is the state once the
// signal took effect, not the state just after it was sent (seen: "KILL →
// master-m1: now running").
func TestSignalRolesSettles(t *testing.T) {
	c := &Config{Host: "vm1", Dir: t.TempDir()}
	l := Layout{Dir: c.Dir}
	for i := range 10 {
		name := "worker-w" + strconv.Itoa(i)
		p, err := Spawn(l, name, []string{"/bin/sleep", "60"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = syscall.Kill(p.PID, syscall.SIGKILL) })
		for _, step := range []struct {
			sig  syscall.Signal
			want string
		}{{syscall.SIGSTOP, StateStopped}, {syscall.SIGCONT, StateRunning}, {syscall.SIGKILL, StateDead}} {
			hit, err := SignalRoles(c, "worker", "w"+strconv.Itoa(i), step.sig, time.Second)
			if err != nil || len(hit) != 1 || hit[0].State != step.want {
				t.Fatalf("%v to %s: %+v %v, want one process %s", step.sig, name, hit, err, step.want)
			}
		}
	}
}
