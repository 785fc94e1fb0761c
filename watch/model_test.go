package watch

import (
	"strings"
	"testing"
	"time"

	"zkctl/roles/protocol"
)

var t0 = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func masterInfo(id string) *protocol.MasterInfo {
	return &protocol.MasterInfo{ID: id, Host: "vm1", PID: 42, Since: t0}
}

func srv(host, mode string) ServerObs { return ServerObs{Host: host, Mode: mode, Version: "3.8.0"} }

// texts is the Text of each line.
func texts(ls []Line) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Kind + ": " + l.Text
	}
	return out
}

// TestApply feeds sequences of events and checks the lines the last one
// makes and the state after it.
func TestApply(t *testing.T) {
	tests := []struct {
		name   string
		events []Event
		want   []string // lines of the last event, in order
		check  func(*testing.T, *State)
	}{
		{
			name: "first master",
			events: []Event{
				MasterRead{At: at(0), Info: masterInfo("m1")},
			},
			want: []string{"master: m1 leads (host vm1, pid 42)"},
		},
		{
			name: "master gone",
			events: []Event{
				MasterRead{At: at(0), Info: masterInfo("m1")},
				MasterRead{At: at(time.Second)},
			},
			want:  []string{"master: master m1 gone: no master"},
			check: func(t *testing.T, s *State) { eq(t, s.MasterChanged, at(time.Second)) },
		},
		{
			name: "backup elected after a gap",
			events: []Event{
				MasterRead{At: at(0), Info: masterInfo("m1")},
				MasterRead{At: at(time.Second)},
				MasterRead{At: at(3500 * time.Millisecond), Info: masterInfo("m2")},
			},
			want: []string{"master: m2 elected (host vm1, pid 42) after 2.5s without a master"},
		},
		{
			name: "same master read again says nothing",
			events: []Event{
				MasterRead{At: at(0), Info: masterInfo("m1")},
				MasterRead{At: at(time.Second), Info: masterInfo("m1")},
			},
			want:  nil,
			check: func(t *testing.T, s *State) { eq(t, s.MasterChanged, at(0)) },
		},
		{
			name: "candidates in sequence order, the leader leaves",
			events: []Event{
				CandidatesListed{At: at(0), Nodes: []string{"m2_0000000007", "m1_0000000003"}},
				CandidatesListed{At: at(time.Second), Nodes: []string{"m2_0000000007", "m1_0000000009"}},
			},
			want: []string{"election: leading candidate m1 left (its session ended)",
				"election: candidate m1 joined (position 2 of 2)"},
			check: func(t *testing.T, s *State) { eq(t, candidateList(s.Candidates), "m2 > m1") },
		},
		{
			name: "protected-create prefix is not part of the name",
			events: []Event{
				CandidatesListed{At: at(0), Nodes: []string{"_c_0123456789abcdef0123456789abcdef-py1_0000000001"}},
			},
			want: []string{"election: candidates: py1"},
		},
		{
			name: "server modes, leader change and quorum",
			events: []Event{
				ServersPolled{At: at(0), Servers: []ServerObs{srv("vm1", "leader"), srv("vm2", "follower"), srv("vm3", "follower")}},
				ServersPolled{At: at(time.Second), Servers: []ServerObs{srv("vm1", "down"), srv("vm2", "follower"), srv("vm3", "leader")}},
			},
			want: []string{"zk: vm1: leader → down", "zk: vm3: follower → leader", "zk: leader changed: vm1 → vm3"},
			check: func(t *testing.T, s *State) {
				eq(t, s.Leader, "vm3")
				eq(t, s.Servers[0].Since, at(time.Second))
			},
		},
		{
			name: "quorum lost",
			events: []Event{
				ServersPolled{At: at(0), Servers: []ServerObs{srv("vm1", "leader"), srv("vm2", "follower"), srv("vm3", "follower")}},
				ServersPolled{At: at(time.Second), Servers: []ServerObs{srv("vm1", "down"), srv("vm2", "down"), {Host: "vm3", Mode: "error", Err: "not serving"}}},
			},
			want: []string{"zk: vm1: leader → down", "zk: vm2: follower → down", "zk: vm3: follower → error (not serving)",
				"zk: quorum lost: no server serves", "zk: no server leads"},
			check: func(t *testing.T, s *State) {
				eq(t, s.Quorum, false)
				if !strings.Contains(banner(s), "NO QUORUM") {
					t.Errorf("banner %q does not say NO QUORUM", banner(s))
				}
			},
		},
		{
			name: "quorum back",
			events: []Event{
				ServersPolled{At: at(0), Servers: []ServerObs{srv("vm1", "leader"), srv("vm2", "follower")}},
				ServersPolled{At: at(time.Second), Servers: []ServerObs{srv("vm1", "down"), srv("vm2", "error")}},
				ServersPolled{At: at(4 * time.Second), Servers: []ServerObs{srv("vm1", "follower"), srv("vm2", "leader")}},
			},
			want:  []string{"zk: vm1: down → follower", "zk: vm2: error → leader", "zk: quorum back after 3s", "zk: leader: vm2"},
			check: func(t *testing.T, s *State) { eq(t, strings.Contains(banner(s), "QUORUM"), false) },
		},
		{
			name: "session moves",
			events: []Event{
				SessionChanged{At: at(0), State: SessionConnected, Server: "a:1", ID: 7},
				SessionChanged{At: at(time.Second), State: SessionDisconnected, Server: "a:1"},
				SessionChanged{At: at(time.Second), State: SessionConnecting, Server: "b:2"},
				SessionChanged{At: at(2 * time.Second), State: SessionConnected, Server: "b:2", ID: 7},
			},
			want: []string{"session: session 0x7 moved from a:1 to b:2"},
		},
		{
			name: "session expires and a new one opens",
			events: []Event{
				SessionChanged{At: at(0), State: SessionConnected, Server: "a:1", ID: 7},
				SessionChanged{At: at(time.Second), State: SessionDisconnected, Server: "a:1"},
				SessionChanged{At: at(9 * time.Second), State: SessionExpired, Server: "a:1"},
				SessionChanged{At: at(9 * time.Second), State: SessionConnected, Server: "a:1", ID: 8},
			},
			want: []string{"session: new session 0x8 on a:1 (the previous one, 0x7, expired)"},
		},
		{
			name: "disconnected shows a banner",
			events: []Event{
				SessionChanged{At: at(0), State: SessionConnected, Server: "a:1", ID: 7},
				SessionChanged{At: at(time.Second), State: SessionDisconnected, Server: "a:1"},
				Tick{At: at(3 * time.Second)},
			},
			want: nil,
			check: func(t *testing.T, s *State) {
				eq(t, banner(s), "session disconnected for 2s: reconnecting, shown as last seen")
			},
		},
		{
			name: "worker alive with capacity, then gone",
			events: []Event{
				AliveListed{At: at(0), Names: []string{"w1"}},
				CapacityRead{At: at(0), Worker: "w1", Capacity: 4},
				WorkersListed{At: at(0), Names: []string{"w1"}},
				AssignmentsListed{At: at(0), Worker: "w1", Count: 3, Cversion: 3, Alive: true},
				AliveListed{At: at(time.Second)},
			},
			want: []string{"worker: w1 gone (its session ended), 3 tasks assigned"},
			check: func(t *testing.T, s *State) {
				w := s.Workers["w1"]
				eq(t, w.Capacity, 4)
				eq(t, w.Alive, false)
				eq(t, w.Registered, true)
			},
		},
		{
			name: "late reads of a forgotten worker leave no ghost",
			events: []Event{
				WorkersListed{At: at(0), Names: []string{"w1"}},
				AliveListed{At: at(0), Names: []string{"w1"}},
				AliveListed{At: at(time.Second)},
				WorkersListed{At: at(time.Second)},
				AssignmentsListed{At: at(time.Second), Worker: "w1", Count: 0, Cversion: 4},
				CapacityRead{At: at(time.Second), Worker: "w1", Capacity: 2},
			},
			check: func(t *testing.T, s *State) { eq(t, len(s.Workers), 0) },
		},
		{
			name: "completions of a live worker from the child version",
			events: []Event{
				WorkersListed{At: at(0), Names: []string{"w1"}},
				AssignmentsListed{At: at(0), Worker: "w1", Count: 2, Cversion: 2, Alive: true},
				// 3 created, 4 deleted: cversion +7, count -1
				AssignmentsListed{At: at(1500 * time.Millisecond), Worker: "w1", Count: 1, Cversion: 9, Alive: true},
				Tick{At: at(3 * time.Second)},
			},
			check: func(t *testing.T, s *State) {
				eq(t, s.Workers["w1"].Done.Last(3), []int{0, 4, 0})
				eq(t, s.Assigned(), 1)
			},
		},
		{
			name: "tasks of a gone worker moved back",
			events: []Event{
				WorkersListed{At: at(0), Names: []string{"w1"}},
				AssignmentsListed{At: at(0), Worker: "w1", Count: 3, Cversion: 3, Alive: true},
				AssignmentsListed{At: at(time.Second), Worker: "w1", Count: 1, Cversion: 5},
			},
			want: []string{"reassign: 2 tasks of w1 moved back to pending"},
		},
		{
			name: "a gone worker's folder deleted",
			events: []Event{
				WorkersListed{At: at(0), Names: []string{"w1"}},
				AssignmentsListed{At: at(0), Worker: "w1", Count: 2, Cversion: 2, Alive: true},
				AliveListed{At: at(0)},
				AssignmentsListed{At: at(time.Second), Worker: "w1", Gone: true},
			},
			want:  []string{"reassign: 2 tasks of w1 moved back to pending"},
			check: func(t *testing.T, s *State) { eq(t, len(s.Workers), 0) },
		},
		{
			name: "a gone worker's folder deleted before its last listing",
			events: []Event{
				WorkersListed{At: at(0), Names: []string{"w1"}},
				AssignmentsListed{At: at(0), Worker: "w1", Count: 3, Cversion: 3, Alive: true},
				AliveListed{At: at(0)},
				AssignmentsListed{At: at(time.Second), Worker: "w1", Count: 2, Cversion: 4},
				WorkersListed{At: at(time.Second)},
				AssignmentsListed{At: at(time.Second), Worker: "w1", Gone: true},
			},
			want: nil,
			check: func(t *testing.T, s *State) {
				var moved []string
				for _, l := range s.Events {
					if l.Kind == "reassign" {
						moved = append(moved, l.Text)
					}
				}
				eq(t, moved, []string{"1 task of w1 moved back to pending", "2 tasks of w1 moved back to pending"})
				eq(t, len(s.Workers), 0)
			},
		},
		{
			name: "task counts and rates",
			events: []Event{
				TasksListed{At: at(0), Count: 0, Cversion: 10},
				WorkersListed{At: at(0), Names: []string{"w1"}},
				AssignmentsListed{At: at(0), Worker: "w1", Count: 2, Cversion: 2, Alive: true},
				// 8 created, 2 deleted: cversion +10, count +6
				TasksListed{At: at(time.Second), Count: 6, Cversion: 20},
			},
			want: []string{"tasks: 4 pending, 2 assigned, 0 results waiting"},
			check: func(t *testing.T, s *State) {
				Apply(s, Tick{At: at(2 * time.Second)})
				eq(t, s.Submitted.Last(2), []int{0, 8})
				eq(t, s.Completed.Last(2), []int{0, 2})
			},
		},
		{
			name: "a recreated /tasks resets the baseline",
			events: []Event{
				TasksListed{At: at(0), Count: 5, Cversion: 50},
				TasksListed{At: at(time.Second), Count: 0, Cversion: 0},
				Tick{At: at(2 * time.Second)},
			},
			check: func(t *testing.T, s *State) {
				eq(t, s.Submitted.Last(2), []int{0, 0})
				eq(t, s.Completed.Last(2), []int{0, 0})
			},
		},
		{
			name: "fault applied",
			events: []Event{
				FaultsRead{At: at(0), Host: "vm1"},
				FaultsRead{At: at(time.Second), Host: "vm1", Faults: []Fault{{Kind: "partition", Detail: "10.0.0.12 both", Expires: at(61 * time.Second)}}},
			},
			want: []string{"fault: vm1: partition 10.0.0.12 both applied (expires 12:01:01, in 1m0s)"},
		},
		{
			name: "fault healed before its expiry, another expired",
			events: []Event{
				FaultsRead{At: at(0), Host: "vm1", Faults: []Fault{
					{Kind: "partition", Detail: "10.0.0.12 both", Expires: at(60 * time.Second)},
					{Kind: "degrade 1", Detail: "loss 20%", Expires: at(10 * time.Second)}}},
				FaultsRead{At: at(10 * time.Second), Host: "vm1"},
			},
			want: []string{"fault: vm1: partition 10.0.0.12 both healed", "fault: vm1: degrade 1 loss 20% expired"},
		},
		{
			name: "agent error said once",
			events: []Event{
				FaultsRead{At: at(0), Host: "vm1", Err: "no nft"},
				FaultsRead{At: at(3 * time.Second), Host: "vm1", Err: "no nft"},
			},
			want:  nil,
			check: func(t *testing.T, s *State) { eq(t, faultCell(s, "vm1"), "? no nft") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewState(t0, []string{"vm1", "vm2", "vm3"})
			var got []Line
			for _, ev := range tt.events {
				got = Apply(s, ev)
			}
			eq(t, strings.Join(texts(got), "\n"), strings.Join(tt.want, "\n"))
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

func TestEventsKeepTheLast(t *testing.T) {
	s := NewState(t0, nil)
	for i := range maxEvents + 10 {
		Apply(s, WatchFailed{At: at(time.Duration(i) * time.Second), Path: "/x", Err: "boom"})
	}
	eq(t, len(s.Events), maxEvents)
	eq(t, s.Events[0].At, at(10*time.Second))
}

func TestSeries(t *testing.T) {
	var r Series
	r.Add(at(0), 2)
	r.Add(at(500*time.Millisecond), 1)
	r.Add(at(2*time.Second), 5)
	r.advance(at(3 * time.Second))
	eq(t, r.Last(3), []int{3, 0, 5})
	eq(t, r.Rate(2), 2.5)
	r.Add(at(-time.Hour), 100) // older than the window: dropped
	eq(t, r.Last(3), []int{3, 0, 5})
	r.advance(at(time.Hour)) // everything skipped is cleared
	eq(t, r.Last(3), []int{0, 0, 0})
}

func TestSparkline(t *testing.T) {
	for _, tt := range []struct {
		in   []int
		want string
	}{
		{[]int{0, 0, 0}, "▁▁▁"},
		{[]int{0, 1, 2, 4, 8}, "▁▂▃▅█"},
		{[]int{7, 7}, "██"},
		{nil, ""},
	} {
		eq(t, Sparkline(tt.in), tt.want)
	}
}

func TestParseServer(t *testing.T) {
	out := "Zookeeper version: 3.8.0-5a02a05eddb59aee6ac762f7ea82e92a68eb9c0f, built on 2022-02-25 08:49 UTC\n" +
		"Latency min/avg/max: 0/0.1/3\nReceived: 10\nSent: 9\nConnections: 4\nOutstanding: 0\nZxid: 0x10000002a\nMode: follower\nNode count: 12\n"
	eq(t, parseServer("vm1", out, nil), ServerObs{Host: "vm1", Mode: "follower", Zxid: 0x10000002a, Conns: 4, Version: "3.8.0"})
	down := parseServer("vm2", "", errString("connection refused"))
	eq(t, down.Mode, "down")
	eq(t, parseServer("vm3", "This ZooKeeper instance is not currently serving requests\n", nil).Mode, "not serving")
	eq(t, parseServer("vm3", "garbage\n", nil), ServerObs{Host: "vm3", Mode: "error", Err: "garbage"})
}

type errString string

func (e errString) Error() string { return string(e) }
