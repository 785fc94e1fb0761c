package lincheck

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/anishathalye/porcupine"
)

// infinity is the return time of an operation of unknown outcome.
const infinity = math.MaxInt64

// state is the register's state: the znode's data version. The data itself
// decides no step (reads are not in this check), so it is left out of the
// state to keep the search small; the read checks tie data to versions.
type state = int32

// model is the versioned register of writes and compare-and-set operations.
// Input and output of each porcupine.Operation are the Op itself.
func model() porcupine.Model {
	return porcupine.Model{
		Init: func() any { return state(0) },
		Step: func(st, in, _ any) (bool, any) {
			return step(st.(state), in.(Op))
		},
		Hash: func(st any) uint64 { return uint64(uint32(st.(state))) },
		DescribeOperation: func(in, _ any) string {
			return describe(in.(Op))
		},
		DescribeState: func(st any) string {
			return fmt.Sprintf("version %d", st.(state))
		},
	}
}

// step applies op to version v: whether the outcome is legal there, and the
// version after it.
func step(v state, op Op) (bool, state) {
	switch op.Kind {
	case Write:
		switch op.Outcome {
		case OK:
			return op.Out.Version == v+1, v + 1
		case Indeterminate:
			return true, v + 1
		}
		return true, v // a definite refusal changes nothing
	case CAS:
		match := v == op.Expect
		switch op.Outcome {
		case OK:
			return match && op.Out.Version == v+1, v + 1
		case Failed:
			return !match, v
		}
		if match { // indeterminate: applied if it could be; "not applied" is placing it last
			return true, v + 1
		}
		return true, v
	}
	return true, v
}

func describe(op Op) string {
	var s string
	switch op.Kind {
	case Write:
		s = fmt.Sprintf("c%d write %q", op.Client, op.Data)
	case CAS:
		s = fmt.Sprintf("c%d cas v%d→%q", op.Client, op.Expect, op.Data)
	default:
		s = fmt.Sprintf("c%d read", op.Client)
	}
	switch op.Outcome {
	case OK:
		return fmt.Sprintf("%s → v%d", s, op.Out.Version)
	case Failed:
		return s + " → refused"
	}
	return s + " → ?"
}

// operations turns the writes and CAS of h into Porcupine operations, in
// call order, with the initial version folded in: versions are counted from
// h.Initial.Version so that the model starts at 0. An operation of unknown
// outcome whose data a read returned is known to have been applied, at the
// version read, and before that read returned (a server serves only
// committed writes); it enters the check with that output and that return
// time, which keeps the search small.
func operations(h *History) []porcupine.Operation {
	seen := firstReads(h)
	var ops []porcupine.Operation
	for _, op := range h.Ops {
		if op.Kind == Read {
			continue
		}
		if r, ok := seen[op.Data]; ok && op.Outcome == Indeterminate && r.Return >= op.Call {
			op.Outcome, op.Out, op.Return = OK, r.Out, r.Return
			op.Err += " (applied: read by client " + strconv.Itoa(r.Client) + ")"
		}
		op.Expect -= h.Initial.Version
		op.Out.Version -= h.Initial.Version
		ret := int64(op.Return)
		if op.Outcome == Indeterminate {
			ret = infinity
		}
		ops = append(ops, porcupine.Operation{ClientId: op.Client, Input: op, Output: op,
			Call: int64(op.Call), Return: ret})
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Call < ops[j].Call })
	return ops
}

// firstReads maps data to the successful read of it that returned first.
func firstReads(h *History) map[string]Op {
	m := map[string]Op{}
	for _, op := range h.Ops {
		if op.Kind != Read || op.Outcome != OK {
			continue
		}
		if r, ok := m[op.Out.Data]; !ok || op.Return < r.Return {
			m[op.Out.Data] = op
		}
	}
	return m
}

// annotations shows the reads and the faults in the visualization.
func annotations(h *History) []porcupine.Annotation {
	var as []porcupine.Annotation
	for _, op := range h.Ops {
		if op.Kind != Read {
			continue
		}
		d := "read → ?"
		if op.Outcome == OK {
			d = fmt.Sprintf("read %q v%d", op.Out.Data, op.Out.Version)
		}
		as = append(as, porcupine.Annotation{ClientId: op.Client, Start: int64(op.Call), End: int64(op.Return),
			Description: d, BackgroundColor: "#e8e8e8"})
	}
	for _, f := range h.Faults {
		end := f.End
		if end.IsZero() {
			end = h.Start.Add(h.Elapsed)
		}
		as = append(as, porcupine.Annotation{Tag: "nemesis", Start: int64(f.Start.Sub(h.Start)),
			End: int64(end.Sub(h.Start)), Description: f.Name + " " + f.Target,
			BackgroundColor: "#f6c6c6"})
	}
	return as
}

// linearizable runs Porcupine on the writes and CAS of h.
func linearizable(h *History, timeout time.Duration) (porcupine.CheckResult, porcupine.LinearizationInfo) {
	return porcupine.CheckOperationsVerbose(model(), operations(h), timeout)
}
