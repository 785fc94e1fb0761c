package scenario

import (
	"strings"
	"testing"
	"time"

	"zkctl/node"
)

func TestParseZooCfg(t *testing.T) {
	rendered := node.RenderZooCfg(&node.Config{Host: "vm1", Dir: "/opt/zkctl", TickTime: 500 * time.Millisecond})
	got, err := parseZooCfg(rendered)
	if err != nil {
		t.Fatal(err)
	}
	if got.tick != 500*time.Millisecond || got.syncLimit != 10 || got.initLimit != 20 {
		t.Errorf("from the rendered zoo.cfg: %+v", got)
	}
	changed, err := parseZooCfg("# comment syncLimit=1\ntickTime=2000\ninitLimit=5\nsyncLimit = 3\n")
	if err != nil || changed.tick != 2*time.Second || changed.syncLimit != 3 || changed.initLimit != 5 {
		t.Errorf("a changed configuration: %+v %v", changed, err)
	}
	for _, bad := range []struct{ cfg, want string }{
		{"tickTime=500\ninitLimit=20\n", "no syncLimit"},
		{"tickTime=500\ninitLimit=20\nsyncLimit=ten\n", `line 3: syncLimit="ten" is not a positive integer`},
		{"tickTime=0\ninitLimit=20\nsyncLimit=10\n", `line 1: tickTime="0"`},
	} {
		if _, err := parseZooCfg(bad.cfg); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: want an error naming %q, got %v", bad.cfg, bad.want, err)
		}
	}
}

// TestTimingBounds: the holds and waits at the suite's timings, the
// user's 500 ms tick and ZooKeeper's default 2 s tick.
func TestTimingBounds(t *testing.T) {
	for _, c := range []struct {
		tick, session                      time.Duration
		notice, failover, wait, fastWindow time.Duration
	}{
		{200 * time.Millisecond, 2 * time.Second, 2200 * time.Millisecond, 8600 * time.Millisecond, 30 * time.Second, 10 * time.Second},
		{500 * time.Millisecond, 3 * time.Second, 5500 * time.Millisecond, 19500 * time.Millisecond, 58500 * time.Millisecond, 19500 * time.Millisecond},
		{2 * time.Second, 6 * time.Second, 22 * time.Second, 72 * time.Second, 216 * time.Second, 72 * time.Second},
	} {
		tm := timing{tick: c.tick, session: c.session, syncLimit: 10, initLimit: 20}
		// A cut-off server notices after syncLimit ticks: the hold that
		// failed at a 500 ms tick (session + 1.5 s = 4.5 s) was shorter.
		if tm.serverNotice() <= time.Duration(tm.syncLimit)*tm.tick || tm.sessionExpiry() <= tm.session {
			t.Errorf("%v: notice %v, expiry %v", c.tick, tm.serverNotice(), tm.sessionExpiry())
		}
		if tm.serverNotice() != c.notice || tm.failover() != c.failover || tm.wait() != c.wait || tm.fastWindow() != c.fastWindow || tm.finish() != 2*c.wait {
			t.Errorf("%v/%v: notice %v failover %v wait %v fast %v", c.tick, c.session, tm.serverNotice(), tm.failover(), tm.wait(), tm.fastWindow())
		}
	}
}
