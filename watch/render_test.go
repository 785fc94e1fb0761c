package watch

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

func eq[T any](t *testing.T, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// busy is a state with a bit of everything.
func busy() *State {
	s := NewState(t0, []string{"vm1", "vm2", "vm3"})
	for _, ev := range []Event{
		SessionChanged{At: at(0), State: SessionConnected, Server: "127.0.0.1:2181", ID: 0x1234},
		ServersPolled{At: at(0), Servers: []ServerObs{
			{Host: "vm1", Mode: "leader", Zxid: 0x100000a3, Conns: 5, Version: "3.8.0"},
			{Host: "vm2", Mode: "follower", Zxid: 0x100000a3, Conns: 2, Version: "3.8.0"},
			{Host: "vm3", Mode: "down", Err: "connection refused"}}},
		FaultsRead{At: at(0), Host: "vm2", Faults: []Fault{{Kind: "partition", Detail: "10.0.0.11 both", Expires: at(42 * time.Second)}}},
		CandidatesListed{At: at(0), Nodes: []string{"m1_0000000001", "m2_0000000002"}},
		MasterRead{At: at(time.Second), Info: masterInfo("m1")},
		WorkersListed{At: at(0), Names: []string{"w1", "w2"}},
		AliveListed{At: at(0), Names: []string{"w1"}},
		CapacityRead{At: at(0), Worker: "w1", Capacity: 4},
		AssignmentsListed{At: at(0), Worker: "w1", Count: 3, Cversion: 3, Alive: true},
		AssignmentsListed{At: at(2 * time.Second), Worker: "w1", Count: 2, Cversion: 6, Alive: true},
		AssignmentsListed{At: at(0), Worker: "w2", Count: 1, Cversion: 1},
		TasksListed{At: at(0), Count: 5, Cversion: 5},
		TasksListed{At: at(2 * time.Second), Count: 7, Cversion: 11},
		ResultsListed{At: at(2 * time.Second), Count: 2},
		Tick{At: at(5 * time.Second)},
	} {
		Apply(s, ev)
	}
	return s
}

// screenText renders s without colours, trailing blanks trimmed.
func screenText(s *State, w, h int) []string {
	var out []string
	for _, l := range strings.Split(ansi.Strip(Render(s, w, h)), "\n") {
		out = append(out, strings.TrimRight(l, " "))
	}
	return out
}

// TestRender checks what each part of the screen says, by content: one
// regular expression per line that must be on the screen, in order.
func TestRender(t *testing.T) {
	lines := screenText(busy(), 120, 40)
	want := []string{
		`^zkctl watch  12:00:05   session: connected 0x1234 via 127\.0\.0\.1:2181 +q quits$`,
		`^SERVERS$`,
		`^HOST +MODE +ZXID +CONNS +VERSION +NETWORK FAULTS$`,
		`^vm1 +leader +for 5s +0x100000a3 +5 +3\.8\.0 +-$`,
		`^vm2 +follower +for 5s .* partition 10\.0\.0\.11 both \(for 37s\)$`,
		`^vm3 +down +for 5s +- +0 +- +-$`,
		`^MASTER  m1 on vm1, pid 42, for 4s$`,
		`^candidates \(election order\): m1 > m2$`,
		`^WORKERS$`,
		`^WORKER +STATE +TASKS/CAPACITY +DONE/S +LAST 30s$`,
		`^w1 +alive +2/4 +0\.2 +▁{27}█▁▁$`,
		`^w2 +gone +1/1 +0\.0 +▁{30}$`,
		`^TASKS  4 pending  3 assigned  2 results waiting$`,
		`^submitted/s [▁-█]{30}   0\.4$`,
		`^completed/s [▁-█]{30}   0\.2$`,
		`^EVENTS$`,
		`^12:00:00\.000 session  connected to 127\.0\.0\.1:2181 \(session 0x1234\)$`,
		`^12:00:01\.000 master   m1 leads \(host vm1, pid 42\)$`,
	}
	i := 0
	for _, l := range lines {
		if i < len(want) && regexp.MustCompile(want[i]).MatchString(l) {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("no line matches %q after the earlier ones; the screen:\n%s", want[i], strings.Join(lines, "\n"))
	}
}

func TestRenderFitsTheHeight(t *testing.T) {
	s := busy()
	for i := range 40 {
		Apply(s, WatchFailed{At: at(20*time.Second + time.Duration(i)*time.Second), Path: "/x", Err: "e" + string(rune('a'+i%26))})
	}
	for _, h := range []int{30, 45} {
		lines := screenText(s, 120, h)
		if len(lines) > h {
			t.Errorf("height %d: %d lines", h, len(lines))
		}
		if last := lines[len(lines)-1]; !strings.Contains(last, "12:00:59.000 error") {
			t.Errorf("height %d: the newest event is not the last line: %q", h, last)
		}
	}
}

func TestRenderBanner(t *testing.T) {
	s := busy()
	Apply(s, SessionChanged{At: at(14 * time.Second), State: SessionDisconnected})
	Apply(s, Tick{At: at(16 * time.Second)})
	lines := screenText(s, 120, 40)
	if !strings.Contains(lines[1], "session disconnected for 2s: reconnecting, shown as last seen") {
		t.Errorf("second line %q is not the banner", lines[1])
	}
}

func TestRenderBeforeAnyEvent(t *testing.T) {
	lines := screenText(NewState(t0, []string{"vm1"}), 80, 24)
	for _, want := range []string{"MASTER  not read yet", "WORKERS  none", "TASKS  0 pending  0 assigned  0 results waiting"} {
		if !strings.Contains(strings.Join(lines, "\n"), want) {
			t.Errorf("the first screen does not say %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}
	var zero Series
	eq(t, zero.Last(3), []int{0, 0, 0})
}
