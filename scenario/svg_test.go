package scenario

import (
	"strings"
	"testing"
)

// TestTimelineFenced: a master's bar is solid until its last successful
// write, then drawn fenced until it noticed; a master never fenced has no
// fenced part; the legend names the fenced style.
func TestTimelineFenced(t *testing.T) {
	stepDown := ev(4, KindStepDown, "master", "m1", "msg", "session expired, stepping down", "fenced", "true")
	flap := plus(healthy(), started(0, "master", "m2"), elected(3, "m2", "s2"), stepDown)
	svg := Timeline(drawn(scene{evs: flap, procs: []*Proc{proc("master", "m1", 0), proc("master", "m2", 0)}}))
	fencedBar := `fill="` + colFenced + `"><title>m1 fenced t+0.50s to t+4.00s: no write of it lands after t+0.50s (m2 was elected at t+3.00s)`
	if !strings.Contains(svg, fencedBar) || !strings.Contains(svg, "m1 leads (session s1) t+0.10s to its last successful write at t+0.50s") {
		t.Errorf("no fenced part after m1's last write:\n%s", svg)
	}
	if !strings.Contains(svg, "master fenced (after its last successful write)") {
		t.Errorf("no legend entry for the fenced style")
	}
	healthySVG := Timeline(drawn(scene{evs: healthy(), procs: []*Proc{proc("master", "m1", 0)}}))
	if strings.Contains(healthySVG, "fenced t+") || !strings.Contains(healthySVG, "m1 leads (session s1) t+0.10s to") {
		t.Errorf("a master never fenced is drawn fenced:\n%s", healthySVG)
	}
}

// drawn is the result of a hand-built run, ready to draw.
func drawn(sc scene) *Result {
	res := sc.observe().res
	res.Scenario = &Scenario{Name: "partition-flap", What: "flaps"}
	return res
}
