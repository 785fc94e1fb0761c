package scenario

import (
	"context"
	"fmt"
	"strings"
	"time"

	"zkctl/controller"
	"zkctl/node/wire"
	"zkctl/ops"
)

// The steps of the network fault scenarios (netcatalog.go): partitions,
// heals and degradations through the same operations as `zkctl partition`,
// `heal` and `degrade`, and the runner's heal at the end of every scenario.

// Skipped is a scenario that cannot run on a cluster, and why.
type Skipped struct {
	Scenario *Scenario
	Reason   string
}

// Runnable splits scs into those that can run on c and those that cannot:
// the network scenarios need hosts with their own addresses.
func Runnable(ctx context.Context, c *controller.Cluster, scs []*Scenario) ([]*Scenario, []Skipped) {
	netErr := netPossible(ctx, c)
	var run []*Scenario
	var skipped []Skipped
	for _, s := range scs {
		if s.Net && netErr != nil {
			skipped = append(skipped, Skipped{Scenario: s, Reason: netErr.Error()})
			continue
		}
		run = append(run, s)
	}
	return run, skipped
}

// netPossible says why network faults cannot be made between the
// scenarios' hosts, or nil.
func netPossible(ctx context.Context, c *controller.Cluster) error {
	hosts := c.Inv.Hosts
	if len(hosts) > HostsNeeded {
		hosts = hosts[:HostsNeeded]
	}
	return ops.NetFaultsPossible(ctx, hosts)
}

// partition cuts hosts off from the other hosts until healed (ops.Partition).
func (r *run) partition(hosts ...string) Event {
	_, e, _ := r.do(ops.Partition{Hosts: hosts, For: 0}, r.modeBefore(hosts[0]))
	return e
}

// heal removes every network fault of hosts (every host when none).
func (r *run) heal(hosts ...string) Event {
	_, e, _ := r.do(ops.Heal{Hosts: hosts}, "")
	return e
}

// degrade applies d (ops.Degrade) and notes what was applied.
func (r *run) degrade(d ops.Degrade) Event {
	rec, e, _ := r.do(d, "")
	if len(rec.Notes) > 0 || !rec.End.IsZero() {
		var applied []string
		for _, n := range rec.Notes {
			applied = append(applied, n.Msg)
		}
		r.note("%s — applied on %s: %s.", d.Title(), d.Host, strings.Join(applied, "; "))
	}
	return e
}

// healAll is the runner's heal at the end of every scenario on hosts that
// can hold network faults, whether it passed, failed or was interrupted:
// every host is healed, then each host's rules are read back, within
// bound (the timing's wait bound).
func (rn *Runner) healAll(ctx context.Context, res *Result, bound time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
	defer cancel()
	c := Check{Name: "every network fault healed", OK: true, reads: reads()}
	if _, err := (ops.Heal{}).Run(ctx, rn.Cluster); err != nil {
		c.OK, c.Detail = false, "heal: "+err.Error()
		res.Checks = append(res.Checks, c)
		return
	}
	var left, cannot []string
	for _, h := range rn.Cluster.Inv.Hosts {
		st, err := rn.Cluster.NetStatusOn(ctx, h)
		switch {
		case wire.Unsupported(err): // no nft or no privilege: zkctl made no fault there
			cannot = append(cannot, h.Name)
		case err != nil:
			left = append(left, h.Name+": "+err.Error())
		case len(st.Partitions) > 0 || len(st.Degradations) > 0:
			left = append(left, fmt.Sprintf("%s: %d cuts and %d degradations left", h.Name, len(st.Partitions), len(st.Degradations)))
		}
	}
	c.OK = len(left) == 0
	c.Detail = fmt.Sprintf("heal of every host, then net status read back on %d hosts: no partition, no degradation left",
		len(rn.Cluster.Inv.Hosts)-len(cannot))
	if len(cannot) > 0 {
		c.Detail += fmt.Sprintf("; %s cannot hold network faults (no nft or no privilege)", strings.Join(cannot, ", "))
	}
	if !c.OK {
		c.Detail = "left after heal" + problems(left)
	}
	res.Checks = append(res.Checks, c)
}
