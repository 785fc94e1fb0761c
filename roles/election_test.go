package roles

import (
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/zktest"
	"zkctl/roles/protocol"
)

// interval is a span of time during which a process believed it led.
type interval struct {
	id         string
	start, end time.Time
}

// leaderships reads a master's leadership intervals from its log: from
// "elected master" to the next "fenced:" or "stepping down" line, to its
// death (killedAt) or to now.
func leaderships(p *proc, killedAt time.Time) []interval {
	var out []interval
	var cur *interval
	for _, l := range p.lines() {
		switch {
		case l.event() == protocol.EventElected:
			cur = &interval{id: p.id, start: l.time("time")}
		case cur != nil && l.event() == protocol.EventStepDown:
			cur.end = l.time("time")
			out = append(out, *cur)
			cur = nil
		}
	}
	if cur != nil {
		cur.end = time.Now()
		if !killedAt.IsZero() {
			cur.end = killedAt
		}
		out = append(out, *cur)
	}
	return out
}

// checkOneLeader fails if two leadership intervals overlap.
func checkOneLeader(t *testing.T, all []interval) {
	t.Helper()
	for i, a := range all {
		for _, b := range all[i+1:] {
			if a.start.Before(b.end) && b.start.Before(a.end) {
				t.Errorf("%s led %v–%v and %s led %v–%v", a.id, a.start.Format(time.StampMicro),
					a.end.Format(time.StampMicro), b.id, b.start.Format(time.StampMicro), b.end.Format(time.StampMicro))
			}
		}
	}
}

// settledLeader is /master's id when it names the lowest candidate.
func settledLeader(conn *zk.Conn) string {
	id := masterID(conn)
	kids, _, err := conn.Children(protocol.ElectionPath)
	if err != nil || id == "" {
		return ""
	}
	sorted, _ := protocol.SortCandidates(kids)
	if len(sorted) == 0 || sorted[0].Name != id {
		return ""
	}
	return id
}

func TestThreeMastersFailover(t *testing.T) {
	ens := zktest.Start(t, 3)
	servers := ens.Servers()
	obs := observer(t, servers)
	procs := map[string]*proc{}
	for _, id := range []string{"m1", "m2", "m3"} {
		procs[id] = startRole(t, servers, "master", id, 0)
	}

	// Sample /master: once settled, it never disappears for longer than a
	// failover, and it only ever names these candidates.
	var mu sync.Mutex
	killedAt := map[string]time.Time{}
	var owners []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			id := masterID(obs)
			mu.Lock()
			if id != "" && (len(owners) == 0 || owners[len(owners)-1] != id) {
				owners = append(owners, id)
			}
			mu.Unlock()
			if _, ok := procs[id]; id != "" && !ok {
				t.Errorf("/master names %q", id)
			}
		}
	}()
	kill := func(id string, sig syscall.Signal) {
		if sig == syscall.SIGKILL {
			killedAt[id] = time.Now()
		}
		procs[id].signal(sig)
	}

	var first string
	if !waitFor(15*time.Second, func() bool { first = settledLeader(obs); return first != "" }) {
		t.Fatal("no settled master within 15s")
	}
	if _, ok := procs[first].waitEvent(5*time.Second, protocol.EventElected); !ok {
		t.Fatalf("%s leads but did not log it", first)
	}
	elected := 0
	for _, p := range procs {
		elected += len(events(p.lines(), protocol.EventElected))
	}
	if elected != 1 {
		t.Fatalf("%d elected-master lines with three candidates, want 1", elected)
	}

	// SIGKILL: a backup leads once the session expires.
	start := time.Now()
	kill(first, syscall.SIGKILL)
	var second string
	if !waitFor(failoverBound, func() bool { second = masterID(obs); return second != "" && second != first }) {
		t.Fatalf("no backup led within %v of SIGKILL", failoverBound)
	}
	line, _ := procs[second].waitEvent(time.Second, protocol.EventElected)
	t.Logf("SIGKILL %s: %s leads after %v (since_vanished_ms=%v)", first, second,
		time.Since(start).Round(time.Millisecond), line.num("since_vanished_ms"))

	// SIGTERM: the session closes at once, so a backup leads at once.
	start = time.Now()
	kill(second, syscall.SIGTERM)
	var third string
	if !waitFor(time.Second, func() bool { third = masterID(obs); return third != "" && third != second }) {
		t.Fatalf("no backup led within 1s of SIGTERM (master %q)", masterID(obs))
	}
	took := time.Since(start)
	line, _ = procs[third].waitEvent(time.Second, protocol.EventElected)
	t.Logf("SIGTERM %s: %s leads after %v (since_vanished_ms=%v)", second, third,
		took.Round(time.Millisecond), line.num("since_vanished_ms"))
	if !procs[second].exited(5*time.Second) || procs[second].err != nil {
		t.Fatalf("SIGTERMed master: exited=%v err=%v", procs[second].exited(0), procs[second].err)
	}
	if _, ok := procs[second].waitEvent(0, protocol.EventStopped); !ok {
		t.Error("SIGTERMed master did not log that it stopped")
	}

	time.Sleep(200 * time.Millisecond)
	if got := settledLeader(obs); got != third {
		t.Errorf("settled master %q, want %q", got, third)
	}
	var all []interval
	for id, p := range procs {
		all = append(all, leaderships(p, killedAt[id])...)
	}
	checkOneLeader(t, all)
	if len(all) != 3 {
		t.Errorf("%d leaderships, want 3: %v", len(all), all)
	}
	mu.Lock()
	defer mu.Unlock()
	// The sampler may miss a short tenure, never reorder them.
	want := []string{first, second, third}
	if len(owners) < 2 || owners[0] != first || owners[len(owners)-1] != third ||
		!slices.Equal(owners, want) && !slices.Equal(owners, []string{first, third}) {
		t.Errorf("/master owners %v, want %v", owners, want)
	}
}
