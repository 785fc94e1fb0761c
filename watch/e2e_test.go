package watch

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/deploy"
	"zkctl/deploy/inventory"
	"zkctl/internal/syncbuf"
	"zkctl/internal/zktest"
	"zkctl/roles"
	"zkctl/roles/protocol"
)

// lab is a real ensemble, a controller over it (through an inventory of
// local hosts naming its ports), and `watch --plain` running on it.
type lab struct {
	t    *testing.T
	zk   *zktest.Ensemble
	conn *zk.Conn
	out  *syncbuf.Buffer
	done chan error
	seen int // bytes of out already matched by waitLine
}

func startLab(t *testing.T) *lab {
	e := zktest.Start(t, 3)
	c := deploy.NewCluster(inventoryFor(t, e), deploy.NewUI(io.Discard), nil)
	t.Cleanup(c.Close)
	l := &lab{t: t, zk: e, out: &syncbuf.Buffer{}, done: make(chan error, 1)}
	l.conn = l.session()
	if err := roles.EnsureBase(l.conn, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { l.done <- Run(ctx, FromCluster(c), Options{Plain: true}, l.out, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-l.done; err != nil {
			t.Errorf("watch ended with %v", err)
		}
		if t.Failed() {
			t.Logf("watch's output:\n%s", l.out.String())
		}
	})
	return l
}

// inventoryFor loads the inventory writeInventory writes.
func inventoryFor(t *testing.T, e *zktest.Ensemble) *inventory.Inventory {
	inv, err := inventory.Load(writeInventory(t, e))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// writeInventory writes an inventory of local hosts vm1…vm3 whose client
// ports are the ensemble's, and returns its path.
func writeInventory(t *testing.T, e *zktest.Ensemble) string {
	ports := zktest.FreePorts(t, 6)
	var b strings.Builder
	b.WriteString(zktest.Timings)
	for i := range 3 {
		fmt.Fprintf(&b, "\n[[host]]\nname = \"vm%d\"\ntransport = \"local\"\ndir = \"vm%d\"\nclient_port = %d\npeer_port = %d\nelection_port = %d\n",
			i+1, i+1, e.Config(i).ClientPort, ports[2*i], ports[2*i+1])
	}
	path := filepath.Join(t.TempDir(), "inventory.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func (l *lab) session() *zk.Conn {
	conn, err := roles.Dial(context.Background(), l.config("test"))
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(conn.Close)
	return conn
}

func (l *lab) config(id string) roles.Config {
	return roles.Config{Servers: l.zk.Servers(), SessionTimeout: zktest.SessionTimeout, ID: id, Host: "vm1",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// startRole runs a role of the registry in this process until the
// returned function is called (which closes its session, like SIGTERM).
func (l *lab) startRole(role, id string) (stop func()) {
	r, err := roles.Lookup(role)
	if err != nil {
		l.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx, l.config(id), roles.Options{Concurrency: 2}) }()
	stop = func() { cancel(); <-done }
	l.t.Cleanup(stop)
	return stop
}

// waitLine waits up to d for an output line after the last one matched
// that matches re, and returns its submatches.
func (l *lab) waitLine(d time.Duration, re string) []string {
	l.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(d)
	for {
		out := l.out.String()
		if loc := rx.FindStringSubmatchIndex(out[l.seen:]); loc != nil {
			m := rx.FindStringSubmatch(out[l.seen:])
			l.seen += loc[1]
			return m
		}
		select {
		case err := <-l.done:
			l.t.Fatalf("watch ended (%v) waiting for %q", err, re)
		default:
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("no line matching %q within %v", re, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLines waits up to d until each of res matches a line after the last
// one matched, in any order.
func (l *lab) waitLines(d time.Duration, res ...string) {
	l.t.Helper()
	from, end := l.seen, l.seen
	for _, re := range res {
		l.seen = from
		l.waitLine(d, re)
		end = max(end, l.seen)
	}
	l.seen = end
}

func (l *lab) submit(names ...string) {
	for _, n := range names {
		_, err := l.conn.Multi(
			&zk.CreateRequest{Path: protocol.Data(n), Data: []byte("0.05"), Acl: zk.WorldACL(zk.PermAll)},
			&zk.CreateRequest{Path: protocol.Task(n), Data: []byte(""), Acl: zk.WorldACL(zk.PermAll)})
		if err != nil {
			l.t.Fatalf("submit %s: %v", n, err)
		}
	}
}

// failoverBound is the generous bound on a master change after the leader
// closed its session: a few listings and polls.
const failoverBound = 2 * (zktest.SessionTimeout + zktest.TickTime + time.Second)

// TestWatchFailoverAndServerFaults runs `watch --plain` against a real
// ensemble with masters and a worker: it shows the master, the backup
// taking over when the master stops, tasks flowing, and, through a
// follower restart and the loss of quorum, it says what happened and
// carries on.
func TestWatchFailoverAndServerFaults(t *testing.T) {
	l := startLab(t)
	l.waitLines(10*time.Second, `session\s+connected to `, `zk\s+leader: vm\d`)
	stopM1 := l.startRole("master", "m1")
	l.waitLine(10*time.Second, `master\s+m1 (leads|elected)`)
	l.startRole("master", "m2")
	l.waitLine(10*time.Second, `election\s+candidate m2 joined \(position 2 of 2\)`)
	l.startRole("worker", "w1")
	l.waitLine(10*time.Second, `worker\s+w1 alive`)
	l.submit("t-1", "t-2", "t-3")
	l.waitLine(10*time.Second, `tasks\s+0 pending, 0 assigned, 3 results waiting`)

	// The leading master stops: the backup takes over.
	{
		stopM1()
		l.waitLine(failoverBound, `election\s+leading candidate m1 left`)
		m := l.waitLine(failoverBound, `(\d\d:\d\d:\d\d\.\d{3}) master\s+m2 elected`)
		var info protocol.MasterInfo
		data, _, err := l.conn.Get(protocol.MasterPath)
		if err == nil {
			info, err = protocol.ParseMasterInfo(data)
		}
		if err != nil {
			t.Fatal(err)
		}
		shown, _ := time.ParseInLocation("15:04:05.000", m[1], time.Local)
		since := info.Since.Local()
		shown = time.Date(since.Year(), since.Month(), since.Day(), shown.Hour(), shown.Minute(), shown.Second(), shown.Nanosecond(), time.Local)
		t.Logf("m2 took the lead at %s; the view showed it at %s: %v later", since.Format("15:04:05.000"), m[1], shown.Sub(since))
		l.submit("t-4")
		l.waitLine(10*time.Second, `tasks\s+0 pending, 0 assigned, 4 results waiting`)
	}

	// The server the view's session is on dies: the session moves; the
	// server comes back.
	{
		i := l.serving()
		l.zk.Kill(i)
		l.waitLines(10*time.Second, fmt.Sprintf(`zk\s+vm%d: \w+ → down`, i+1), `session\s+session 0x[0-9a-f]+ moved from `)
		l.zk.Start(i)
		l.waitLine(30*time.Second, fmt.Sprintf(`zk\s+vm%d: (down|not serving) → (follower|leader)`, i+1))
	}

	// Two of three servers die: no quorum; they come back and so does
	// the view's session, and it carries on.
	{
		l.zk.WaitAllServing()
		a, b := 0, 1
		l.zk.Kill(a)
		l.zk.Kill(b)
		l.waitLine(10*time.Second, `zk\s+quorum lost`)
		l.zk.Start(a)
		l.zk.Start(b)
		l.waitLine(60*time.Second, `zk\s+quorum back after`)
		// Reading again: the view's session is back (on whichever server).
		l.submit("t-5")
		l.waitLine(30*time.Second, `tasks\s+0 pending, 0 assigned, 5 results waiting`)
	}
}

// serving returns the index of the server the view's session is on, as
// its last session line names it.
func (l *lab) serving() int {
	l.t.Helper()
	out := l.out.String()
	rx := regexp.MustCompile(`(connected to|moved from \S+ to) (\S+)`)
	all := rx.FindAllStringSubmatch(out, -1)
	if len(all) == 0 {
		l.t.Fatal("the view never said which server it is connected to")
	}
	addr := strings.TrimSuffix(all[len(all)-1][2], ",")
	for i, s := range l.zk.Servers() {
		if s == addr {
			return i
		}
	}
	l.t.Fatalf("the view is connected to %q, not one of %v", addr, l.zk.Servers())
	return -1
}
