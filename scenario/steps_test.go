package scenario

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"zkctl/node"
	"zkctl/ops"
)

// TestEventOf: the timeline's event of every kind of operation is made
// from its Record, by Kind.
func TestEventOf(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	rec := func(kind ops.Kind, title, host, role, id, sig string, procs ...node.Proc) ops.Record {
		return ops.Record{Title: title, Kind: kind, Host: host, Role: role, ID: id, Signal: sig, Procs: procs,
			Start: t0, End: t0.Add(30 * time.Millisecond)}
	}
	notes := rec(ops.KindPartition, "partition vm1 from the others (both ways, until healed)", "vm1", "", "", "")
	notes.Notes = []ops.HostNote{{Host: "vm1", Msg: "cut 2 peers"}}
	cases := []struct {
		name  string
		op    ops.Op
		rec   ops.Record
		mode  string
		kind  Kind
		proc  string
		msg   string
		attrs map[string]string
	}{
		{"start", ops.Start{}, rec(ops.KindStart, "start master vm1-m1 on vm1", "vm1", "master", "vm1-m1", "", node.Proc{PID: 42}), "",
			KindStart, "master-vm1-m1", "start master vm1-m1 (pid 42)", nil},
		{"start server", ops.StartServer{}, rec(ops.KindStartServer, "start zookeeper on vm2", "vm2", node.ZooKeeperName, "", ""), "",
			KindStart, node.ZooKeeperName, "start zookeeper on vm2", nil},
		{"signal a role", ops.Signal{}, rec(ops.KindSignal, "SIGSTOP master vm1-m1 on vm1", "vm1", "master", "vm1-m1", "SIGSTOP"), "",
			KindFault, "master-vm1-m1", "SIGSTOP master vm1-m1", map[string]string{"signal": "SIGSTOP"}},
		{"signal a server", ops.Signal{Role: node.ZooKeeperName}, rec(ops.KindSignal, "SIGKILL zookeeper on vm2", "vm2", node.ZooKeeperName, "", "SIGKILL"), "leader",
			KindFault, node.ZooKeeperName, "SIGKILL zookeeper on vm2 (leader)", map[string]string{"signal": "SIGKILL", "mode": "leader"}},
		{"crash", ops.Crash{}, rec(ops.KindCrash, "crash vm3", "vm3", "", "", "SIGKILL"), "follower",
			KindFault, node.ZooKeeperName, "crash vm3 (zookeeper follower and its roles)", map[string]string{"signal": "SIGKILL", "mode": "follower"}},
		{"freeze", ops.Freeze{}, rec(ops.KindFreeze, "freeze vm3", "vm3", "", "", "SIGSTOP"), "",
			KindFault, node.ZooKeeperName, "freeze vm3", map[string]string{"fault": "freeze"}},
		{"partition", ops.Partition{}, notes, "leader",
			KindFault, node.ZooKeeperName, "partition vm1 from the others (both ways, until healed) (zookeeper leader)",
			map[string]string{"fault": "partition", "mode": "leader", "applied": "vm1: cut 2 peers"}},
		{"heal", ops.Heal{}, rec(ops.KindHeal, "heal vm1,vm2", "vm1,vm2", "", "", ""), "",
			KindFault, "", "heal vm1,vm2", map[string]string{"fault": "heal"}},
		{"degrade", ops.Degrade{}, rec(ops.KindDegrade, "degrade vm2 (loss 100%)", "vm2", "", "", ""), "",
			KindFault, "", "degrade vm2 (loss 100%)", map[string]string{"fault": "degrade"}},
		{"clear a degradation", ops.Degrade{Clear: true}, rec(ops.KindDegrade, "clear the degradations of vm2", "vm2", "", "", ""), "",
			KindFault, "", "clear the degradations of vm2", map[string]string{"fault": "heal"}},
	}
	for _, c := range cases {
		e := eventOf(c.op, c.rec, c.mode)
		if e.Kind != c.kind || e.Proc != c.proc || e.Msg != c.msg || !maps.Equal(e.Attrs, c.attrs) || !e.At.Equal(t0) || e.Took != 30*time.Millisecond {
			t.Errorf("%s: got %s %q %q %v at %v took %v", c.name, e.Kind, e.Proc, e.Msg, e.Attrs, e.At, e.Took)
		}
		if e.Host != c.rec.Host && c.name != "heal" || c.name == "heal" && e.Host != "vm1" {
			t.Errorf("%s: host %q", c.name, e.Host)
		}
	}
}

// TestPlacements: every placement names roles of the registry, on the
// scenario's hosts.
func TestPlacements(t *testing.T) {
	names := roleNames()
	for _, sc := range append(catalog(), PartitionChaos(1, time.Second)) {
		for _, pl := range sc.Place {
			if !slices.Contains(names, pl.Role) || pl.Host < 0 || pl.Host >= HostsNeeded {
				t.Errorf("%s: %+v is no (registry role, scenario host)", sc.Name, pl)
			}
		}
		if !sc.NoTasks && (len(sc.Place.Of("master")) == 0 || len(sc.Place.Of("worker")) == 0 || len(sc.Place.Of("client")) == 0) {
			t.Errorf("%s: a placement without a master, a worker or a client: %+v", sc.Name, sc.Place)
		}
	}
	if got := (Placement{{"worker", 2}, {"master", 0}, {"worker", 1}}).Of("worker"); !slices.Equal(got, []int{2, 1}) {
		t.Errorf("Of: %v", got)
	}
}

// TestProcsOf: the processes a scenario started are read from its
// journal: started, ended by a SIGKILL or SIGTERM of their instance (the
// latest one of that id keeps running when restarted after) or a crash of
// their host; a SIGSTOP ends nothing.
func TestProcsOf(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	start := func(s int, host, role, id string, pid int) ops.Record {
		return ops.Record{Kind: ops.KindStart, Host: host, Role: role, ID: id, Start: at(s), Procs: []node.Proc{{PID: pid, Log: "/l/" + id}}}
	}
	sig := func(s int, host, role, id, signal string) ops.Record {
		return ops.Record{Kind: ops.KindSignal, Host: host, Role: role, ID: id, Signal: signal, Start: at(s)}
	}
	recs := []ops.Record{
		start(0, "vm1", "master", "m1", 10), start(1, "vm2", "worker", "w1", 11), start(1, "vm3", "worker", "w2", 12),
		sig(2, "vm1", "master", "m1", "SIGSTOP"), sig(3, "vm2", "worker", "w1", "SIGKILL"), start(4, "vm2", "worker", "w1", 13),
		{Kind: ops.KindCrash, Host: "vm3", Start: at(5)}, sig(6, "vm1", "master", "m1", "SIGTERM"),
	}
	var got []string
	for _, p := range procsOf(recs) {
		got = append(got, fmt.Sprintf("%s/%s pid %d %s started %v ended %v killed %v", p.Host, p.Name(), p.PID, p.Log,
			p.Started.Sub(t0), p.Ended.Sub(t0)*time.Duration(btoi(!p.Ended.IsZero())), p.Killed))
	}
	want := []string{
		"vm1/master-m1 pid 10 /l/m1 started 0s ended 6s killed false",
		"vm2/worker-w1 pid 11 /l/w1 started 1s ended 3s killed true",
		"vm3/worker-w2 pid 12 /l/w2 started 1s ended 5s killed true",
		"vm2/worker-w1 pid 13 /l/w1 started 4s ended 0s killed false",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
