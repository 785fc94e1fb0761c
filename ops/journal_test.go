package ops

import (
	"context"
	"errors"
	"testing"
	"time"

	"zkctl/controller"
	"zkctl/node"
)

// fakeOp returns a fixed record: the journal's bookkeeping is pure logic.
type fakeOp struct {
	rec Record
	err error
}

func (f fakeOp) Title() string { return f.rec.Title }
func (f fakeOp) Run(context.Context, *controller.Cluster) (Record, error) {
	f.rec.Start, f.rec.End = time.Now(), time.Now()
	return f.rec, f.err
}

func procs(pids ...int) []node.Proc {
	var out []node.Proc
	for _, p := range pids {
		out = append(out, node.Proc{PID: p, Name: "worker-x", Role: "worker"})
	}
	return out
}

func TestJournalTracksLiveProcesses(t *testing.T) {
	j := NewJournal(nil)
	ctx := context.Background()
	steps := []struct {
		rec  Record
		live []int // pids live after the step
	}{
		{Record{Kind: KindStart, Host: "vm1", Procs: procs(10, 11)}, []int{10, 11}},
		{Record{Kind: KindStart, Host: "vm2", Procs: procs(10)}, []int{10, 11, 10}},
		{Record{Kind: KindSignal, Host: "vm1", Signal: "SIGSTOP", Procs: procs(10)}, []int{10, 11, 10}},
		{Record{Kind: KindSignal, Host: "vm1", Signal: "SIGKILL", Procs: procs(10)}, []int{11, 10}},
		{Record{Kind: KindCrash, Host: "vm2", Signal: "SIGKILL", Procs: procs(10)}, []int{11}},
		{Record{Kind: KindSignal, Host: "vm1", Signal: "SIGTERM", Procs: procs(11)}, nil},
	}
	for i, s := range steps {
		if _, err := j.Do(ctx, fakeOp{rec: s.rec}); err != nil {
			t.Fatal(err)
		}
		var live []int
		for _, p := range j.Live() {
			live = append(live, p.PID)
		}
		if len(live) != len(s.live) {
			t.Fatalf("step %d: live %v, want %v", i, live, s.live)
		}
		for k := range live {
			if live[k] != s.live[k] {
				t.Fatalf("step %d: live %v, want %v", i, live, s.live)
			}
		}
	}
	if n := len(j.Records()); n != len(steps) {
		t.Errorf("%d records, want %d", n, len(steps))
	}
}

func TestJournalKeepsFailedRecords(t *testing.T) {
	j := NewJournal(nil)
	boom := errors.New("boom")
	rec, err := j.Do(context.Background(), fakeOp{rec: Record{Title: "start master on vm9", Kind: KindStart}, err: boom})
	if !errors.Is(err, boom) || rec.Title != "start master on vm9" || len(j.Records()) != 1 || len(j.Live()) != 0 {
		t.Errorf("rec %+v err %v records %d live %d", rec, err, len(j.Records()), len(j.Live()))
	}
}

func TestTitles(t *testing.T) {
	cases := map[string]Op{
		"start worker vm2-w1 on vm2": Start{Role: "worker", Host: "vm2", ID: "vm2-w1"},
		"start master on vm1":        Start{Role: "master", Host: "vm1"},
		"SIGKILL master m1 on vm1":   Signal{Role: "master", Host: "vm1", ID: "m1", Signal: 9},
		"SIGTERM every role on vm3":  Signal{Host: "vm3", Signal: 15},
		"start zookeeper on vm2":     StartServer{Host: "vm2"},
		"stop zookeeper on vm2":      StopServer{Host: "vm2"},
		"crash vm1":                  Crash{Host: "vm1"},
		"freeze vm1":                 Freeze{Host: "vm1"},
		"thaw vm1":                   Thaw{Host: "vm1"},
	}
	for want, op := range cases {
		if got := op.Title(); got != want {
			t.Errorf("Title() = %q, want %q", got, want)
		}
	}
}
