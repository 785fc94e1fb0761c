package deploy

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"zkctl/deploy/inventory"
)

// servers builds rollServers from "name=mode" pairs; a name ending in "+o"
// is an observer.
func servers(pairs ...string) []rollServer {
	var out []rollServer
	for _, p := range pairs {
		name, mode, _ := strings.Cut(p, "=")
		h := inventory.Host{Name: strings.TrimSuffix(name, "+o"), Observer: strings.HasSuffix(name, "+o")}
		out = append(out, rollServer{host: h, mode: mode})
	}
	return out
}

func TestPlanRoll(t *testing.T) {
	cases := []struct {
		name    string
		servers []rollServer
		targets []string
		force   bool
		want    []string // the order; nil with refused
		refused string   // a piece of the refusal
	}{
		{"followers first, leader last", servers("vm1=leader", "vm2=follower", "vm3=follower"), nil, false, []string{"vm2", "vm3", "vm1"}, ""},
		{"leader in the middle", servers("vm1=follower", "vm2=leader", "vm3=follower"), nil, false, []string{"vm1", "vm3", "vm2"}, ""},
		{"five servers", servers("vm1=follower", "vm2=follower", "vm3=leader", "vm4=follower", "vm5=follower"), nil, false, []string{"vm1", "vm2", "vm4", "vm5", "vm3"}, ""},
		{"observers after the followers, before the leader", servers("vm1=leader", "vm2+o=observer", "vm3=follower", "vm4=follower"), nil, false, []string{"vm3", "vm4", "vm2", "vm1"}, ""},
		{"named hosts only, leader still last", servers("vm1=leader", "vm2=follower", "vm3=follower"), []string{"vm1", "vm3"}, false, []string{"vm3", "vm1"}, ""},
		{"a name twice counts once", servers("vm1=leader", "vm2=follower", "vm3=follower"), []string{"vm2", "vm2"}, false, []string{"vm2"}, ""},
		{"standalone", servers("vm1=standalone"), nil, false, []string{"vm1"}, ""},
		{"a server down is refused", servers("vm1=leader", "vm2=down", "vm3=follower"), nil, false, nil, "vm2 not serving (vm1=leader vm2=down vm3=follower)"},
		{"a server not serving is refused", servers("vm1=leader", "vm2=follower", "vm3=error"), []string{"vm1"}, false, nil, "vm3 not serving"},
		{"--force starts the down server first", servers("vm1=leader", "vm2=down", "vm3=follower"), nil, true, []string{"vm2", "vm3", "vm1"}, ""},
		{"--force starts a down server not named", servers("vm1=leader", "vm2=follower", "vm3=down"), []string{"vm2"}, true, []string{"vm3", "vm2"}, ""},
		{"no quorum is refused", servers("vm1=error", "vm2=down", "vm3=down"), nil, false, nil, "no quorum: 0 of 3 voting servers serve, 2 needed"},
		{"no quorum is refused with --force too", servers("vm1=follower", "vm2=down", "vm3=unreachable"), nil, true, nil, "no quorum: 1 of 3"},
		{"a down observer costs no quorum", servers("vm1=leader", "vm2=follower", "vm3=follower", "vm4+o=down"), nil, true, []string{"vm4", "vm2", "vm3", "vm1"}, ""},
		{"an unknown name", servers("vm1=leader", "vm2=follower", "vm3=follower"), []string{"vm9"}, false, nil, `"vm9" is not a ZooKeeper server`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := planRoll(tc.servers, tc.targets, tc.force)
			if tc.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("got plan %v, err %v; want refused with %q", plan.Hosts(), err, tc.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(plan.Hosts(), tc.want) {
				t.Errorf("order %v, want %v", plan.Hosts(), tc.want)
			}
		})
	}
	_, err := planRoll(servers("vm1=leader", "vm2=down", "vm3=follower"), nil, false)
	if !errors.Is(err, ErrRollRefused) {
		t.Errorf("a refusal does not match ErrRollRefused: %v", err)
	}
}

func TestGate(t *testing.T) {
	voter := []string{"follower", "leader"}
	ok := gateView{mode: "follower", zxid: 0x100000010, leader: "vm2", synced: 2, rejoinZxid: 0x100000008, wantMode: voter, wantSynced: 2}
	cases := []struct {
		name   string
		change func(v *gateView)
		wait   string // a piece of what it waits for; "" when the gate holds
	}{
		{"everything holds", func(*gateView) {}, ""},
		{"zxid equal to the leader's at rejoin", func(v *gateView) { v.zxid = v.rejoinZxid }, ""},
		{"still looking", func(v *gateView) { v.mode = "error" }, "srvr mode error, want follower or leader"},
		{"down", func(v *gateView) { v.mode = "down" }, "srvr mode down"},
		{"an observer must answer as one", func(v *gateView) { v.wantMode = []string{"observer"} }, "want observer"},
		{"old configuration", func(v *gateView) { v.conf = []string{`tickTime: got "200", want "400"`} }, "conf differs from the new configuration: tickTime"},
		{"conf unreadable", func(v *gateView) { v.confErr = "connection refused" }, "conf unreadable"},
		{"no leader", func(v *gateView) { v.leader = "" }, "no server leads"},
		{"a follower not synced yet", func(v *gateView) { v.synced = 1 }, "leader vm2 has 1 synced followers, want 2"},
		{"not rejoined", func(v *gateView) { v.rejoinZxid = -1 }, "behind the leader"},
		{"behind the leader", func(v *gateView) { v.zxid = v.rejoinZxid - 1 }, "behind the leader"},
		{"standalone needs no leader", func(v *gateView) {
			v.mode, v.wantMode, v.standalone, v.leader, v.synced = "standalone", []string{"standalone"}, true, "", -1
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := ok
			tc.change(&v)
			held, why := v.check()
			if held != (tc.wait == "") || !strings.Contains(why, tc.wait) {
				t.Errorf("check() = %v, %q; want held %v, %q", held, why, tc.wait == "", tc.wait)
			}
		})
	}
}

func TestQuorumReady(t *testing.T) {
	cases := []struct {
		servers []rollServer
		ready   bool
	}{
		{servers("vm1=leader", "vm2=follower", "vm3=follower"), true},
		{servers("vm1=leader", "vm2=follower", "vm3=error"), false},
		{servers("vm1=leader", "vm2=leader", "vm3=follower"), false},
		{servers("vm1=leader", "vm2=follower", "vm3=follower", "vm4+o=observer"), true},
		{servers("vm1=leader", "vm2=follower", "vm3=follower", "vm4+o=down"), false},
		{servers("vm1=leader", "vm2=follower", "vm3+o=follower"), false},
		{servers("vm1=standalone"), true},
		{servers("vm1=down"), false},
	}
	for _, tc := range cases {
		if ready, summary := quorumReady(tc.servers); ready != tc.ready {
			t.Errorf("%s: ready %v, want %v", summary, ready, tc.ready)
		}
	}
}
