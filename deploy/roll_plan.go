package deploy

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"zkctl/deploy/inventory"
)

// A roll restarts ZooKeeper servers one at a time, each gated on the
// ensemble's health (roll_gate.go), so that the ensemble keeps its quorum
// and no more than one server is ever out: `zkctl restart zookeeper`, and
// deploy when it applies a changed configuration. This file plans one:
// which servers, in which order, or why not now. It is pure logic over
// the servers' modes; roll.go runs the plan.

// ErrRollRefused is a roll that cannot start in the ensemble's state: no
// quorum, or a server already down without --force.
var ErrRollRefused = errors.New("roll refused")

// rollServer is one server as the plan sees it: its host and the mode
// srvr reported ("leader", "follower", "observer", "standalone", "down",
// "error" when it answers without serving, "unreachable" when its agent
// could not be asked).
type rollServer struct {
	host inventory.Host
	mode string
}

// serving reports a mode in which a server serves clients.
func serving(mode string) bool {
	switch mode {
	case "leader", "follower", "observer", "standalone":
		return true
	}
	return false
}

// RollPlan is the order of a roll and the state it was planned in.
type RollPlan struct {
	Steps []RollStep
	State string // the servers' modes as found: "vm1=follower vm2=leader vm3=follower"
}

// RollStep is one server of a roll and its mode when the roll was planned.
type RollStep struct {
	Host inventory.Host
	Was  string
}

// Down reports a step that starts a server found down (--force).
func (s RollStep) Down() bool { return !serving(s.Was) }

// Hosts are the plan's hosts, in order.
func (p RollPlan) Hosts() []string {
	out := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		out[i] = s.Host.Name
	}
	return out
}

// String is the plan in one line: "vm1 (follower), vm3 (follower), vm2 (leader)".
func (p RollPlan) String() string {
	parts := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		parts[i] = fmt.Sprintf("%s (%s)", s.Host.Name, s.Was)
	}
	return strings.Join(parts, ", ")
}

// planRoll orders a roll of the servers named by targets (every server
// when it is empty): with force, the servers found down first, then the
// followers, then the observers, one at a time each, the leader last;
// within a group in the order named (inventory order when none is). It refuses, with the
// state, a roll while the voters have no quorum, and one while any
// server is down unless force.
func planRoll(servers []rollServer, targets []string, force bool) (RollPlan, error) {
	plan := RollPlan{State: modeSummary(servers)}
	voters, up := 0, 0
	var down []string
	for _, s := range servers {
		if s.host.Votes() {
			voters++
			if serving(s.mode) {
				up++
			}
		}
		if !serving(s.mode) {
			down = append(down, s.host.Name)
		}
	}
	if quorum := voters/2 + 1; up < quorum {
		return plan, fmt.Errorf("%w: no quorum: %d of %d voting servers serve, %d needed (%s); a roll would take one more out: "+
			"start the servers that are down first (zkctl start zookeeper HOST)", ErrRollRefused, up, voters, quorum, plan.State)
	}
	if len(down) > 0 && !force {
		return plan, fmt.Errorf("%w: %s not serving (%s); a roll takes one server out at a time and starts with every server up: "+
			"start it (zkctl start zookeeper %s), or pass --force to start it first", ErrRollRefused, strings.Join(down, ", "), plan.State, down[0])
	}
	chosen, err := pick(servers, targets)
	if err != nil {
		return plan, err
	}
	for _, s := range servers { // --force starts every server found down, named or not
		if !serving(s.mode) && !slices.ContainsFunc(chosen, func(c rollServer) bool { return c.host.Name == s.host.Name }) {
			chosen = append(chosen, s)
		}
	}
	rank := func(s rollServer) int {
		switch {
		case !serving(s.mode):
			return 0
		case s.mode == "leader":
			return 3
		case s.host.Observer:
			return 2
		}
		return 1
	}
	slices.SortStableFunc(chosen, func(a, b rollServer) int { return rank(a) - rank(b) })
	for _, s := range chosen {
		plan.Steps = append(plan.Steps, RollStep{Host: s.host, Was: s.mode})
	}
	return plan, nil
}

// pick returns the servers named by targets, every one when it is empty;
// a name that is no server is an error.
func pick(servers []rollServer, targets []string) ([]rollServer, error) {
	if len(targets) == 0 {
		return slices.Clone(servers), nil
	}
	var out []rollServer
	for _, name := range targets {
		i := slices.IndexFunc(servers, func(s rollServer) bool { return s.host.Name == name })
		if i < 0 {
			names := make([]string, len(servers))
			for j, s := range servers {
				names[j] = s.host.Name
			}
			return nil, fmt.Errorf("%q is not a ZooKeeper server of the inventory (servers: %s)", name, strings.Join(names, ", "))
		}
		if !slices.ContainsFunc(out, func(s rollServer) bool { return s.host.Name == name }) {
			out = append(out, servers[i])
		}
	}
	return out, nil
}

// modeSummary is "vm1=follower vm2=leader …" in inventory order.
func modeSummary(servers []rollServer) string {
	parts := make([]string, len(servers))
	for i, s := range servers {
		parts[i] = s.host.Name + "=" + s.mode
	}
	return strings.Join(parts, " ")
}
