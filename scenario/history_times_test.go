package scenario

import (
	"strings"
	"testing"
	"time"

	"zkctl/history"
	"zkctl/txnlog"
)

// TestHistoryTimings: an interval within one epoch is taken from the
// transaction times as they are; one that crosses a leader change, or
// starts at the controller's fault, is corrected by the leaders' offsets.
func TestHistoryTimings(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	const w1, w2 = int64(0x11), int64(0x12)
	closeAt := func(z, s int64, d time.Duration) history.Entry {
		return history.Entry{Txn: txnlog.Txn{Zxid: z, Session: s, Type: txnlog.TypeCloseSession, Time: t0.Add(d)}}
	}
	removeAt := func(z int64, w string, d time.Duration) history.Entry {
		return history.Entry{Txn: txnlog.Txn{Zxid: z, Type: txnlog.TypeMulti, Time: t0.Add(d),
			Ops: []txnlog.Txn{{Type: txnlog.TypeCheck, Path: "/election/m_0000000001"}, {Type: txnlog.TypeDelete, Path: "/workers/" + w}}}}
	}
	h := &history.History{
		Txns: []history.Entry{
			closeAt(0x100000005, w1, time.Second), removeAt(0x100000007, "w1", 1500*time.Millisecond),
			closeAt(0x100000009, w2, 3*time.Second), removeAt(0x200000002, "w2", 5*time.Second),
		},
		Sessions: map[int64]history.Instance{w1: {Role: "worker", ID: "w1"}, w2: {Role: "worker", ID: "w2"}},
	}
	res := &Result{
		Procs: []*Proc{{Role: "worker", ID: "w1", Host: "vm2"}, {Role: "worker", ID: "w2", Host: "vm3"}},
		Events: []Event{{At: t0, Kind: KindFault, Role: "worker", ID: "w1", Msg: "SIGKILL worker w1"},
			// A mild degradation of w2's host, cleared, before the cut that ended it.
			{At: t0.Add(time.Second), Kind: KindFault, Host: "vm3", Msg: "degrade vm3: delay 20ms", Attrs: map[string]string{"fault": "degrade"}},
			{At: t0.Add(1500 * time.Millisecond), Kind: KindFault, Host: "vm3", Msg: "clear the degradations of vm3", Attrs: map[string]string{"fault": "heal"}},
			{At: t0.Add(2 * time.Second), Kind: KindFault, Host: "vm3", Role: "zookeeper", Msg: "partition vm3", Attrs: map[string]string{"fault": "partition"}},
			{At: t0.Add(4 * time.Second), Kind: KindFault, Host: "vm3", Msg: "heal vm3", Attrs: map[string]string{"fault": "heal"}}},
		Samples: &Samples{Servers: []string{"vm1", "vm2"}, Server: []ServerSample{
			{At: t0.Add(-time.Second), Modes: []string{"leader", "follower"}},
			{At: t0.Add(4 * time.Second), Modes: []string{"down", "leader"}},
		}},
	}
	offsets := map[string]time.Duration{"vm1": 100 * time.Millisecond, "vm2": -200 * time.Millisecond}
	got := historyTimings(h, res, offsets)
	want := []struct {
		d   time.Duration
		how string
	}{
		{500 * time.Millisecond, "one epoch"},
		{1400 * time.Millisecond, "vm1"},                     // 1.5s on vm1's clock, 100ms ahead
		{2300 * time.Millisecond, "crosses a leader change"}, // (5s+200ms) - (3s-100ms)
		{3200 * time.Millisecond, "vm2"},                     // from the cut of w2's host (not the earlier degradation, nor the heal): 5s on vm2's clock, 200ms behind
	}
	if len(got) != len(want) {
		t.Fatalf("%d timings, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].D != w.d || !strings.Contains(got[i].How, w.how) {
			t.Errorf("timing %d: %v (%s), want %v (%s)", i, got[i].D, got[i].How, w.d, w.how)
		}
	}
}
