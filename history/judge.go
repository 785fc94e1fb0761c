package history

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"zkctl/roles/protocol"
	"zkctl/txnlog"
)

// Verdict is one judge's finding on a history.
type Verdict struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"` // what held, or what failed: zxids, sessions, role instances
	Judged int    `json:"judged"` // the committed transactions judged
	// NotJudged, when set, says why the history held nothing to judge
	// (a history read before any task was submitted): OK means nothing then.
	NotJudged string `json:"not_judged,omitempty"`
}

// Options tune the judges.
type Options struct {
	// OpenTasks: tasks may still be open at the end of the history (a
	// history read while clients run, or that of a run stopped early), so
	// a task without a result and its znodes are not failures, and a
	// history without any submission is not judged for exactly-once.
	OpenTasks bool
}

// Judge runs every judge on h.
func Judge(h *History, o Options) []Verdict {
	return []Verdict{ExactlyOnce(h, o), OneMaster(h), NoWriteAfterEnd(h), NoOrphans(h, o), CompletionsAssigned(h)}
}

// znode is one znode of the model: its ephemeral owner (0: persistent) and data.
type znode struct {
	owner int64
	data  string
}

// tree is the model the judges replay the history on.
type tree struct {
	nodes  map[string]znode
	closed map[int64]int64 // session → zxid of its closeSession
}

// replay applies h's transactions in zxid order, calling visit with each
// one and the state before it.
func replay(h *History, visit func(t *txnlog.Txn, before *tree)) *tree {
	tr := &tree{nodes: map[string]znode{}, closed: map[int64]int64{}}
	for i := range h.Txns {
		t := &h.Txns[i].Txn
		visit(t, tr)
		tr.apply(t)
	}
	return tr
}

// apply changes the model as t changed the tree; a failed txn changes nothing.
func (tr *tree) apply(t *txnlog.Txn) {
	if t.Failed() {
		return
	}
	if t.Type == txnlog.TypeCloseSession {
		for p, n := range tr.nodes {
			if n.owner == t.Session {
				delete(tr.nodes, p)
			}
		}
		for _, p := range t.Ephemerals {
			delete(tr.nodes, p)
		}
		tr.closed[t.Session] = t.Zxid
		return
	}
	for _, op := range ops(t) {
		switch {
		case op.Type.IsCreate():
			n := znode{data: string(op.Data)}
			if op.Ephemeral {
				n.owner = t.Session
			}
			tr.nodes[op.Path] = n
		case op.Type.IsDelete():
			delete(tr.nodes, op.Path)
		case op.Type == txnlog.TypeSetData:
			n := tr.nodes[op.Path]
			n.data = string(op.Data)
			tr.nodes[op.Path] = n
		}
	}
}

func (tr *tree) exists(p string) bool { _, ok := tr.nodes[p]; return ok }

// leader is the owner of the lowest election candidate, and its node.
func (tr *tree) leader() (session int64, node string) {
	best := int64(-1)
	for p, n := range tr.nodes {
		name, ok := child(p, protocol.ElectionPath)
		if !ok {
			continue
		}
		c, err := protocol.ParseCandidate(name)
		if err != nil {
			continue
		}
		if best < 0 || c.Seq < best {
			best, session, node = c.Seq, n.owner, p
		}
	}
	return session, node
}

// candidacies counts the election nodes session owns.
func (tr *tree) candidacies(session int64) int {
	n := 0
	for p, z := range tr.nodes {
		if _, ok := child(p, protocol.ElectionPath); ok && z.owner == session {
			n++
		}
	}
	return n
}

// children lists the names under dir.
func (tr *tree) children(dir string) []string {
	var out []string
	for p := range tr.nodes {
		if name, ok := child(p, dir); ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// who names a session and its role instance.
func (h *History) who(session int64) string {
	if in, ok := h.Sessions[session]; ok {
		return fmt.Sprintf("session %#x (%s)", session, in)
	}
	return fmt.Sprintf("session %#x", session)
}

func zx(z int64) string { return txnlog.FormatZxid(z) }

// verdict finishes a judge: OK when no problem was found.
func verdict(name string, h *History, summary string, problems []string) Verdict {
	v := Verdict{Name: name, OK: len(problems) == 0, Detail: summary, Judged: len(h.Txns)}
	if n := len(problems); n > 0 {
		if n > 8 {
			problems = append(problems[:8:8], fmt.Sprintf("… %d more", n-8))
		}
		v.Detail = fmt.Sprintf("%s: %s", plural(n, "problem"), strings.Join(problems, "; "))
	}
	return v
}

// submission is one submission of a task name and the results it got.
type submission struct {
	task    string
	zxid    int64
	session int64
	results []int64 // zxids of the creates of /results/<task>
}

// ExactlyOnce: every submitted task (a create of /tasks/<t>) gets exactly
// one result (a create of /results/<t>) after it. A name may be submitted
// again once its task is done; a result belongs to the latest submission
// of its name before it.
func ExactlyOnce(h *History, o Options) Verdict {
	const name = "every task completed exactly once"
	subs, results, problems := submissions(h)
	open := 0
	for _, s := range subs {
		switch {
		case len(s.results) > 1:
			problems = append(problems, fmt.Sprintf("%s (submitted at %s by %s) has %d results, at %s",
				s.task, zx(s.zxid), h.who(s.session), len(s.results), zxList(s.results)))
		case len(s.results) == 0 && o.OpenTasks:
			open++
		case len(s.results) == 0:
			problems = append(problems, fmt.Sprintf("%s (submitted at %s by %s) has no result", s.task, zx(s.zxid), h.who(s.session)))
		}
	}
	if len(subs) == 0 && o.OpenTasks && len(problems) == 0 {
		v := verdict(name, h, "no task was submitted", nil)
		v.NotJudged = fmt.Sprintf("no task was submitted by %s", zx(h.End))
		return v
	}
	if len(subs) == 0 {
		problems = append(problems, "no task was submitted")
	}
	summary := fmt.Sprintf("%d tasks submitted, %d results, each task one result", len(subs), results)
	if open > 0 {
		summary += fmt.Sprintf(" (%d still open)", open)
	}
	return verdict(name, h, summary, problems)
}

// submissions lists every submission with its results, the number of
// results, and the results that belong to no submission.
func submissions(h *History) (subs []*submission, results int, problems []string) {
	latest := map[string]*submission{}
	replay(h, func(t *txnlog.Txn, _ *tree) {
		if t.Failed() {
			return
		}
		for _, op := range ops(t) {
			if !op.Type.IsCreate() {
				continue
			}
			if task, ok := child(op.Path, protocol.TasksPath); ok {
				s := &submission{task: task, zxid: t.Zxid, session: t.Session}
				subs = append(subs, s)
				latest[task] = s
			}
			if task, ok := child(op.Path, protocol.ResultsPath); ok {
				results++
				if s := latest[task]; s != nil {
					s.results = append(s.results, t.Zxid)
				} else {
					problems = append(problems, fmt.Sprintf("result of %s at %s by %s, never submitted since %s",
						task, zx(t.Zxid), h.who(t.Session), zx(h.Start)))
				}
			}
		}
	})
	return subs, results, problems
}

func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func zxList(zs []int64) string {
	out := make([]string, len(zs))
	for i, z := range zs {
		out[i] = zx(z)
	}
	return strings.Join(out, " and ")
}

// masterWrite tells what op is as a master's write, or "": an assignment
// (create /workers/<w>/<t>, set /tasks/<t> to a worker), a move back
// (delete /workers/<w>/<t> by another session than worker w's, set
// /tasks/<t> ""), a worker's removal (delete /workers/<w>) or the claim of
// /master.
func (h *History) masterWrite(op *txnlog.Txn, session int64) string {
	switch {
	case op.Type.IsCreate() && op.Path == protocol.MasterPath:
		return "create " + op.Path
	case op.Type == txnlog.TypeSetData:
		if _, ok := child(op.Path, protocol.TasksPath); ok {
			return fmt.Sprintf("set %s %q", op.Path, op.Data)
		}
	case op.Type.IsCreate():
		if _, _, ok := grandchild(op.Path, protocol.WorkersPath); ok {
			return "create " + op.Path
		}
	case op.Type.IsDelete():
		if _, ok := child(op.Path, protocol.WorkersPath); ok {
			return "delete " + op.Path
		}
		if w, _, ok := grandchild(op.Path, protocol.WorkersPath); ok && h.Sessions[session] != (Instance{Role: "worker", ID: w}) {
			return "delete " + op.Path
		}
	}
	return ""
}

// masterWrites lists the master writes of a committed, successful txn.
func (h *History) masterWrites(t *txnlog.Txn) []string {
	if t.Failed() {
		return nil
	}
	var out []string
	for _, op := range ops(t) {
		if w := h.masterWrite(op, t.Session); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// OneMaster: at no zxid do two sessions act as master. A master write
// from a session that does not own the lowest election node at that zxid
// fails the check.
func OneMaster(h *History) Verdict {
	const name = "never two masters at once"
	var problems []string
	writes := 0
	masters := map[int64]bool{}
	replay(h, func(t *txnlog.Txn, before *tree) {
		ws := h.masterWrites(t)
		if len(ws) == 0 {
			return
		}
		writes++
		lead, node := before.leader()
		if lead == t.Session && node != "" {
			masters[t.Session] = true
			return
		}
		holder := "no candidate"
		if node != "" {
			holder = fmt.Sprintf("%s held by %s", node, h.who(lead))
		}
		problems = append(problems, fmt.Sprintf("%s at %s by %s, while the lowest election node was %s",
			strings.Join(ws, ", "), zx(t.Zxid), h.who(t.Session), holder))
	})
	var names []string
	for s := range masters {
		names = append(names, h.who(s))
	}
	sort.Strings(names)
	summary := fmt.Sprintf("%d master writes, each by the owner of the lowest election node (%s)", writes, strings.Join(names, ", "))
	return verdict(name, h, summary, problems)
}

// NoWriteAfterEnd: no session writes after its session closed (ZooKeeper
// logs closeSession for an expired session too), and no session makes a
// master write after its last election node was deleted.
func NoWriteAfterEnd(h *History) Verdict {
	const name = "no write after a session closed or a master was deposed"
	var problems []string
	candidate := map[int64]bool{} // sessions that ever owned an election node
	closed, refused := 0, 0
	replay(h, func(t *txnlog.Txn, before *tree) {
		if t.Failed() {
			// A refused write is no write: for a closed session or a
			// deposed master it is the protocol working.
			if _, ok := before.closed[t.Session]; ok || (candidate[t.Session] && before.candidacies(t.Session) == 0) {
				refused++
			}
			return
		}
		if z, ok := before.closed[t.Session]; ok {
			problems = append(problems, fmt.Sprintf("%s at %s by %s, whose session closed at %s",
				t.Type, zx(t.Zxid), h.who(t.Session), zx(z)))
			return
		}
		if t.Type == txnlog.TypeCloseSession {
			closed++
		}
		if ws := h.masterWrites(t); len(ws) > 0 && candidate[t.Session] && before.candidacies(t.Session) == 0 {
			problems = append(problems, fmt.Sprintf("%s at %s by %s, after its election node was deleted",
				strings.Join(ws, ", "), zx(t.Zxid), h.who(t.Session)))
		}
		for _, op := range ops(t) {
			if _, ok := child(op.Path, protocol.ElectionPath); ok && op.Type.IsCreate() {
				candidate[t.Session] = true
			}
		}
	})
	summary := fmt.Sprintf("%d sessions closed, none wrote after; no master write without an election node", closed)
	if refused > 0 {
		summary += fmt.Sprintf("; %s refused after the session closed or the master was deposed, as the protocol asks", plural(refused, "write"))
	}
	return verdict(name, h, summary, problems)
}

// NoOrphans: at the end nothing is left under /tasks, /data, /results or
// any /workers/<w> (scenario's definition, once every client finished).
// With o.OpenTasks only what nobody will remove counts: an assignment
// whose task is gone, data with neither task nor result, a task without
// data, a result whose data is gone.
func NoOrphans(h *History, o Options) Verdict {
	const name = "no orphan znodes"
	end := replay(h, func(*txnlog.Txn, *tree) {})
	var problems []string
	for _, dir := range []string{protocol.TasksPath, protocol.DataPath, protocol.ResultsPath} {
		for _, t := range end.children(dir) {
			p := dir + "/" + t
			if !o.OpenTasks || orphan(end, dir, t) {
				problems = append(problems, p)
			}
		}
	}
	for _, w := range end.children(protocol.WorkersPath) {
		for _, t := range end.children(protocol.Worker(w)) {
			if !o.OpenTasks || !end.exists(protocol.Task(t)) {
				problems = append(problems, protocol.Assignment(w, t))
			}
		}
	}
	summary := fmt.Sprintf("at %s: /tasks, /data, /results empty and no assignment under /workers/*", zx(h.End))
	if o.OpenTasks {
		summary = fmt.Sprintf("at %s: every znode of a task belongs to an open task", zx(h.End))
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		problems[0] = fmt.Sprintf("left at %s: %s", zx(h.End), problems[0])
	}
	return verdict(name, h, summary, problems)
}

// orphan tells whether dir/t, with tasks still open, is left for nobody.
func orphan(end *tree, dir, t string) bool {
	switch dir {
	case protocol.DataPath:
		return !end.exists(protocol.Task(t)) && !end.exists(protocol.Result(t))
	case protocol.TasksPath:
		return !end.exists(protocol.Data(t))
	default:
		return !end.exists(protocol.Data(t))
	}
}

// CompletionsAssigned: a completion (a create of /results/<t>) lands only
// from the session of a worker w to which t is assigned at that zxid
// (/workers/<w>/<t> exists).
func CompletionsAssigned(h *History) Verdict {
	const name = "no completion of a task not assigned to its worker"
	var problems []string
	completions := 0
	replay(h, func(t *txnlog.Txn, before *tree) {
		if t.Failed() {
			return
		}
		for _, op := range ops(t) {
			task, ok := child(op.Path, protocol.ResultsPath)
			if !ok || !op.Type.IsCreate() {
				continue
			}
			completions++
			in := h.Sessions[t.Session]
			switch {
			case in.Role != "worker":
				problems = append(problems, fmt.Sprintf("result of %s at %s by %s, which registered no worker",
					task, zx(t.Zxid), h.who(t.Session)))
			case !before.exists(protocol.Assignment(in.ID, task)):
				problems = append(problems, fmt.Sprintf("result of %s at %s by %s, but %s did not exist: %s",
					task, zx(t.Zxid), h.who(t.Session), protocol.Assignment(in.ID, task), assignee(before, task)))
			}
		}
	})
	summary := fmt.Sprintf("%d completions, each by the worker the task was assigned to", completions)
	return verdict(name, h, summary, problems)
}

// assignee says where task t was assigned in the model.
func assignee(tr *tree, t string) string {
	for _, w := range tr.children(protocol.WorkersPath) {
		if tr.exists(protocol.Assignment(w, t)) {
			return "it was assigned to " + w
		}
	}
	if !tr.exists(protocol.Task(t)) {
		return "the task was gone"
	}
	return "it was assigned to nobody"
}
