package scenario

import (
	"bufio"
	"bytes"
	"sort"
	"strconv"
	"strings"
	"time"

	"zkctl/roles/protocol"
	"zkctl/roles/rolelog"
)

// Kind classifies an Event.
type Kind string

// The kinds of events: the scenario's own actions, what the monitor saw of
// ZooKeeper, and the roles' typed events (the event= attribute of their log
// lines, whose names are the constants of roles/protocol).
const (
	KindFault      Kind = "fault"       // the scenario signalled a process
	KindStart      Kind = "start"       // the scenario started a process
	KindZKLeader   Kind = "zk-leader"   // a server leads (or serves standalone)
	KindZKNoLeader Kind = "zk-noleader" // no server leads
	KindJoined          = Kind(protocol.EventJoined)
	KindElected         = Kind(protocol.EventElected)
	KindStepDown        = Kind(protocol.EventStepDown)
	KindFenced          = Kind(protocol.EventFenced)
	KindAssigned        = Kind(protocol.EventAssigned)
	KindMovedBack       = Kind(protocol.EventMovedBack)
	KindWorkerGone      = Kind(protocol.EventWorkerGone)
	KindRegistered      = Kind(protocol.EventRegistered)
	KindCompleted       = Kind(protocol.EventCompleted)
	KindDropped         = Kind(protocol.EventDropped)
	KindUnanswered      = Kind(protocol.EventUnanswered)
	KindSubmitted       = Kind(protocol.EventSubmitted)
	KindResult          = Kind(protocol.EventResult)
	KindCleaned         = Kind(protocol.EventCleaned)
	KindAllIn           = Kind(protocol.EventAllIn)
	KindStopped         = Kind(protocol.EventStopped)
	KindError      Kind = "error" // any ERROR line
	KindOther      Kind = "other"
)

// Event is one thing that happened during a scenario.
type Event struct {
	At      time.Time
	Host    string // inventory name
	Role    string // master, worker, client, zookeeper; "" for the scenario
	ID      string // the instance id (a worker's current registration id)
	Proc    string // "<role>-<id>" of the process that logged it; lane key
	Kind    Kind
	Msg     string
	Level   string
	Task    string
	Worker  string
	Session string        // master: the ZooKeeper session of the epoch
	Write   string        // master: the kind of a successful write, "" if none
	Sent    time.Time     // master: when that write's multi was sent (zero if not logged)
	N       int           // tasks reassigned, submitted, results removed…
	Took    time.Duration // faults and starts: how long the call took
	Attrs   map[string]string
}

// parseLog reads a role's log file (slog TextHandler lines) logged by the
// process proc ("<role>-<id>") on host. Lines that are not slog lines (a
// panic, an error printed on exit) have no time: they become KindError
// events placed at the time of the line before, marked "untimed".
func parseLog(host, proc string, data []byte) []Event {
	var out []Event
	var last time.Time
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		l, ok := rolelog.Parse(line)
		if !ok {
			if !last.IsZero() {
				out = append(out, Event{At: last, Host: host, Proc: proc, Kind: KindError, Msg: line, Level: "ERROR",
					Attrs: map[string]string{"untimed": "true"}})
			}
			continue
		}
		last = l.Time
		out = append(out, classify(host, proc, l))
	}
	return out
}

// classify turns one parsed log line into an event.
func classify(host, proc string, l rolelog.Line) Event {
	a := l.Attrs
	e := Event{At: l.Time, Host: host, Proc: proc, Msg: a["msg"], Level: a["level"], Role: a["role"], ID: a["id"],
		Task: a["task"], Worker: a["worker"], Session: a["session"], Write: a["write"], Attrs: a}
	if e.Host == "" {
		e.Host = a["host"]
	}
	e.Sent, _ = time.Parse(time.RFC3339Nano, a["sent"])
	e.Kind = KindOther
	if l.Event != "" {
		e.Kind = Kind(l.Event)
	}
	switch e.Role {
	case "master":
		e.N, _ = strconv.Atoi(a["tasks"])
	case "client":
		e.N, _ = strconv.Atoi(firstOf(a, "tasks", "results"))
	}
	if e.Kind == KindOther && e.Level == "ERROR" {
		e.Kind = KindError
	}
	return e
}

func firstOf(a map[string]string, keys ...string) string {
	for _, k := range keys {
		if v, ok := a[k]; ok {
			return v
		}
	}
	return ""
}

// isWrite tells whether e is a master's successful write.
func (e Event) isWrite() bool { return e.Write != "" && e.Kind != KindFault }

// writeTime is when a master's write was sent: the moment it was decided,
// which a log line (written after the answer) can follow by a pause.
func (e Event) writeTime() time.Time {
	if !e.Sent.IsZero() {
		return e.Sent
	}
	return e.At
}

// End is when a fault or start call returned: the signal was sent by then.
func (e Event) End() time.Time { return e.At.Add(e.Took) }

// sortEvents orders events by time, stably.
func sortEvents(evs []Event) {
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
}

// filter returns the events of the given kinds.
func filter(evs []Event, kinds ...Kind) []Event {
	var out []Event
	for _, e := range evs {
		for _, k := range kinds {
			if e.Kind == k {
				out = append(out, e)
				break
			}
		}
	}
	return out
}
