package history

import (
	"time"

	"zkctl/txnlog"
)

// Hand-built histories: each step is one transaction of a session.

const (
	m1 int64 = 0x1000001 // master m1
	m2 int64 = 0x1000002 // master m2
	w1 int64 = 0x2000001 // worker w1
	w2 int64 = 0x2000002 // worker w2
	c1 int64 = 0x3000001 // client c1
)

const (
	m1Node = "/election/_c_0123456789abcdef0123456789abcdef-m1_0000000000"
	m2Node = "/election/_c_fedcba9876543210fedcba9876543210-m2_0000000001"
)

type step struct {
	session int64
	txn     txnlog.Txn
}

func create(p, data string) txnlog.Txn {
	return txnlog.Txn{Type: txnlog.TypeCreate, Path: p, Data: []byte(data)}
}
func ephemeral(p string) txnlog.Txn {
	return txnlog.Txn{Type: txnlog.TypeCreate, Path: p, Ephemeral: true}
}
func del(p string) txnlog.Txn { return txnlog.Txn{Type: txnlog.TypeDelete, Path: p} }
func set(p, data string) txnlog.Txn {
	return txnlog.Txn{Type: txnlog.TypeSetData, Path: p, Data: []byte(data)}
}
func check(p string) txnlog.Txn          { return txnlog.Txn{Type: txnlog.TypeCheck, Path: p} }
func failed(code int32) txnlog.Txn       { return txnlog.Txn{Type: txnlog.TypeError, Err: code} }
func multi(ops ...txnlog.Txn) txnlog.Txn { return txnlog.Txn{Type: txnlog.TypeMulti, Ops: ops} }
func closeSession() txnlog.Txn           { return txnlog.Txn{Type: txnlog.TypeCloseSession} }

func do(session int64, t txnlog.Txn) step { return step{session, t} }

// build makes a history of steps at zxids 0x100000001, 0x100000002, …
func build(steps ...step) *History {
	h := &History{}
	for i, s := range steps {
		t := s.txn
		t.Session, t.Zxid, t.Cxid = s.session, 1<<32|int64(i+1), int32(i)
		t.Time = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * 10 * time.Millisecond)
		h.Txns = append(h.Txns, Entry{Txn: t, HeldBy: []string{"zk1", "zk2", "zk3"}})
	}
	if len(h.Txns) > 0 {
		h.Start, h.End = h.Txns[0].Zxid, h.Txns[len(h.Txns)-1].Zxid
	}
	h.Sessions = sessions(h.Txns)
	return h
}

// The protocol's writes, as zkctl's roles make them.
func electM1() step { return do(m1, ephemeral(m1Node)) }
func electM2() step { return do(m2, ephemeral(m2Node)) }
func claim(s int64, node string) step {
	return do(s, multi(check(node), txnlog.Txn{Type: txnlog.TypeCreate, Path: "/master", Data: []byte("{}"), Ephemeral: true}))
}
func register(s int64, w string) step {
	return do(s, multi(create("/workers/"+w, ""), ephemeral("/workers_eph/"+w)))
}
func submit(t string) step { return do(c1, multi(create("/data/"+t, "0.1"), create("/tasks/"+t, ""))) }
func assign(s int64, node, w, t string) step {
	return do(s, multi(check(node), create("/workers/"+w+"/"+t, ""), set("/tasks/"+t, w)))
}
func moveBack(s int64, node, w, t string) step {
	return do(s, multi(check(node), del("/workers/"+w+"/"+t), set("/tasks/"+t, "")))
}
func complete(s int64, w, t string) step {
	return do(s, multi(create("/results/"+t, "ok "+w), del("/workers/"+w+"/"+t), del("/tasks/"+t)))
}
func take(t string) step { return do(c1, multi(del("/results/"+t), del("/data/"+t))) }

// base is a run without faults: m1 leads, w1 runs c1-1 and c1-2, the
// client takes both results, everyone leaves.
func base() []step {
	return []step{
		electM1(), claim(m1, m1Node), electM2(),
		register(w1, "w1"), submit("c1-1"), submit("c1-2"),
		assign(m1, m1Node, "w1", "c1-1"), assign(m1, m1Node, "w1", "c1-2"),
		complete(w1, "w1", "c1-1"), take("c1-1"),
		complete(w1, "w1", "c1-2"), take("c1-2"),
		do(c1, closeSession()), do(w1, closeSession()), do(m2, closeSession()), do(m1, closeSession()),
	}
}

// without returns steps without the i-th.
func without(steps []step, i int) []step {
	return append(append([]step{}, steps[:i]...), steps[i+1:]...)
}

// with inserts extra steps before index i.
func with(steps []step, i int, extra ...step) []step {
	out := append([]step{}, steps[:i]...)
	out = append(out, extra...)
	return append(out, steps[i:]...)
}

// batched is base() with zkctl's batched writes: both tasks submitted in
// one multi, assigned in one multi behind one check, completed in one
// multi and taken in one multi; edit changes the steps before the build.
func batched(edit func([]step) []step) []step {
	steps := []step{
		electM1(), claim(m1, m1Node), electM2(), register(w1, "w1"),
		do(c1, multi(create("/data/c1-1", "0"), create("/tasks/c1-1", ""), create("/data/c1-2", "0"), create("/tasks/c1-2", ""))),
		do(m1, multi(check(m1Node), create("/workers/w1/c1-1", ""), set("/tasks/c1-1", "w1"),
			create("/workers/w1/c1-2", ""), set("/tasks/c1-2", "w1"))),
		do(w1, multi(create("/results/c1-1", "ok w1"), del("/workers/w1/c1-1"), del("/tasks/c1-1"),
			create("/results/c1-2", "ok w1"), del("/workers/w1/c1-2"), del("/tasks/c1-2"))),
		do(c1, multi(del("/results/c1-1"), del("/data/c1-1"), del("/results/c1-2"), del("/data/c1-2"))),
		do(c1, closeSession()), do(w1, closeSession()), do(m2, closeSession()), do(m1, closeSession()),
	}
	if edit != nil {
		steps = edit(steps)
	}
	return steps
}
