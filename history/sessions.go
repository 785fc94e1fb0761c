package history

import (
	"fmt"
	"strings"

	"zkctl/history/txnlog"
	"zkctl/roles/protocol"
	"zkctl/schema"
)

// Instance is the role instance behind a session: "master m1", "worker
// w2", "client c1".
type Instance struct {
	Role string `json:"role"` // "master", "worker" or "client"
	ID   string `json:"id"`
}

func (i Instance) String() string {
	if i.Role == "" {
		return "-"
	}
	return i.Role + " " + i.ID
}

// sessions names sessions from what they wrote, the first such write of a
// session deciding: the session that creates /election/<name>_<seq> is
// master <name> (without a protected-create prefix), the one that creates
// /workers_eph/<w> is worker w, and the one that submits (creates
// /tasks/<t>) is client <id> for zkctl's task names <id>-<n>, else
// "client <session in hex>".
func sessions(txns []Entry) map[int64]Instance {
	out := map[int64]Instance{}
	for i := range txns {
		t := &txns[i].Txn
		if _, known := out[t.Session]; known || t.Failed() {
			continue
		}
		for _, op := range ops(t) {
			if in, ok := instanceOf(op, t.Session); ok {
				out[t.Session] = in
				break
			}
		}
	}
	return out
}

// ops lists what a transaction does: itself, or a multi's operations.
func ops(t *txnlog.Txn) []*txnlog.Txn {
	if t.Type != txnlog.TypeMulti {
		return []*txnlog.Txn{t}
	}
	out := make([]*txnlog.Txn, len(t.Ops))
	for i := range t.Ops {
		out[i] = &t.Ops[i]
	}
	return out
}

// instanceOf names the session that made op, if op names it.
func instanceOf(op *txnlog.Txn, session int64) (Instance, bool) {
	if !op.Type.IsCreate() {
		return Instance{}, false
	}
	if name, ok := child(op.Path, protocol.ElectionPath); ok {
		if c, err := protocol.ParseCandidate(name); err == nil {
			return Instance{Role: schema.Master, ID: c.Name}, true
		}
	}
	if w, ok := child(op.Path, protocol.WorkersEphPath); ok {
		return Instance{Role: schema.Worker, ID: w}, true
	}
	if t, ok := child(op.Path, protocol.TasksPath); ok {
		if c, _, ok := protocol.ParseTaskName(t); ok {
			return Instance{Role: schema.Client, ID: c}, true
		}
		return Instance{Role: schema.Client, ID: fmt.Sprintf("%#x", session)}, true
	}
	return Instance{}, false
}

// child returns the name of p when p is a child of dir.
func child(p, dir string) (string, bool) {
	name, ok := strings.CutPrefix(p, dir+"/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

// grandchild returns the two names of p when p is dir/a/b.
func grandchild(p, dir string) (a, b string, ok bool) {
	rest, ok := strings.CutPrefix(p, dir+"/")
	if !ok {
		return "", "", false
	}
	a, b, ok = strings.Cut(rest, "/")
	if !ok || a == "" || b == "" || strings.Contains(b, "/") {
		return "", "", false
	}
	return a, b, true
}
