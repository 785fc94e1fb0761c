package roles

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/syncbuf"
	"zkctl/internal/zktest"
	"zkctl/roles/protocol"
	"zkctl/roles/rolelog"
)

// The test binary runs the roles as separate processes, the way `zkctl node
// run` does: with ZKCTL_ROLE set it runs that role of the registry,
// configured by these variables, logging slog text lines (the production
// format, rolelog) at debug level to its stdout.
const (
	envRole        = "ZKCTL_ROLE"
	envServers     = "ZKCTL_SERVERS"
	envID          = "ZKCTL_ID"
	envConcurrency = "ZKCTL_CONCURRENCY"
)

func TestMain(m *testing.M) {
	if role := os.Getenv(envRole); role != "" {
		os.Exit(runRoleProcess(role))
	}
	os.Exit(m.Run())
}

// runRoleProcess is main() of a role process; SIGTERM and SIGINT end it.
func runRoleProcess(name string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	cfg := Config{
		Servers:        strings.Split(os.Getenv(envServers), ","),
		SessionTimeout: zktest.SessionTimeout,
		ID:             os.Getenv(envID),
		Host:           "test",
		Logger:         rolelog.NewLogger(os.Stdout, slog.LevelDebug),
	}
	role, err := Lookup(name)
	if err == nil {
		c, _ := strconv.Atoi(os.Getenv(envConcurrency))
		err = role.Run(ctx, cfg, Options{Concurrency: c})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// proc is a role running as a child process.
type proc struct {
	t    testing.TB
	id   string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error // exit status, once done is closed
}

// startRole starts a master or worker process with the given id.
func startRole(t testing.TB, servers []string, role, id string, concurrency int) *proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), role+"-"+id+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envRole+"="+role, envServers+"="+strings.Join(servers, ","),
		envID+"="+id, envConcurrency+"="+strconv.Itoa(concurrency))
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s %s: %v", role, id, err)
	}
	p := &proc{t: t, id: id, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			t.Logf("log of %s %s:\n%s", role, id, tail(string(data), 60))
		}
	})
	return p
}

// signal sends sig to the process.
func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v to %s: %v", sig, p.id, err)
	}
}

// exited waits up to d for the process to end.
func (p *proc) exited(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// logLine is one log line of a role process, as rolelog parses it.
type logLine map[string]string

func (l logLine) msg() string         { return l["msg"] }
func (l logLine) str(k string) string { return l[k] }
func (l logLine) num(k string) float64 {
	f, _ := strconv.ParseFloat(l[k], 64)
	return f
}
func (l logLine) time(k string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, l[k])
	return t
}
func (l logLine) event() protocol.Event { return protocol.Event(l[protocol.EventAttr]) }

// lines parses the process's log so far (skipping lines that are not slog's).
func (p *proc) lines() []logLine {
	data, _ := os.ReadFile(p.log) // none yet: no lines
	return parseLines(data)
}

func parseLines(data []byte) []logLine {
	var out []logLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l, ok := rolelog.Parse(sc.Text()); ok {
			out = append(out, logLine(l.Attrs))
		}
	}
	return out
}

// events returns the lines that mark event ev.
func events(lines []logLine, ev protocol.Event) []logLine {
	var out []logLine
	for _, l := range lines {
		if l.event() == ev {
			out = append(out, l)
		}
	}
	return out
}

// waitEvent waits up to d for a line that marks event ev.
func (p *proc) waitEvent(d time.Duration, ev protocol.Event) (logLine, bool) {
	return p.waitLines(d, func(ls []logLine) []logLine { return events(ls, ev) })
}

// grep returns the lines whose message starts with prefix.
func grep(lines []logLine, prefix string) []logLine {
	var out []logLine
	for _, l := range lines {
		if strings.HasPrefix(l.msg(), prefix) {
			out = append(out, l)
		}
	}
	return out
}

// waitLog waits up to d for a line whose message starts with prefix.
func (p *proc) waitLog(d time.Duration, prefix string) (logLine, bool) {
	return p.waitLines(d, func(ls []logLine) []logLine { return grep(ls, prefix) })
}

// waitLines waits up to d until pick finds a line in the log.
func (p *proc) waitLines(d time.Duration, pick func([]logLine) []logLine) (logLine, bool) {
	deadline := time.Now().Add(d)
	for {
		if ls := pick(p.lines()); len(ls) > 0 {
			return ls[0], true
		}
		if time.Now().After(deadline) {
			return nil, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// observer opens a plain client session for the test's own reads and writes.
func observer(t testing.TB, servers []string) *zk.Conn {
	t.Helper()
	conn, _, err := zk.Connect(servers, zktest.SessionTimeout, zk.WithLogger(quietLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	deadline := time.Now().Add(10 * time.Second)
	for conn.State() != zk.StateHasSession {
		if time.Now().After(deadline) {
			t.Fatal("observer: no session within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return conn
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

// masterID reads /master's id ("" when absent).
func masterID(conn *zk.Conn) string {
	data, _, err := conn.Get(protocol.MasterPath)
	if err != nil {
		return ""
	}
	m, err := protocol.ParseMasterInfo(data)
	if err != nil {
		return "?"
	}
	return m.ID
}

// waitFor polls cond every 10ms for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// retryConn runs f until it returns no connection error (the test's own
// connection may drop on a loaded machine); other errors are fatal.
func retryConn(t testing.TB, f func() error) {
	t.Helper()
	for i := 0; ; i++ {
		err := f()
		switch {
		case err == nil:
			return
		case !IsConnErr(err) || i == 50:
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// failoverBound is the generous bound on a failover after a crash:
// twice the session timeout plus a tick.
const failoverBound = 2 * (zktest.SessionTimeout + zktest.TickTime)

// submitRaw submits tasks with the plain client library, as DESIGN.md says.
func submitRaw(t testing.TB, conn *zk.Conn, name, payload string) {
	t.Helper()
	_, err := conn.Multi(
		&zk.CreateRequest{Path: "/data/" + name, Data: []byte(payload), Acl: zk.WorldACL(zk.PermAll)},
		&zk.CreateRequest{Path: "/tasks/" + name, Data: []byte(""), Acl: zk.WorldACL(zk.PermAll)})
	if err != nil {
		t.Fatalf("submit %s: %v", name, err)
	}
}

// syncBuffer is a goroutine-safe log sink for in-process roles.
type syncBuffer struct{ syncbuf.Buffer }

func (b *syncBuffer) lines() []logLine { return parseLines(b.Bytes()) }

// testLogger logs in the production format (rolelog) at debug level.
func testLogger(w io.Writer) *slog.Logger { return rolelog.NewLogger(w, slog.LevelDebug) }

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
