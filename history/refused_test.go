package history

import (
	"strings"
	"testing"

	"zkctl/txnlog"
)

// refuse turns a step into what ZooKeeper logs when it refuses it: an
// error txn, or a multi whose first operation carries code and the
// others -2 (runtime inconsistency), as `zkctl history --json` shows them.
func refuse(s step, code int32) step {
	if s.txn.Type != txnlog.TypeMulti {
		return do(s.session, failed(code))
	}
	ops := []txnlog.Txn{failed(code)}
	for range s.txn.Ops[1:] {
		ops = append(ops, failed(-2))
	}
	return do(s.session, multi(ops...))
}

// TestRefusedWriteIsNoWrite feeds every judge a known-bad history, which
// that judge must fail, and the same history with the bad write refused,
// which every judge must pass.
func TestRefusedWriteIsNoWrite(t *testing.T) {
	b := base()
	const (
		afterAssigns = 8
		afterTake1   = 10
		m1Close      = 15
	)
	const (
		sessionExpired = -112
		noNode         = -101
		nodeExists     = -110
		badVersion     = -103
	)
	tests := []struct {
		judge  string
		before []step // the history up to the bad write
		bad    step
		after  []step // the rest
		code   int32
		detail string
	}{
		{judge: "every task completed exactly once", before: b[:afterTake1], bad: do(w1, create("/results/c1-1", "ok w1")),
			after: append([]step{take("c1-1")}, b[afterTake1:]...), code: nodeExists, detail: "has 2 results"},
		{judge: "never two masters at once", before: b[:afterAssigns], bad: do(m2, multi(check(m2Node), set("/tasks/c1-2", ""))),
			after: b[afterAssigns:], code: badVersion, detail: "by session 0x1000002 (master m2), while the lowest election node was"},
		{judge: "no write after a session closed or a master was deposed", before: b[:m1Close],
			bad:   do(w1, multi(create("/results/c1-2", "ok w1"), del("/workers/w1/c1-2"), del("/tasks/c1-2"))),
			after: b[m1Close:], code: sessionExpired, detail: "whose session closed at"},
		{judge: "no orphan znodes", before: append(append([]step{}, b[:afterTake1]...), do(m1, del(m1Node)), claim(m2, m2Node)),
			bad: assign(m1, m1Node, "w1", "c1-1x"), after: b[afterTake1:], code: noNode, detail: "/workers/w1/c1-1x"},
		{judge: "no completion of a task not assigned to its worker", before: append(append([]step{}, b[:afterAssigns]...), moveBack(m1, m1Node, "w1", "c1-1")),
			bad:   do(w1, multi(create("/results/c1-1", "ok w1"), del("/workers/w1/c1-1"), del("/tasks/c1-1"))),
			after: append([]step{assign(m1, m1Node, "w1", "c1-1")}, b[afterAssigns:]...), code: noNode, detail: "but /workers/w1/c1-1 did not exist"},
	}
	judged := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.judge, func(t *testing.T) {
			judged[tc.judge] = true
			bad := build(join(tc.before, tc.bad, tc.after)...)
			if v := find(t, Judge(bad, Options{}), tc.judge); v.OK || !strings.Contains(v.Detail, tc.detail) {
				t.Errorf("the known-bad history: OK=%v, want a failure naming %q: %s", v.OK, tc.detail, v.Detail)
			}
			refused := build(join(tc.before, refuse(tc.bad, tc.code), tc.after)...)
			for _, v := range Judge(refused, Options{}) {
				if !v.OK {
					t.Errorf("the refused write: %s failed: %s", v.Name, v.Detail)
				}
			}
		})
	}
	for _, v := range Judge(build(b...), Options{}) {
		if !judged[v.Name] {
			t.Errorf("judge %q is fed no refused write", v.Name)
		}
	}
}

// TestRefusalCounted: a refused write of a closed session is counted as
// the protocol working.
func TestRefusalCounted(t *testing.T) {
	b := base()
	h := build(join(b, refuse(do(w1, multi(create("/results/c1-2", "ok w1"), del("/workers/w1/c1-2"), del("/tasks/c1-2"))), -112), nil)...)
	v := find(t, Judge(h, Options{}), "no write after a session closed or a master was deposed")
	if !v.OK || !strings.Contains(v.Detail, "1 write refused after the session closed") {
		t.Errorf("OK=%v: %s", v.OK, v.Detail)
	}
}

func join(before []step, s step, after []step) []step {
	out := append(append([]step{}, before...), s)
	return append(out, after...)
}

func find(t *testing.T, vs []Verdict, name string) Verdict {
	t.Helper()
	for _, v := range vs {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no judge named %q", name)
	return Verdict{}
}
