package scenario

import (
	"fmt"
	"strings"
	"time"

	"zkctl/node"
	"zkctl/ops"
)

// do runs op, one step of a script, through the run's journal (the record
// of every operation the scenario made and of the processes it started)
// and adds to the timeline the event made from its Record by Kind
// (eventOf). mode is the mode of the server the op acts on, noted before
// it ("" when none); the monitor polls srvr fast after a fault on a
// server. A failed op fails the run and adds no event; ok says whether it
// ran.
func (r *run) do(op ops.Op, mode string) (rec ops.Record, e Event, ok bool) {
	if !r.ok() {
		return ops.Record{Title: op.Title()}, Event{At: time.Now(), Msg: op.Title()}, false
	}
	r.setStep("%s", op.Title())
	if d := r.fastAfter(op); d > 0 {
		r.mon.fast(d)
	}
	rec, err := r.journal.Do(r.ctx, op)
	e = eventOf(op, rec, mode)
	if err != nil {
		r.fail(fmt.Errorf("%s: %w", op.Title(), err))
		return rec, e, false
	}
	r.events = append(r.events, e)
	return rec, e, true
}

// fastAfter is how long the monitor polls srvr fast after op: a fault on
// a server or its host's network is timed closely, and a server's start
// (it rejoins, or an election follows) twice as long; 0 for the roles.
func (r *run) fastAfter(op ops.Op) time.Duration {
	switch o := op.(type) {
	case ops.Start:
		return 0
	case ops.Signal:
		if o.Role != node.ZooKeeperName {
			return 0
		}
	case ops.StartServer:
		return 2 * r.timing.fastWindow()
	}
	return r.timing.fastWindow()
}

// eventOf is the timeline's event of an operation, made from its Record
// by Kind.
func eventOf(op ops.Op, rec ops.Record, mode string) Event {
	e := Event{At: rec.Start, Took: rec.Took(), Host: rec.Host, Role: rec.Role, ID: rec.ID, Kind: KindFault, Msg: rec.Title}
	if rec.ID != "" {
		e.Proc = rec.Role + "-" + rec.ID
	}
	switch rec.Kind {
	case ops.KindStart:
		e.Kind, e.Msg = KindStart, fmt.Sprintf("start %s %s", rec.Role, rec.ID)
		if len(rec.Procs) == 1 {
			e.Msg += fmt.Sprintf(" (pid %d)", rec.Procs[0].PID)
		}
	case ops.KindStartServer:
		e.Kind, e.Proc, e.Msg = KindStart, node.ZooKeeperName, "start zookeeper on "+rec.Host
	case ops.KindSignal:
		e.Attrs = map[string]string{"signal": rec.Signal}
		e.Msg = fmt.Sprintf("%s %s %s", rec.Signal, rec.Role, rec.ID)
		if rec.Role == node.ZooKeeperName {
			e.Proc, e.Msg, e.Attrs["mode"] = node.ZooKeeperName, fmt.Sprintf("%s zookeeper on %s (%s)", rec.Signal, rec.Host, mode), mode
		}
	case ops.KindCrash:
		e.Role, e.Proc = "", node.ZooKeeperName
		e.Msg = fmt.Sprintf("crash %s (zookeeper %s and its roles)", rec.Host, mode)
		e.Attrs = map[string]string{"signal": rec.Signal, "mode": mode}
	case ops.KindFreeze, ops.KindThaw:
		e.Role, e.Proc, e.Attrs = "", node.ZooKeeperName, map[string]string{"fault": string(rec.Kind)}
	case ops.KindPartition:
		e = netEvent(rec, "partition", fmt.Sprintf("%s (zookeeper %s)", rec.Title, mode))
		// The cut host's server is lost to the others, as a killed one is.
		e.Role, e.Proc, e.Attrs["mode"] = node.ZooKeeperName, node.ZooKeeperName, mode
	case ops.KindHeal:
		e = netEvent(rec, "heal", rec.Title)
	case ops.KindDegrade:
		fault := "degrade"
		if d, ok := op.(ops.Degrade); ok && d.Clear {
			fault = "heal" // a clear ends the degradations as a heal does
		}
		e = netEvent(rec, fault, rec.Title)
	}
	return e
}

// netEvent is the timeline's event of a network fault, on the first of
// the record's hosts, with what each host applied.
func netEvent(rec ops.Record, fault, msg string) Event {
	host, _, _ := strings.Cut(rec.Host, ",")
	e := Event{At: rec.Start, Took: rec.Took(), Host: host, Kind: KindFault, Msg: msg, Attrs: map[string]string{"fault": fault}}
	if len(rec.Notes) > 0 {
		var parts []string
		for _, n := range rec.Notes {
			parts = append(parts, n.Host+": "+n.Msg)
		}
		e.Attrs["applied"] = strings.Join(parts, "; ")
	}
	return e
}
