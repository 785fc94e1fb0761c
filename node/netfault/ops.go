package netfault

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"zkctl/node"
)

// expirySlack is how much later than its timer's deadline a degradation
// with the same id may expire and still be the timer's own.
const expirySlack = 2 * time.Second

// Partition cuts this host's traffic with spec.Peers (both directions, or
// outbound only with OneWay), adding to the cuts already active; a peer
// already cut gets the new expiry. It returns the cuts it made.
func (h Host) Partition(ctx context.Context, spec PartitionSpec) ([]Cut, error) {
	script, err := renderPartition(spec)
	if err != nil {
		return nil, err
	}
	unlock, err := h.prepare()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := h.nft(ctx, script); err != nil {
		return nil, fmt.Errorf("partition: %w", err)
	}
	v4, v6, _ := addrs("peer", spec.Peers)
	dir := DirBoth
	if spec.OneWay {
		dir = DirOut
	}
	var out []Cut
	for _, a := range append(v4, v6...) {
		c := Cut{Peer: a.String(), Direction: dir, UntilHealed: spec.For == 0}
		if spec.For > 0 {
			c.ExpiresAt = time.Now().Add(spec.For).Truncate(time.Second)
		}
		out = append(out, c)
	}
	return out, nil
}

// Status reads the active cuts and degradations back from the kernel
// (nft -j, tc) and the degradation timers from their pidfiles.
func (h Host) Status(ctx context.Context) (Status, error) {
	if err := h.Check(); err != nil {
		return Status{}, err
	}
	return h.status(ctx)
}

func (h Host) status(ctx context.Context) (Status, error) {
	st := Status{Partitions: []Cut{}, Degradations: []Degradation{}}
	t, err := h.readTable(ctx)
	if err != nil {
		return st, fmt.Errorf("status: %w", err)
	}
	now := time.Now()
	st.Partitions = append(st.Partitions, cuts(t, now)...)
	degs, err := h.degStates(ctx, t, now)
	if err != nil {
		return st, fmt.Errorf("status: %w", err)
	}
	for _, d := range degs {
		if !d.expired {
			st.Degradations = append(st.Degradations, d.Degradation)
		}
	}
	return st, nil
}

// degStates joins the nft view of the degradations with tc's classes and
// netem leaves and the live timers, sorted by id.
func (h Host) degStates(ctx context.Context, t nftTable, now time.Time) ([]*degState, error) {
	byID := degradations(t, now)
	devs, err := h.ourDevs(ctx)
	if err != nil {
		return nil, err
	}
	for _, dev := range devs {
		cs, err := h.classes(ctx, dev)
		if err != nil {
			return nil, err
		}
		qs, err := h.qdiscs(ctx, dev)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			d := byID[c.ID]
			if d == nil {
				d = &degState{Degradation: Degradation{ID: c.ID, Knobs: []Knob{}}, expired: true}
				byID[c.ID] = d
			}
			if c.Rate != "10Gbit" {
				d.Knobs = append(d.Knobs, Knob{Knob: "rate", Value: strings.ToLower(c.Rate), Applied: true, Via: "htb on " + dev})
			}
			for _, q := range qs {
				if q.Kind == "netem" && q.Parent == classID(c.ID) {
					d.Knobs = append(d.Knobs, Knob{Knob: "delay", Value: netemDelay(q.Options).String(), Applied: true, Via: "netem on " + dev})
				}
			}
		}
	}
	for id, d := range byID {
		if p, err := node.Inspect(h.timerLayout(), timerName(id)); err == nil && p.Alive() {
			d.TimerPID = p.PID
		}
	}
	out := make([]*degState, 0, len(byID))
	for _, d := range byID {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Heal removes every partition and degradation zkctl made on this host:
// it stops the degradation timers, deletes the nft table and zkctl's root
// qdiscs. Healing a clean host does nothing and succeeds.
func (h Host) Heal(ctx context.Context) (Healed, error) {
	unlock, err := h.prepare()
	if err != nil {
		return Healed{}, err
	}
	defer unlock()
	var res Healed
	res.Timers = h.stopTimers(-1)
	if res.Table, err = h.hasTable(ctx); err != nil {
		return res, fmt.Errorf("heal: %w", err)
	}
	if err := h.nft(ctx, renderHeal()); err != nil {
		return res, fmt.Errorf("heal: %w", err)
	}
	devs, err := h.ourDevs(ctx)
	if err != nil {
		return res, fmt.Errorf("heal: %w", err)
	}
	for _, dev := range devs {
		if _, err := h.run(ctx, "", "tc", "qdisc", "del", "dev", dev, "root"); err != nil {
			return res, fmt.Errorf("heal: %w", err)
		}
		res.Qdiscs = append(res.Qdiscs, dev)
	}
	return res, nil
}

// ClearDegradations removes every degradation (and its timer) but leaves
// the partitions. It returns the ids removed.
func (h Host) ClearDegradations(ctx context.Context) ([]int, error) {
	unlock, err := h.prepare()
	if err != nil {
		return nil, err
	}
	defer unlock()
	t, err := h.readTable(ctx)
	if err != nil {
		return nil, fmt.Errorf("clear degradations: %w", err)
	}
	degs, err := h.degStates(ctx, t, time.Now())
	if err != nil {
		return nil, fmt.Errorf("clear degradations: %w", err)
	}
	ids := []int{}
	for _, d := range degs {
		h.stopTimers(d.ID)
		if err := h.removeDegradation(ctx, d); err != nil {
			return ids, err
		}
		ids = append(ids, d.ID)
	}
	return ids, nil
}

// Expire removes degradation id at time at: it waits until then, and
// removes the degradation unless it is a newer one that reuses the id
// (held until healed, or expiring more than expirySlack after at). This is
// what the detached timer (`zkctl node net expire`) runs.
func (h Host) Expire(ctx context.Context, id int, at time.Time) error {
	select {
	case <-time.After(time.Until(at)):
	case <-ctx.Done():
		return ctx.Err()
	}
	unlock, err := h.prepare()
	if err != nil {
		return err
	}
	defer unlock()
	defer func() { _ = node.Forget(h.timerLayout(), timerName(id)) }()
	t, err := h.readTable(ctx)
	if err != nil {
		return fmt.Errorf("expire degradation %d: %w", id, err)
	}
	degs, err := h.degStates(ctx, t, time.Now())
	if err != nil {
		return fmt.Errorf("expire degradation %d: %w", id, err)
	}
	for _, d := range degs {
		if d.ID != id {
			continue
		}
		if !d.expired && (d.UntilHealed || d.ExpiresAt.After(at.Add(expirySlack))) {
			return nil // a newer degradation took the id
		}
		return h.removeDegradation(ctx, d)
	}
	return nil
}

// removeDegradation deletes d's rules and sets in one transaction, then its
// classes on every device.
func (h Host) removeDegradation(ctx context.Context, d *degState) error {
	if len(d.rules)+len(d.sets) > 0 {
		if err := h.nft(ctx, renderRemoveDegradation(d.rules, d.sets)); err != nil {
			return fmt.Errorf("remove degradation %d: %w", d.ID, err)
		}
	}
	devs, err := h.ourDevs(ctx)
	if err != nil {
		return fmt.Errorf("remove degradation %d: %w", d.ID, err)
	}
	for _, dev := range devs {
		if err := h.removeFromDev(ctx, dev, d.ID); err != nil {
			return fmt.Errorf("remove degradation %d: %w", d.ID, err)
		}
	}
	return nil
}

// timerLayout keeps the timers' pidfiles and logs apart from the roles'
// (Dir/netfault/run, Dir/netfault/logs), so stopping or crashing the
// roles never stops a timer.
func (h Host) timerLayout() node.Layout { return node.Layout{Dir: h.stateDir()} }

func timerName(id int) string { return "degrade-" + strconv.Itoa(id) }

// stopTimers stops the live timer of degradation id (every timer when id
// is -1), forgets their pidfiles and returns how many it stopped.
func (h Host) stopTimers(id int) int {
	if h.Dir == "" {
		return 0
	}
	procs, _ := node.List(h.timerLayout())
	n := 0
	for _, p := range procs {
		if id >= 0 && p.Name != timerName(id) {
			continue
		}
		if p.Alive() && node.Stop(p, time.Second) == nil {
			n++
		}
		_ = node.Forget(h.timerLayout(), p.Name)
	}
	return n
}

// startTimer spawns the detached `zkctl node --dir D net expire` process
// that removes degradation id at at.
func (h Host) startTimer(id int, at time.Time) (int, error) {
	exe := h.Exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return 0, fmt.Errorf("degradation timer: %w", err)
		}
	}
	argv := append(append([]string{}, h.Prefix...), exe, "node", "--dir", h.Dir, "net", "expire",
		"--id", strconv.Itoa(id), "--at", at.UTC().Format(time.RFC3339Nano))
	p, err := node.Spawn(h.timerLayout(), timerName(id), argv, os.Environ())
	if err != nil {
		return 0, fmt.Errorf("degradation timer: %w", err)
	}
	return p.PID, nil
}
