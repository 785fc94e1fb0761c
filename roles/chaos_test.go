package roles

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/zktest"
	"zkctl/roles/protocol"
)

// chaos drives a bounded randomized fault run: masters and workers as
// processes, one ZooKeeper server at a time, a client submitting throughout.
type chaos struct {
	t       *testing.T
	rng     *rand.Rand
	ens     *zktest.Ensemble
	servers []string

	mu      sync.Mutex
	masters []*proc // live ones
	workers []*proc
	all     []*proc              // every process ever started, for the log checks
	faults  map[string]int       // injected, by kind
	results map[string][]string  // task → every result the client saw
	tasks   map[string]time.Time // task → submitted
	next    int                  // role ids
}

// TestChaos injects random faults for about a minute while tasks flow, then
// checks the protocol's promises. The seed is printed; rerun a failure with
// ZKCTL_CHAOS_SEED=<seed> (and ZKCTL_CHAOS_SECONDS to change the length).
func TestChaos(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ZKCTL_CHAOS_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	length := 50 * time.Second
	if s := os.Getenv("ZKCTL_CHAOS_SECONDS"); s != "" {
		n, _ := strconv.Atoi(s)
		length = time.Duration(n) * time.Second
	}
	t.Logf("chaos seed %d (rerun: ZKCTL_CHAOS_SEED=%d go test ./roles -run TestChaos)", seed, seed)
	ens := zktest.Start(t, 3)
	c := &chaos{t: t, rng: rand.New(rand.NewPCG(seed, 0)), ens: ens, servers: ens.Servers(),
		faults: map[string]int{}, results: map[string][]string{}, tasks: map[string]time.Time{}}
	conn := observer(t, c.servers)
	retryConn(t, func() error { return EnsureBase(conn, ACL("")) })
	for range 2 {
		c.start("master")
	}
	for range 3 {
		c.start("worker")
	}

	ctx, cancel := context.WithCancel(context.Background())
	clients := c.client(ctx, conn)
	deadline := time.Now().Add(length)
	for first := true; time.Now().Before(deadline); first = false {
		time.Sleep(time.Duration(500+c.rng.IntN(1500)) * time.Millisecond)
		if first { // a failover in every run, whatever the seed draws
			c.killActingMaster(conn)
			continue
		}
		c.fault()
	}
	cancel()
	clients.Wait()
	c.collectRest(conn)
	c.report()
	c.checkResults()
	c.checkNoOrphans(conn)
	c.checkOneActingMaster()
}

// start starts a new master or worker process.
func (c *chaos) start(role string) *proc {
	c.mu.Lock()
	c.next++
	id := fmt.Sprintf("%c%d", role[0], c.next)
	c.mu.Unlock()
	p := startRole(c.t, c.servers, role, id, 2)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all = append(c.all, p)
	if role == "master" {
		c.masters = append(c.masters, p)
	} else {
		c.workers = append(c.workers, p)
	}
	return p
}

// fault injects one random fault and repairs it (a replacement process, a
// resumed process, a restarted server); at most one fault is active at once.
func (c *chaos) fault() {
	kinds := []string{"kill master", "term master", "pause master", "kill worker", "pause worker", "kill zookeeper"}
	kind := kinds[c.rng.IntN(len(kinds))]
	c.faults[kind]++
	role := kind[strings.IndexByte(kind, ' ')+1:]
	switch kind {
	case "kill master", "kill worker", "term master":
		p := c.pick(role)
		sig := syscall.SIGKILL
		if kind == "term master" {
			sig = syscall.SIGTERM
		}
		p.signal(sig)
		p.exited(10 * time.Second)
		c.drop(p)
		c.start(role)
	case "pause master", "pause worker":
		p := c.pick(role)
		p.signal(syscall.SIGSTOP)
		pause := zktest.SessionTimeout + time.Duration(c.rng.IntN(1500))*time.Millisecond
		if role == "worker" {
			pause = time.Duration(300+c.rng.IntN(2500)) * time.Millisecond
		}
		time.Sleep(pause)
		p.signal(syscall.SIGCONT)
	case "kill zookeeper":
		i := c.rng.IntN(len(c.servers))
		c.ens.Kill(i)
		time.Sleep(time.Duration(500+c.rng.IntN(2500)) * time.Millisecond)
		c.ens.Start(i)
		c.ens.WaitAllServing() // see zktest.SettleAfterSync
	}
}

// killActingMaster SIGKILLs the master that /master names (waiting up to
// the failover bound for one) and starts a replacement candidate.
func (c *chaos) killActingMaster(conn *zk.Conn) {
	c.faults["kill acting master"]++
	var acting *proc
	waitFor(10*time.Second, func() bool {
		id := masterID(conn)
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, p := range c.masters {
			if p.id == id {
				acting = p
			}
		}
		return acting != nil
	})
	if acting == nil {
		c.t.Fatalf("no acting master among %d candidates within 10s", len(c.masters))
	}
	acting.signal(syscall.SIGKILL)
	acting.exited(10 * time.Second)
	c.drop(acting)
	c.start("master")
}

// pick returns a random live process of role.
func (c *chaos) pick(role string) *proc {
	c.mu.Lock()
	defer c.mu.Unlock()
	list := c.workers
	if role == "master" {
		list = c.masters
	}
	return list[c.rng.IntN(len(list))]
}

func (c *chaos) drop(p *proc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, list := range []*[]*proc{&c.masters, &c.workers} {
		for i, q := range *list {
			if q == p {
				*list = append((*list)[:i], (*list)[i+1:]...)
				return
			}
		}
	}
}

// client submits a batch of short tasks every 200ms and waits for each
// batch's results concurrently, until ctx ends.
func (c *chaos) client(ctx context.Context, conn *zk.Conn) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for batch := 1; ctx.Err() == nil; batch++ {
			names := taskNames(fmt.Sprintf("b%d", batch), 4)
			payload := fmt.Sprintf("%.2f", 0.05+0.25*c.rng.Float64())
			tasks, err := Submit(context.Background(), conn, ACL(""), names, payload)
			if err != nil {
				c.t.Errorf("submit batch %d: %v", batch, err)
				return
			}
			c.mu.Lock()
			for _, tk := range tasks {
				c.tasks[tk.Name] = tk.Submitted
			}
			c.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				wctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				if err := Wait(wctx, conn, tasks, c.record); err != nil {
					c.t.Errorf("batch %d: %v", batch, err)
				}
			}()
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return &wg
}

func (c *chaos) record(r Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.results[r.Task] = append(c.results[r.Task], r.Value)
}

// collectRest waits briefly for any result created after its client
// finished (there must be none: that would be a second result).
func (c *chaos) collectRest(conn *zk.Conn) {
	time.Sleep(500 * time.Millisecond)
	kids, _, err := conn.Children(protocol.ResultsPath)
	if err != nil {
		c.t.Errorf("list results: %v", err)
		return
	}
	for _, k := range kids {
		c.t.Errorf("result %s appeared after its client had taken one", k)
	}
}

func (c *chaos) report() {
	kinds := make([]string, 0, len(c.faults))
	total := 0
	for k, n := range c.faults {
		kinds = append(kinds, fmt.Sprintf("%s ×%d", k, n))
		total += n
	}
	sort.Strings(kinds)
	n := 0
	for _, rs := range c.results {
		n += len(rs)
	}
	c.t.Logf("faults injected: %d (%s); tasks submitted: %d; results: %d; processes started: %d",
		total, strings.Join(kinds, ", "), len(c.tasks), n, len(c.all))
}

// checkResults: every submitted task has exactly one result, "ok <w>".
func (c *chaos) checkResults() {
	for task := range c.tasks {
		rs := c.results[task]
		switch {
		case len(rs) != 1:
			c.t.Errorf("task %s: %d results %v, want exactly one", task, len(rs), rs)
		case !strings.HasPrefix(rs[0], "ok "):
			c.t.Errorf("task %s: result %q", task, rs[0])
		}
	}
	var completions = map[string]int{}
	for _, p := range c.all {
		for _, l := range events(p.lines(), protocol.EventCompleted) {
			completions[l.str("task")]++
		}
	}
	for task, n := range completions {
		if n > 1 {
			c.t.Errorf("task %s completed %d times; every line about it:\n%s", task, n, c.linesAbout(task))
		}
	}
}

// linesAbout returns every process's log lines that name task, in the
// processes' start order (a role's log is cut to its tail on failure).
func (c *chaos) linesAbout(task string) string {
	var b strings.Builder
	for _, p := range c.all {
		data, _ := os.ReadFile(p.log)
		for _, l := range strings.Split(string(data), "\n") {
			if strings.Contains(l, "task="+task+" ") || strings.Contains(l, "/"+task+" ") || strings.HasSuffix(l, "task="+task) {
				fmt.Fprintf(&b, "%s: %s\n", p.id, l)
			}
		}
	}
	return b.String()
}

// checkNoOrphans: once every client has its results, nothing is left.
func (c *chaos) checkNoOrphans(conn *zk.Conn) {
	var left []string
	ok := waitFor(20*time.Second, func() bool {
		left = left[:0]
		for _, p := range []string{protocol.TasksPath, protocol.DataPath, protocol.ResultsPath} {
			kids, _, err := conn.Children(p)
			if err != nil {
				left = append(left, p+": "+err.Error())
			}
			for _, k := range kids {
				left = append(left, p+"/"+k)
			}
		}
		workers, _, _ := conn.Children(protocol.WorkersPath)
		for _, w := range workers {
			kids, _, _ := conn.Children(protocol.Worker(w))
			for _, k := range kids {
				left = append(left, protocol.Assignment(w, k))
			}
		}
		return len(left) == 0
	})
	if !ok {
		c.t.Errorf("orphan znodes at the end: %v", left)
	}
}

// checkOneActingMaster: no master makes a successful write after another
// master was elected later than itself; so two masters never act at once,
// and a fenced master writes nothing.
func (c *chaos) checkOneActingMaster() {
	type election struct {
		id, session string
		at          time.Time
	}
	var elections []election
	type write struct {
		id, session, op string
		sent            time.Time
	}
	var writes []write
	for _, p := range c.all {
		for _, l := range p.lines() {
			switch {
			case l.event() == protocol.EventElected:
				elections = append(elections, election{p.id, l.str("session"), l.time("time")})
			case l.str("write") != "":
				writes = append(writes, write{p.id, l.str("session"), l.str("write"), l.time("sent")})
			}
		}
	}
	if len(elections) < 2 {
		c.t.Errorf("only %d elections seen: the run did not exercise failover", len(elections))
	}
	for _, w := range writes {
		var mine time.Time
		for _, e := range elections {
			if e.id == w.id && e.session == w.session && !e.at.After(w.sent) && e.at.After(mine) {
				mine = e.at
			}
		}
		if mine.IsZero() {
			c.t.Errorf("master %s wrote (%s) at %v without being elected in session %s", w.id, w.op, w.sent, w.session)
			continue
		}
		for _, e := range elections {
			if e.id != w.id && e.at.After(mine) && e.at.Before(w.sent) {
				c.t.Errorf("master %s wrote (%s) at %v after %s was elected at %v", w.id, w.op,
					w.sent.Format(time.StampMilli), e.id, e.at.Format(time.StampMilli))
			}
		}
	}
	c.t.Logf("elections: %d; master writes checked: %d", len(elections), len(writes))
}

// TestAllServersDownAndBack: with every server gone, the roles keep
// retrying; when the servers return, every task completes exactly once.
func TestAllServersDownAndBack(t *testing.T) {
	ens := zktest.Start(t, 3)
	servers := ens.Servers()
	startCluster(t, servers, 2, "w1", "w2")
	conn := observer(t, servers)
	names := taskNames("down", 12)
	tasks, err := Submit(context.Background(), conn, ACL(""), names, "0.4")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	for i := range servers {
		ens.Kill(i)
	}
	time.Sleep(2 * zktest.SessionTimeout)
	for i := range servers {
		ens.Start(i)
	}
	ens.WaitQuorum()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	results := map[string]int{}
	if err := Wait(ctx, conn, tasks, func(r Result) { results[r.Task]++ }); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if results[n] != 1 {
			t.Errorf("%s: %d results", n, results[n])
		}
	}
}
