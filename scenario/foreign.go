package scenario

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"zkctl/deploy"
	"zkctl/node"
)

// Foreign roles: the inventory's [roles.*] name other programs for a role.
// They follow the znode protocol but log what they like, so a check that
// reads zkctl's role events (KindElected, KindCompleted, …) from the logs
// of a role played by another program cannot be met by it: such a check is
// reported as skipped, "zkctl-specific", and the history checks (judged
// from ZooKeeper's transaction logs, whatever program wrote) decide.

// logReads names, for every check judged from the role logs, the roles
// whose events it reads. A check not listed is assumed to read every
// role's log; a check listed with no role is judged from ZooKeeper alone.
var logReads = map[string][]string{
	// the invariants of checks.go
	"every task completed exactly once": {"worker", "client"},
	"every result reached its client":   {"worker", "client"},
	"never two masters at once":         {"master"},
	"no write by a fenced master":       {"master"},
	"no orphan znodes":                  {},
	"the full ensemble is back":         {},
	// the scenarios' own expectations (catalog.go)
	"tasks wait while no worker lives":                                         {"worker"},
	"tasks complete once a new worker runs":                                    {"worker"},
	"a restarted client (same --id) cleans up what the killed one left":        {"client"},
	"the killed worker's tasks are reassigned and completed by another worker": {"master", "worker"},
	"load is balanced between the workers":                                     {"worker"},
	"after SIGTERM of the leader the backup leads":                             {"master"},
	"after SIGKILL of the leader the restarted candidate leads":                {"master"},
	"tasks submitted while no master leads are assigned by the new one":        {"master", "client"},
	"a backup takes over while the leader is stopped":                          {"master"},
	"the old leader is fenced: 0 successful writes after its session expired":  {"master"},
	"the old leader rejoins as a candidate":                                    {"master"},
	"tasks submitted during the lag are assigned by the backup":                {"master", "client"},
	"sessions move to another server: every role keeps its session":            {},
	"no role failover": {"master"},
	"tasks keep completing while the follower is down":                          {"worker"},
	"the ensemble elects a new leader":                                          {},
	"clients reconnect with their sessions":                                     {},
	"no progress without quorum":                                                {"worker"},
	"progress resumes after the restart":                                        {"worker"},
	"with one server down everything stops":                                     {"worker"},
	"work resumes once the server is back":                                      {"worker"},
	"the ensemble keeps quorum: tasks complete while the host is down":          {"worker"},
	"sessions on the crashed server move: every other role keeps its session":   {},
	"the crashed worker's tasks are reassigned and completed once":              {"master", "worker"},
	"the host's processes restart and rejoin: its worker completes tasks again": {"worker"},
}

// allRoles is what a check not in logReads is assumed to read.
var allRoles = []string{"master", "worker", "client"}

// foreignRoles lists the roles of the run played by another program.
func (rn *Runner) foreignRoles(r *run) []string {
	var out []string
	for _, p := range r.procs {
		if rn.isForeign(p.Role) && !slices.Contains(out, p.Role) {
			out = append(out, p.Role)
		}
	}
	slices.Sort(out)
	return out
}

func (rn *Runner) isForeign(role string) bool {
	_, ok := rn.Cluster.Inv.Roles[role]
	return ok
}

// markZkctlSpecific marks as skipped every check (not from the history)
// that reads the log events of a role played by another program.
func markZkctlSpecific(checks []Check, foreign []string) []Check {
	if len(foreign) == 0 {
		return checks
	}
	for i, c := range checks {
		if strings.HasPrefix(c.Name, "history: ") || c.Skipped != "" {
			continue
		}
		reads, ok := logReads[c.Name]
		if !ok {
			reads = allRoles
		}
		var hit []string
		for _, role := range reads {
			if slices.Contains(foreign, role) {
				hit = append(hit, role)
			}
		}
		if len(hit) > 0 {
			checks[i].Skipped = fmt.Sprintf("zkctl-specific: judged from the event log of zkctl's own %s, played here by another program; the history checks decide",
				strings.Join(hit, " and "))
		}
	}
	return checks
}

// procHint says, for a wait on p that timed out, what p runs when another
// program plays its role: its command, whether it still runs, and the last
// lines of its log. It is "" for zkctl's own roles.
func (r *run) procHint(p *Proc) string {
	if _, ok := r.c.Inv.Roles[p.Role]; !ok {
		return ""
	}
	hs, err := r.c.Hosts(p.Host)
	if err != nil {
		return ""
	}
	ctx := context.WithoutCancel(r.ctx)
	state := "unknown"
	if sts, err := r.c.Statuses(ctx, hs); err == nil {
		for _, q := range sts[p.Host].Roles {
			if q.Name == p.Name() && q.PID == p.PID {
				state = q.State
			}
		}
	}
	tail := "  (log unreadable)"
	if data, err := r.c.ReadLog(ctx, hs[0], p.Name()); err == nil {
		tail = node.LastLines(string(data), 5)
	}
	cmd := r.c.Inv.Roles[p.Role].Command
	if servers, err := r.c.Hosts(r.servers...); err == nil {
		cmd = deploy.NodeConfig(r.c, hs[0], servers).Roles[p.Role].Argv(p.ID, nil)
	}
	return fmt.Sprintf("; %s %s runs another program, %q (%s; never connected as the protocol asks?); last lines of its log %s:\n%s",
		p.Role, p.ID, cmd, state, p.Log, tail)
}

// waitForProc is waitFor on a condition that p brings about (a master
// elected, a worker registered): when it times out and another program
// plays p's role, the failure names that program and its log's last lines.
func (r *run) waitForProc(p *Proc, what string, cond func() (bool, error)) {
	r.waitProcs([]*Proc{p}, what, waitTimeout, 20*time.Millisecond, cond)
}

// waitProcs is waitEvery on a condition that ps bring about, naming the
// foreign programs among them when it times out.
func (r *run) waitProcs(ps []*Proc, what string, timeout, every time.Duration, cond func() (bool, error)) {
	if !r.ok() {
		return
	}
	r.waitEvery(what, timeout, every, cond)
	r.mu.Lock()
	failed := r.err
	r.mu.Unlock()
	if failed == nil {
		return
	}
	var hints []string
	for _, p := range ps {
		if h := r.procHint(p); h != "" {
			hints = append(hints, h)
		}
	}
	if len(hints) > 0 {
		r.mu.Lock()
		r.err = fmt.Errorf("%w%s", failed, strings.Join(hints, ""))
		r.mu.Unlock()
	}
}
