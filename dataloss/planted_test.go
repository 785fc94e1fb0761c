package dataloss

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/deploy/inventory"
	"zkctl/internal/zktest"
	"zkctl/internal/zkversions"
	"zkctl/node"
	"zkctl/txnlog"
)

// cutRecords is how many records the planted losses cut from the tail of
// a server's newest log: the writer's last creates and deletes.
const cutRecords = 10

// TestPlantedLosses shows that the judge fails where data is lost. On
// three local servers of 3.9.6, a client writes; every server stops, and
// the tail of one server's newest transaction log is cut: the judge,
// reading the logs with every server down, names the writes that server
// lost (the merged history still holds them: a quorum does). Then the
// tail of a second server's log is cut, a majority: the writes are gone
// from the merged history. Then the two cut servers start, elect a leader
// of a new epoch, and the third, which still holds the writes, starts and
// is truncated to their history: the writes are gone from every server's
// final state.
func TestPlantedLosses(t *testing.T) {
	c := localEnsemble(t, 3, zktest.ReleaseHome(t, zkversions.V396))
	ctx := context.Background()
	e, err := newEnsemble(c)
	if err != nil {
		t.Fatal(err)
	}
	ev := writeThenStop(t, e)
	names := e.names()

	cut := cutTail(t, e, names[0])
	one := judgeNow(t, e, ev)
	wantFailed(t, one, "one server cut", []string{"every server's log reaches the end of the history"},
		[]string{"every acknowledged write is in the merged history"})
	wantLost(t, one, cut, names[0])

	cutTail(t, e, names[1])
	two := judgeNow(t, e, ev)
	wantFailed(t, two, "a majority cut", []string{"every acknowledged write is in the merged history"}, nil)
	wantLost(t, two, cut, names[0])

	for _, n := range names[:2] {
		if err := e.start(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	mark(t, e, names[:2])
	if err := e.start(ctx, names[2]); err != nil {
		t.Fatal(err)
	}
	mark(t, e, names)
	ev.End = e.status(names[0]).Zxid
	ev.Final = readFinal(ctx, e, ev.Root)
	after := judgeNow(t, e, ev)
	wantFailed(t, after, "a majority cut, restarted", []string{"every acknowledged write is in every server's final state"}, nil)
	wantLost(t, after, cut, names[2])
}

// writeThenStop writes until 60 writes are acknowledged, stops every
// server with the client still connected (its session's end is not
// logged), and returns the evidence so far: the writes, the zxid every
// server reported, and no final state (nothing serves).
func writeThenStop(t *testing.T, e *ensemble) Evidence {
	t.Helper()
	ctx := context.Background()
	if err := e.startDown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.waitAllServing(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := e.connect(ctx, e.servers)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	root := "/zkctl-dataloss/planted-" + time.Now().Format("150405.000")
	if err := ensureRoot(conn, root); err != nil {
		t.Fatal(err)
	}
	w := newWriter(conn, root, 5*time.Millisecond)
	go w.run()
	err = w.waitAcked(ctx, 60, e.timing.Wait())
	ev := Evidence{Root: root, Writes: w.finish()}
	if err != nil {
		t.Fatal(err)
	}
	if err := e.waitSameZxid(ctx, e.names()); err != nil {
		t.Fatal(err)
	}
	ev.End = e.status(e.names()[0]).Zxid
	for _, n := range e.names() {
		if err := e.stop(ctx, n); err != nil {
			t.Fatal(err)
		}
		ev.Final = append(ev.Final, FinalState{Server: n, Err: "stopped for the planted loss"})
	}
	return ev
}

// cutTail cuts the last records of name's newest log and returns the
// paths of the writes they held.
func cutTail(t *testing.T, e *ensemble, name string) []string {
	t.Helper()
	logs, err := txnlog.LogFiles(node.Layout{Dir: e.host(name).Dir}.Data())
	if err != nil || len(logs) == 0 {
		t.Fatalf("%s: logs %v, %v", name, logs, err)
	}
	txns, err := txnlog.CutTail(logs[len(logs)-1], cutRecords)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, tx := range txns {
		if tx.Type.IsCreate() || tx.Type.IsDelete() {
			paths = append(paths, tx.Path)
		}
	}
	if len(paths) == 0 {
		t.Fatalf("%s: the cut records %v hold no write of the client", name, txns)
	}
	t.Logf("cut %d records of %s's log %s: %s–%s", len(txns), name, logs[len(logs)-1],
		txnlog.FormatZxid(txns[0].Zxid), txnlog.FormatZxid(txns[len(txns)-1].Zxid))
	return paths
}

// judgeNow reads every server's logs into ev and judges it.
func judgeNow(t *testing.T, e *ensemble, ev Evidence) Judgement {
	t.Helper()
	ev, err := gatherLogs(context.Background(), e.c, e.servers, ev)
	if err != nil {
		t.Fatal(err)
	}
	ev.Faults = e.journal.Records()
	j := Judge(ev)
	var b strings.Builder
	for _, v := range j.Verdicts {
		b.WriteString("\n  " + v.Name + ": " + v.Detail)
	}
	b.WriteString("\n")
	printLost(&b, j.Lost)
	t.Logf("verdicts:%s", b.String())
	return j
}

// wantFailed wants j to fail, the checks in fail among its failures and
// those in hold passed.
func wantFailed(t *testing.T, j Judgement, what string, fail, hold []string) {
	t.Helper()
	if j.Passed() {
		t.Errorf("%s: the judge passed", what)
	}
	for _, v := range j.Verdicts {
		if slices.Contains(fail, v.Name) && v.OK {
			t.Errorf("%s: %q held: %s", what, v.Name, v.Detail)
		}
		if slices.Contains(hold, v.Name) && !v.OK {
			t.Errorf("%s: %q failed: %s", what, v.Name, v.Detail)
		}
	}
}

// wantLost wants every acknowledged write among paths named lost, with
// server among those that do not hold it or whose final state is wrong.
func wantLost(t *testing.T, j Judgement, paths []string, server string) {
	t.Helper()
	for _, p := range paths {
		i := slices.IndexFunc(j.Lost, func(l Lost) bool { return l.Path == p })
		if i < 0 {
			t.Errorf("%s was cut, and the judge does not name it lost", p)
			continue
		}
		l := j.Lost[i]
		if !slices.Contains(l.NotHeldBy, server) && !slices.Contains(l.MissingOn, server) {
			t.Errorf("%s: lost, yet %s is neither among the servers not holding it %v nor those whose final state lacks it %v",
				p, server, l.NotHeldBy, l.MissingOn)
		}
	}
}

// serverLogTail is the end of name's ZooKeeper log, for a failure.
func serverLogTail(e *ensemble, name string) string {
	data, err := e.c.ReadLog(context.Background(), e.host(name), node.ZooKeeperName)
	if err != nil {
		return err.Error()
	}
	return string(data[max(0, len(data)-4000):])
}

// mark waits until the servers named serve, writes one znode through
// them (a transaction of the new epoch: until one commits, a new leader
// reports the epoch's zxid 0 and its followers their last), and waits
// until they all report its zxid.
func mark(t *testing.T, e *ensemble, names []string) {
	t.Helper()
	ctx := context.Background()
	var hosts []inventory.Host
	for _, n := range names {
		hosts = append(hosts, e.host(n))
		if _, err := e.waitServing(ctx, n); err != nil {
			t.Fatalf("%v\n%s", err, serverLogTail(e, n))
		}
	}
	conn, err := e.connect(ctx, hosts)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Create("/zkctl-dataloss/mark-", nil, zk.FlagSequence, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if err := e.waitSameZxid(ctx, names); err != nil {
		t.Fatal(err)
	}
}
