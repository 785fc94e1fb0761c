package scenario

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"zkctl/controller"
	"zkctl/deploy"
	"zkctl/node"
	"zkctl/ops"
	"zkctl/roles/protocol"
)

// Foreign roles: the inventory's [roles.*] name other programs for a role.
// They follow the znode protocol but log what they like, so a check that
// reads zkctl's role events (KindElected, KindCompleted, …) from the logs
// of a role played by another program cannot be met by it: such a check is
// reported as not judged, "zkctl-specific", and the history checks (judged
// from ZooKeeper's transaction logs, whatever program wrote) decide.

// foreignRoles lists the roles of the run played by another program.
func (rn *Runner) foreignRoles(r *run) []string {
	var out []string
	for _, p := range r.procs() {
		if rn.isForeign(p.Role) && !slices.Contains(out, p.Role) {
			out = append(out, p.Role)
		}
	}
	slices.Sort(out)
	return out
}

func (rn *Runner) isForeign(role string) bool { return foreignRole(rn.Cluster, role) }

// foreignRole tells whether the inventory names another program for role.
func foreignRole(c *controller.Cluster, role string) bool {
	_, ok := c.Inv.Roles[role]
	return ok
}

// markZkctlSpecific marks as not judged every check that reads the log
// events of a role played by another program, as the check declares them
// (Check.reads).
func markZkctlSpecific(checks []Check, foreign []string) []Check {
	if len(foreign) == 0 {
		return checks
	}
	for i, c := range checks {
		if c.Skipped != "" {
			continue
		}
		roles := c.reads
		if roles == nil {
			roles = roleNames()
		}
		var hit []string
		for _, role := range roles {
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
// lines of its log, and why it may not have done it: a name that is not
// its {id} if ZooKeeper shows one, else guess. It is "" for zkctl's own roles.
func (r *run) procHint(p *Proc, guess string) string {
	if !foreignRole(r.c, p.Role) {
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
	why := guess
	if m := r.nameMismatch(p); m != "" {
		why = m
	}
	return fmt.Sprintf("; %s %s runs another program, %q (%s; %s); last lines of its log %s:\n%s",
		p.Role, p.ID, cmd, state, why, p.Log, tail)
}

// nameMismatch quotes the znodes of p's role whose name is no instance id
// the scenario started (a program that names itself, not by its {id}),
// or "".
func (r *run) nameMismatch(p *Proc) string {
	ids := map[string]bool{}
	for _, q := range r.procs() {
		ids[q.ID] = true
	}
	var seen []string
	look := func(dir string, name func(string) string) {
		kids, _, err := r.mon.conn.Children(dir)
		if err != nil {
			return
		}
		for _, k := range kids {
			if n := name(k); !ids[n] {
				seen = append(seen, dir+"/"+k)
			}
		}
	}
	switch p.Role {
	case "master":
		look(protocol.ElectionPath, func(k string) string { return candidateOf(protocol.ElectionPath + "/" + k) })
		if data, _, err := r.mon.conn.Get(protocol.MasterPath); err == nil {
			if m, err := protocol.ParseMasterInfo(data); err == nil && !ids[m.ID] {
				seen = append(seen, fmt.Sprintf("%s naming %q", protocol.MasterPath, m.ID))
			}
		}
	case "worker":
		look(protocol.WorkersEphPath, func(k string) string { return k })
	case "client":
		look(protocol.TasksPath, func(k string) string { c, _, _ := protocol.ParseTaskName(k); return c })
	}
	if len(seen) == 0 {
		return ""
	}
	if len(seen) > 3 {
		seen = append(seen[:3:3], fmt.Sprintf("… %d more", len(seen)-3))
	}
	return fmt.Sprintf("connected, but under a name that is not its {id} %q: saw %s; a %s must use {id} as its name "+
		"(README, \"Test your own implementation\")", p.ID, strings.Join(seen, ", "), p.Role)
}

// namedAsAsked wraps cond, a wait on what ps bring about: once a session
// timeout has passed, a znode of a foreign program's role under a name
// that is no started instance's id ends the wait, quoting that znode
// (a program that names itself, not by its {id}, is never waited for).
func (r *run) namedAsAsked(ps []*Proc, cond func() (bool, error)) func() (bool, error) {
	var foreign []*Proc
	for _, p := range ps {
		if foreignRole(r.c, p.Role) {
			foreign = append(foreign, p)
		}
	}
	if len(foreign) == 0 {
		return cond
	}
	next := time.Now().Add(r.timing.sessionExpiry())
	return func() (bool, error) {
		ok, err := cond()
		if ok || err != nil || time.Now().Before(next) {
			return ok, err
		}
		next = time.Now().Add(500 * time.Millisecond)
		for _, p := range foreign {
			if m := r.nameMismatch(p); m != "" {
				return false, fmt.Errorf("%s %s %s", p.Role, p.ID, m)
			}
		}
		return false, nil
	}
}

// waitSoft waits for what only zkctl's own roles are bound to do (an old
// leader that stands again). For zkctl's roles it is waitForProc. For a
// role another program plays it is an expectation named expect: a
// timeout (bounded by a failover) fails it, and the run goes on to its
// faults and its judgement.
func (r *run) waitSoft(p *Proc, expect, what string, cond func() (bool, error)) {
	if !foreignRole(r.c, p.Role) {
		r.waitForProc(p, what, cond)
		return
	}
	if !r.ok() {
		return
	}
	bound := r.timing.failover()
	r.setStep("wait: %s", what)
	start := time.Now()
	err := ops.Poll(r.ctx, 20*time.Millisecond, bound, what, cond)
	took := time.Since(start)
	switch {
	case err == nil:
		r.expect(expect+" (seen in ZooKeeper)", reads(), func(*observation) (bool, string) {
			return true, fmt.Sprintf("%s after %.2fs", what, took.Seconds())
		})
	case errors.Is(err, ops.ErrTimeout):
		detail := fmt.Sprintf("waited %v for %s%s", bound, what, r.procHint(p, "it did not stand again"))
		r.expect(expect+" (seen in ZooKeeper)", reads(), func(*observation) (bool, string) { return false, detail })
	default:
		r.fail(err)
	}
}

// waitForProc is waitFor on a condition that p brings about (a master
// elected, a worker registered): when it times out and another program
// plays p's role, the failure names that program and its log's last lines.
func (r *run) waitForProc(p *Proc, what string, cond func() (bool, error)) {
	r.waitProcs([]*Proc{p}, what, r.timing.wait(), 20*time.Millisecond, cond)
}

// waitProcs is waitEvery on a condition that ps bring about, naming the
// foreign programs among them when it times out.
func (r *run) waitProcs(ps []*Proc, what string, timeout, every time.Duration, cond func() (bool, error)) {
	if !r.ok() {
		return
	}
	r.waitEvery(what, timeout, every, r.namedAsAsked(ps, cond))
	r.mu.Lock()
	failed := r.err
	r.mu.Unlock()
	if failed == nil {
		return
	}
	var hints []string
	for _, p := range ps {
		if h := r.procHint(p, "never connected as the protocol asks?"); h != "" {
			hints = append(hints, h)
		}
	}
	if len(hints) > 0 {
		r.mu.Lock()
		r.err = fmt.Errorf("%w%s", failed, strings.Join(hints, ""))
		r.mu.Unlock()
	}
}
