package lincheck

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"zkctl/internal/retry"
	"zkctl/internal/zktest"
)

// leaderFaults, every round, kills the ZooKeeper leader, leaves it down and
// starts it again; or, every other round, freezes it (SIGSTOP) and thaws it
// (SIGCONT): a frozen leader leaves operations in flight unanswered.
type leaderFaults struct {
	e           *zktest.Ensemble
	after, down time.Duration
	rounds      int
}

func (k leaderFaults) Name() string { return "kill-or-freeze-leader" }

func (k leaderFaults) Run(ctx context.Context, log func(Fault)) {
	for i := 0; i < k.rounds; i++ {
		if retry.Sleep(ctx, k.after) != nil {
			return
		}
		l := k.e.Leader()
		if l < 0 {
			continue
		}
		f := Fault{Name: "kill leader", Target: fmt.Sprintf("zk%d", l+1), Start: time.Now()}
		if i%2 == 1 {
			f.Name = "freeze leader"
			k.e.Signal(l, syscall.SIGSTOP)
		} else {
			k.e.Kill(l)
		}
		_ = retry.Sleep(ctx, k.down) // heal even when the run ends meanwhile
		if i%2 == 1 {
			k.e.Signal(l, syscall.SIGCONT)
		} else {
			k.e.Start(l)
		}
		f.End = time.Now()
		log(f)
	}
}

func TestConfigDefaultsAndRefusals(t *testing.T) {
	c, err := Config{Servers: []string{"127.0.0.1:1"}}.withDefaults()
	if err != nil || c.Clients != 3 || c.Ops != DefaultOps || c.Duration != DefaultDuration || c.Path != DefaultPath ||
		c.OpTimeout != DefaultOpTimeout || c.Seed == 0 || c.Logger == nil {
		t.Fatalf("defaults %+v %v", c, err)
	}
	for _, bad := range []Config{{}, {Servers: []string{"x:1"}, Path: "rel"}, {Servers: []string{"x:1"}, Path: "/"},
		{Servers: []string{"x:1"}, Path: "/a/"}} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// With no server answering, Run gives up after Duration and says so.
func TestRunWithoutServer(t *testing.T) {
	port := zktest.FreePorts(t, 1)[0]
	_, err := Run(context.Background(), Config{Servers: []string{fmt.Sprintf("127.0.0.1:%d", port)},
		Duration: 300 * time.Millisecond}, nil)
	if err == nil || !strings.Contains(err.Error(), "create /zkctl-lincheck") {
		t.Fatalf("err %v", err)
	}
}

func TestRunOnEnsembleWithLeaderFaults(t *testing.T) {
	e := zktest.Start(t, 3)
	cfg := Config{
		Servers: e.Servers(), Clients: 6, Ops: 300, Duration: 16 * time.Second,
		Path: "/lincheck/register", OpTimeout: 2 * time.Second, SessionTimeout: zktest.SessionTimeout, Seed: 1,
	}
	nem := leaderFaults{e: e, after: 2500 * time.Millisecond, down: 2500 * time.Millisecond, rounds: 3}
	h, err := Run(context.Background(), cfg, nem)
	if err != nil {
		t.Fatal(err)
	}
	viz := filepath.Join(t.TempDir(), "linearizable.html")
	r := Check(h, 30*time.Second, viz)
	t.Logf("report:\n%s", strings.Join(r.Markdown(), "\n"))
	if r.Verdict != VerdictOK {
		t.Fatalf("verdict %s (%s), read violations %q; visualization %s", r.Verdict, r.Linearizability, r.ReadViolations, r.Visualization)
	}
	for _, k := range Kinds() {
		if r.Counts[k].OK == 0 {
			t.Errorf("no successful %s", k)
		}
	}
	if r.Counts[CAS].Failed == 0 {
		t.Errorf("no refused cas: the CAS versions never miss")
	}
	lost := 0
	for _, c := range r.Counts {
		lost += c.Indeterminate
	}
	if lost == 0 {
		t.Errorf("no operation of unknown outcome: the faults caught none in flight")
	}
	if len(r.Faults) != nem.rounds {
		t.Errorf("%d faults recorded, want %d", len(r.Faults), nem.rounds)
	}
	// the same history with one acknowledged write lost is refused
	bad := *h
	bad.Ops = append([]Op(nil), h.Ops...)
	for i, op := range bad.Ops {
		if op.Kind == Write && op.Outcome == OK {
			bad.Ops[i].Outcome, bad.Ops[i].Err = Failed, "zk: node does not exist"
			break
		}
	}
	if r := Check(&bad, 30*time.Second, ""); r.Verdict != VerdictIllegal {
		t.Errorf("history with an acknowledged write dropped judged %s", r.Verdict)
	}
	if len(h.Ops) == 0 || len(h.Ops) > cfg.Ops {
		t.Errorf("%d operations, want 1..%d", len(h.Ops), cfg.Ops)
	}
}
