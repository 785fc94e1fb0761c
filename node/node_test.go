package node

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
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
		"4lw.commands.whitelist=srvr,mntr,ruok,stat\n", "admin.enableServer=false\n", "autopurge.purgeInterval=1\n",
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
	if s.Mode != "follower" || s.Zxid != 0x100000004 || s.Connections != 3 || s.NodeCount != 12 {
		t.Fatalf("parsed %+v", s)
	}
	if s := ParseSrvr("This ZooKeeper instance is not currently serving requests\n"); s.Mode != "error" || s.Error == "" {
		t.Fatalf("not serving: %+v", s)
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
