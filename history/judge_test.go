package history

import (
	"strings"
	"testing"
)

func TestJudges(t *testing.T) {
	b := base()
	// Indices into base(): where to put what.
	const (
		afterAssigns = 8  // after both assignments
		afterTake1   = 10 // after the client took c1-1's result
		beforeCloses = 12
		m1Close      = 15
	)
	tests := []struct {
		name  string
		steps []step
		opts  Options
		fail  map[string][]string // judge name → substrings of its detail; judges not named pass
	}{
		{name: "a run without faults", steps: b},
		{name: "a second candidate takes over after the first closes", steps: with(b, beforeCloses,
			do(m1, closeSession()), claim(m2, m2Node), submit("c1-3"), assign(m2, m2Node, "w1", "c1-3"),
			complete(w1, "w1", "c1-3"), take("c1-3"))[:beforeCloses+6+3]},
		{name: "a move back and a second assignment", steps: with(b, afterAssigns-1,
			moveBack(m1, m1Node, "w1", "c1-2"), assign(m1, m1Node, "w1", "c1-2"))},
		{name: "a fenced write fails and changes nothing", steps: with(b, afterAssigns,
			do(m2, multi(failed(-103), failed(-2), failed(-2))))},
		{name: "a task submitted again once done", steps: with(b, beforeCloses,
			submit("c1-1"), assign(m1, m1Node, "w1", "c1-1"), complete(w1, "w1", "c1-1"), take("c1-1"))},
		{name: "a double result", steps: with(b, afterTake1, do(w1, create("/results/c1-1", "ok w1")), take("c1-1")),
			fail: map[string][]string{
				"every task completed exactly once":                  {"c1-1 (submitted at 0x100000005 by session 0x3000001 (client c1)) has 2 results, at 0x100000009 and 0x10000000b"},
				"no completion of a task not assigned to its worker": {"result of c1-1 at 0x10000000b by session 0x2000001 (worker w1), but /workers/w1/c1-1 did not exist: the task was gone"},
			}},
		{name: "a task without a result", steps: with(b, beforeCloses, submit("c1-9")),
			fail: map[string][]string{
				"every task completed exactly once": {"c1-9 (submitted at 0x10000000d by session 0x3000001 (client c1)) has no result"},
				"no orphan znodes":                  {"left at 0x100000011: /data/c1-9", "/tasks/c1-9"},
			}},
		{name: "a task without a result while tasks may be open", steps: with(b, beforeCloses, submit("c1-9")), opts: Options{OpenTasks: true}},
		{name: "a write by a deposed master", steps: with(b, afterTake1,
			do(m1, del(m1Node)), claim(m2, m2Node), assign(m1, m1Node, "w1", "c1-1x")),
			fail: map[string][]string{
				"never two masters at once": {"create /workers/w1/c1-1x, set /tasks/c1-1x \"w1\" at 0x10000000d by session 0x1000001 (master m1), while the lowest election node was " +
					m2Node + " held by session 0x1000002 (master m2)"},
				"no write after a session closed or a master was deposed": {"at 0x10000000d by session 0x1000001 (master m1), after its election node was deleted"},
				"no orphan znodes": {"/workers/w1/c1-1x"},
			}},
		{name: "a write by a master deposed right after it joined", steps: []step{
			electM1(), electM2(), do(m1, del(m1Node)), claim(m2, m2Node), do(m1, multi(check(m1Node), create("/master", "{}")))},
			fail: map[string][]string{
				"never two masters at once":                               {"create /master at 0x100000005 by session 0x1000001 (master m1)"},
				"no write after a session closed or a master was deposed": {"create /master at 0x100000005 by session 0x1000001 (master m1), after its election node was deleted"},
				"every task completed exactly once":                       {"no task was submitted"},
			}},
		{name: "two masters at once", steps: with(b, afterAssigns, do(m2, multi(check(m2Node), set("/tasks/c1-2", "")))),
			fail: map[string][]string{
				"never two masters at once": {"set /tasks/c1-2 \"\" at 0x100000009 by session 0x1000002 (master m2), while the lowest election node was " + m1Node + " held by session 0x1000001 (master m1)"},
			}},
		{name: "a master write with no candidate", steps: append(with(b, m1Close+1, do(m2, create("/master", "{}"))), do(m2, del("/master"))),
			fail: map[string][]string{
				"never two masters at once":                               {"create /master at 0x100000011 by session 0x1000002 (master m2), while the lowest election node was no candidate"},
				"no write after a session closed or a master was deposed": {"create at 0x100000011 by session 0x1000002 (master m2), whose session closed at 0x10000000f"},
			}},
		{name: "a write after closeSession", steps: with(b, m1Close-1, do(w1, set("/workers/w1", ""))),
			fail: map[string][]string{
				"no write after a session closed or a master was deposed": {"setData at 0x10000000f by session 0x2000001 (worker w1), whose session closed at 0x10000000e"},
			}},
		{name: "an orphan assignment", steps: with(without(b, 8), beforeCloses-1, do(w1, multi(del("/tasks/c1-1"), del("/data/c1-1")))),
			fail: map[string][]string{
				"every task completed exactly once": {"c1-1 (submitted at 0x100000005 by session 0x3000001 (client c1)) has no result"},
				"no orphan znodes":                  {"/workers/w1/c1-1"},
			}},
		{name: "an orphan assignment while tasks may be open", opts: Options{OpenTasks: true},
			steps: with(without(b, 8), beforeCloses-1, do(w1, multi(del("/tasks/c1-1"), del("/data/c1-1")))),
			fail:  map[string][]string{"no orphan znodes": {"/workers/w1/c1-1"}}},
		{name: "results nobody takes", steps: without(without(b, 11), 9),
			fail: map[string][]string{"no orphan znodes": {"4 problems: left at 0x10000000e: /data/c1-1; /data/c1-2; /results/c1-1; /results/c1-2"}}},
		{name: "a completion after the task moved", steps: with(b, afterAssigns,
			moveBack(m1, m1Node, "w1", "c1-1"), do(w1, create("/results/c1-1", "ok w1"))),
			fail: map[string][]string{
				"no completion of a task not assigned to its worker": {"result of c1-1 at 0x10000000a by session 0x2000001 (worker w1), but /workers/w1/c1-1 did not exist: it was assigned to nobody"},
				"every task completed exactly once":                  {"c1-1 (submitted at 0x100000005 by session 0x3000001 (client c1)) has 2 results"},
			}},
		{name: "a completion by a session that is no worker", steps: with(b, afterAssigns, do(c1, create("/results/c1-1", "ok"))),
			fail: map[string][]string{
				"no completion of a task not assigned to its worker": {"which registered no worker"},
				"every task completed exactly once":                  {"has 2 results"},
			}},
		{name: "no task at all", steps: b[:4], fail: map[string][]string{"every task completed exactly once": {"no task was submitted"}}},
		{name: "batched multis", steps: batched(nil)},
		{name: "a batch split after one request failed", steps: batched(func(steps []step) []step {
			// The batched completion first fails (c1-2's assignment was
			// moved back: nothing landed), then lands without c1-2, which
			// is assigned again and completed alone.
			return append(steps[:6:6],
				moveBack(m1, m1Node, "w1", "c1-2"),
				do(w1, multi(failed(0), failed(0), failed(0), failed(0), failed(-101), failed(-2))),
				do(w1, multi(create("/results/c1-1", "ok w1"), del("/workers/w1/c1-1"), del("/tasks/c1-1"))),
				assign(m1, m1Node, "w1", "c1-2"), complete(w1, "w1", "c1-2"),
				take("c1-1"), take("c1-2"),
				do(c1, closeSession()), do(w1, closeSession()), do(m2, closeSession()), do(m1, closeSession()))
		})},
		{name: "a batched completion of a task moved back", steps: batched(func(steps []step) []step {
			return with(steps, 6, moveBack(m1, m1Node, "w1", "c1-2"))
		}),
			fail: map[string][]string{
				"no completion of a task not assigned to its worker": {"result of c1-2 at 0x100000008 by session 0x2000001 (worker w1), but /workers/w1/c1-2 did not exist: it was assigned to nobody"},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := build(tc.steps...)
			vs := Judge(h, tc.opts)
			if len(vs) != 5 {
				t.Fatalf("%d verdicts", len(vs))
			}
			seen := map[string]bool{}
			for _, v := range vs {
				seen[v.Name] = true
				if v.Judged != len(h.Txns) {
					t.Errorf("%s: judged %d of %d", v.Name, v.Judged, len(h.Txns))
				}
				want, mustFail := tc.fail[v.Name]
				if v.OK == mustFail {
					t.Errorf("%s: OK=%v, want %v: %s", v.Name, v.OK, !mustFail, v.Detail)
					continue
				}
				for _, s := range want {
					if !strings.Contains(v.Detail, s) {
						t.Errorf("%s: detail %q lacks %q", v.Name, v.Detail, s)
					}
				}
			}
			for name := range tc.fail {
				if !seen[name] {
					t.Errorf("no judge named %q", name)
				}
			}
		})
	}
}
