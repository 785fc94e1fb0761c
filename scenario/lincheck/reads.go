package lincheck

import (
	"fmt"
	"sort"
)

// readViolations checks what ZooKeeper promises about reads (see the
// package doc): per session, no version going backwards and no own
// acknowledged write missed; every value read written at that version by a
// write that was not refused and had been invoked. It returns one sentence
// per violation.
func readViolations(h *History) []string {
	v := sessionViolations(h)
	return append(v, valueViolations(h)...)
}

// sessionViolations walks each client's operations in order. A client runs
// one operation at a time, so call order is its program order.
func sessionViolations(h *History) []string {
	byClient := map[int][]Op{}
	for _, op := range h.Ops {
		byClient[op.Client] = append(byClient[op.Client], op)
	}
	var out []string
	for _, c := range sortedKeys(byClient) {
		ops := byClient[c]
		sort.SliceStable(ops, func(i, j int) bool { return ops[i].Call < ops[j].Call })
		out = append(out, clientViolations(ops)...)
	}
	return out
}

func clientViolations(ops []Op) []string {
	var out []string
	var session int64
	seen, own := int32(-1), int32(-1) // highest version seen; highest own acknowledged write
	for _, op := range ops {
		if op.Session == 0 || op.Session != session {
			session, seen, own = op.Session, -1, -1
		}
		if op.Outcome != OK {
			continue
		}
		if op.Kind == Read {
			switch {
			case op.Out.Version < own:
				out = append(out, fmt.Sprintf("client %d read version %d at %s after its own write was acknowledged at version %d (session 0x%x)",
					op.Client, op.Out.Version, op.Call, own, op.Session))
			case op.Out.Version < seen:
				out = append(out, fmt.Sprintf("client %d read version %d at %s after seeing version %d: went backwards (session 0x%x)",
					op.Client, op.Out.Version, op.Call, seen, op.Session))
			}
		} else {
			own = max(own, op.Out.Version)
		}
		seen = max(seen, op.Out.Version)
	}
	return out
}

// valueViolations ties every value read to the write that produced it.
// Written data are unique per run, which is what makes this possible.
func valueViolations(h *History) []string {
	writes := map[string]Op{}
	for _, op := range h.Ops {
		if op.Kind != Read {
			writes[op.Data] = op
		}
	}
	var out []string
	atVersion := map[int32]string{h.Initial.Version: h.Initial.Data}
	for _, r := range h.Ops {
		if r.Kind != Read || r.Outcome != OK {
			continue
		}
		if msg := readValueViolation(h, writes, r); msg != "" {
			out = append(out, msg)
			continue
		}
		if d, ok := atVersion[r.Out.Version]; ok && d != r.Out.Data {
			out = append(out, fmt.Sprintf("client %d read %q at version %d at %s, where %q was also seen",
				r.Client, r.Out.Data, r.Out.Version, r.Call, d))
			continue
		}
		atVersion[r.Out.Version] = r.Out.Data
	}
	return out
}

func readValueViolation(h *History, writes map[string]Op, r Op) string {
	if r.Out.Data == h.Initial.Data {
		if r.Out.Version != h.Initial.Version {
			return fmt.Sprintf("client %d read the initial value at version %d at %s, created at version %d",
				r.Client, r.Out.Version, r.Call, h.Initial.Version)
		}
		return ""
	}
	w, ok := writes[r.Out.Data]
	switch {
	case !ok:
		return fmt.Sprintf("client %d read %q at %s, which no operation wrote", r.Client, r.Out.Data, r.Call)
	case w.Outcome == Failed:
		return fmt.Sprintf("client %d read %q at %s, written by a %s that was refused (%s)", r.Client, r.Out.Data, r.Call, w.Kind, w.Err)
	case r.Return < w.Call:
		return fmt.Sprintf("client %d read %q at %s, before its %s was invoked at %s", r.Client, r.Out.Data, r.Return, w.Kind, w.Call)
	case w.Outcome == OK && w.Out.Version != r.Out.Version:
		return fmt.Sprintf("client %d read %q at version %d at %s; its %s was acknowledged at version %d",
			r.Client, r.Out.Data, r.Out.Version, r.Call, w.Kind, w.Out.Version)
	}
	return ""
}

func sortedKeys(m map[int][]Op) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}
