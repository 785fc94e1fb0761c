package scenario

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/roles/protocol"
)

// Report is a set of results, written as Markdown with one SVG timeline per
// scenario next to it.
type Report struct {
	Results   []*Result
	Inventory *inventory.Inventory
	Command   string // the command line that produced it
	Took      time.Duration
	Generated time.Time
	Skipped   []Skipped // scenarios that could not run on this inventory
}

// Write writes the report to path and each scenario's timeline to
// <path without .md>-<scenario>.svg.
func (rp *Report) Write(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	base := strings.TrimSuffix(path, filepath.Ext(path))
	var b bytes.Buffer
	rp.header(&b)
	for _, r := range rp.Results {
		svg := base + "-" + r.Scenario.Name + ".svg"
		if err := os.WriteFile(svg, []byte(Timeline(r)), 0o644); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		section(&b, r, filepath.Base(svg), clusterGain(r, rp.Results))
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// header writes the title, the setting, the summary table and the
// invariants every scenario checks.
func (rp *Report) header(b *bytes.Buffer) {
	passed := 0
	for _, r := range rp.Results {
		if r.Passed() {
			passed++
		}
	}
	inv := rp.Inventory
	fmt.Fprintf(b, "# zkctl scenario report\n\n")
	fmt.Fprintf(b, "Generated %s by `%s` in %s: **%d of %d scenarios passed**.\n\n",
		rp.Generated.UTC().Format("2006-01-02 15:04 UTC"), rp.Command, rp.Took.Round(time.Second), passed, len(rp.Results))
	if inv != nil {
		fmt.Fprintf(b, "Inventory `%s`: %s; tickTime %v, session timeout %v.\n",
			filepath.Base(inv.Path), hostList(inv), inv.Cluster.TickTime, inv.Cluster.SessionTimeout)
	}
	for _, sk := range rp.Skipped {
		fmt.Fprintf(b, "Skipped `%s`: %s.\n", sk.Scenario.Name, sk.Reason)
	}
	if len(rp.Skipped) > 0 {
		b.WriteString("\n")
	}
	fmt.Fprintf(b, "Every task sleeps %s s; every worker runs one task at a time.\n\n", protocol.FormatPayload(TaskDuration))
	b.WriteString("Each scenario starts from `zkctl reset` (no role running, an empty tree), starts real role processes " +
		"with `ops.Start` and injects its faults with `ops.Signal` (and `ops.Crash`, `ops.Partition`, `ops.Degrade`…), the operations behind `zkctl start`, `kill`, `crash`, `partition` and `degrade`. " +
		"t+0 is when the ensemble was ready. The verdict comes only from what was observed: the role logs " +
		"(one slog line per event and per successful master write) and ZooKeeper itself (srvr of every server and " +
		"the application's znodes, sampled every 100 ms, every 20 ms after a server fault). " +
		"Times compare the controller's clock with the roles' log clocks: on separate machines keep them in sync.\n\n")
	rows := [][]string{}
	for _, r := range rp.Results {
		m := r.Metrics
		row := []string{fmt.Sprintf("[%s](#%s)", r.Scenario.Name, r.Scenario.Name), verdictMark(r),
			r.Scenario.What, timings(m.Failovers), timings(m.Reassigns), timings(m.Elections),
			fmt.Sprintf("%.1f", m.PerSecond), seconds(m.Pause.D())}
		if r.Scenario.NoTasks {
			row[2] += ": " + ownFigures(r)
			row[3], row[4], row[6], row[7] = "-", "-", "-", "-"
		}
		rows = append(rows, row)
	}
	mdTable(b, []string{"scenario", "verdict", "what happens", "new master", "reassignment", "ZK election", "tasks/s", "longest pause"}, rows)
	b.WriteString("\nInvariants checked in every scenario:\n\n" +
		"- **every task completed exactly once**: for every task a client logged as submitted, exactly one worker logged `completed task`;\n" +
		"- **every result reached its client**: the client logged the result, naming the worker that completed it (or, if the client was killed, a client restarted with its id removed it);\n" +
		"- **never two masters at once**: the masters' terms, from `elected master` to the sending (the `sent` attribute) of their last successful write, never overlap, and whenever sampled, `/master` belonged to the session of the lowest `/election` candidate;\n" +
		"- **no write by a fenced master**: after a master's write was refused by the fence, it stepped down, or a newer master was elected, that master's session wrote nothing;\n" +
		"- **no orphan znodes**: once the clients finished, `/tasks`, `/data`, `/results` are empty and no `/workers/<w>` has an assignment.\n\n")
}

func hostList(inv *inventory.Inventory) string {
	var parts []string
	for _, h := range inv.Hosts {
		how := "ssh"
		if h.IsLocal() {
			how = "local"
		}
		parts = append(parts, fmt.Sprintf("%s (%s, %s)", h.Name, how, h.ClientAddr()))
	}
	return strings.Join(parts, ", ")
}

func verdictMark(r *Result) string {
	if r.Passed() {
		return "✅ PASS"
	}
	return "❌ FAIL"
}

// section writes one scenario's part of the report.
// A comparison, if any, follows the checks.
func section(b *bytes.Buffer, r *Result, svg, comparison string) {
	sc := r.Scenario
	fmt.Fprintf(b, "## %s\n\n", sc.Name)
	fmt.Fprintf(b, "**%s** · %s.  \nMust observe: %s.\n\n", verdictMark(r), sc.What, sc.Observe)
	if r.Err != nil {
		fmt.Fprintf(b, "The scenario could not run to its end: `%s`.\n\n", r.Err)
	}
	if r.Timing != "" {
		fmt.Fprintf(b, "Holds and waits from the ensemble's timing: %s.\n\n", r.Timing)
	}
	placement(b, r)
	measurements(b, r)
	b.WriteString("Checks:\n\n")
	if r.History != nil {
		fmt.Fprintf(b, "The checks marked *history* are judged from ZooKeeper's transaction logs alone: %s.\n\n", r.History.Summary())
		for _, t := range r.History.Timings {
			fmt.Fprintf(b, "- from the history: %s: **%.2fs** (%s)\n", t.What, t.D.Seconds(), t.How)
		}
		if len(r.History.Timings) > 0 {
			b.WriteString("\n")
		}
	}
	for _, c := range r.Checks {
		mark := "✅"
		switch {
		case c.Skipped != "":
			fmt.Fprintf(b, "- ⏭️ **%s**: not judged: %s\n", c.Name, c.Skipped)
			continue
		case !c.OK:
			mark = "❌"
		}
		fmt.Fprintf(b, "- %s **%s**: %s\n", mark, c.Name, c.Detail)
	}
	b.WriteString("\n")
	if len(r.Notes) > 0 {
		for _, n := range r.Notes {
			fmt.Fprintf(b, "- %s\n", n)
		}
		b.WriteString("\n")
	}
	if len(r.Extra) > 0 {
		b.WriteString(strings.Join(r.Extra, "\n") + "\n\n")
	}
	if comparison != "" {
		b.WriteString(comparison + "\n\n")
	}
	fmt.Fprintf(b, "![timeline of %s](%s)\n\n", sc.Name, svg)
	timeline(b, r)
	for _, s := range r.Snapshots {
		fmt.Fprintf(b, "<details><summary>tree: %s (%s)</summary>\n\n```\n%s```\n\n</details>\n\n", s.Label, rel(r.Start, s.At), s.Tree)
	}
}

// clusterGain compares a run on one server with the server faults of the
// runs on more servers in the same report: what cluster mode adds. It is
// empty for any other run.
func clusterGain(single *Result, all []*Result) string {
	if single.Scenario.Servers != 1 {
		return ""
	}
	var parts []string
	servers := 0
	for _, r := range all {
		if r.Scenario.Servers > 1 && len(serverFaults(r)) > 0 {
			servers = len(r.Servers)
			parts = append(parts, fmt.Sprintf("%s ([%s](#%s)): longest pause %s, %d of %d tasks done, %s",
				r.Scenario.What, r.Scenario.Name, r.Scenario.Name, seconds(r.Metrics.Pause.D()),
				r.Metrics.Completed, r.Metrics.Submitted, r.Verdict()))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("What cluster mode adds: with one server, losing it stopped everything for %s (the longest pause here) "+
		"until it was back. With %d servers in this report:\n\n- %s", seconds(single.Metrics.Pause.D()), servers, strings.Join(parts, "\n- "))
}

// serverFaults lists the faults a run injected on ZooKeeper servers.
func serverFaults(r *Result) []Event {
	var out []Event
	for _, e := range filter(r.Events, KindFault) {
		if e.Role == "zookeeper" {
			out = append(out, e)
		}
	}
	return out
}

// placement writes which processes ran where.
func placement(b *bytes.Buffer, r *Result) {
	fmt.Fprintf(b, "Placement (ensemble on %s):\n\n", strings.Join(r.Servers, ", "))
	names := roleNames()
	head := []string{"host", "ZooKeeper"}
	for _, n := range names {
		head = append(head, n+"s")
	}
	var rows [][]string
	for _, h := range r.Hosts {
		row := make([]string, len(head))
		row[0], row[1] = h, "—"
		for _, s := range r.Servers {
			if s == h {
				row[1] = "server"
			}
		}
		for _, p := range r.Procs {
			if col := slices.Index(names, p.Role); p.Host == h && col >= 0 && !strings.Contains(row[2+col], p.ID) {
				row[2+col] = joinNonEmpty(row[2+col], p.ID)
			}
		}
		rows = append(rows, row)
	}
	mdTable(b, head, rows)
	b.WriteString("\n")
}

func joinNonEmpty(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}

// measurements writes the metrics of a run.
func measurements(b *bytes.Buffer, r *Result) {
	m := r.Metrics
	rows := [][]string{}
	add := func(name string, ts []Timing, none string) {
		if len(ts) == 0 {
			rows = append(rows, []string{name, "-", none})
		}
		for _, t := range ts {
			v := "none"
			if t.OK {
				v = seconds(t.D)
			}
			rows = append(rows, []string{name, v, fmt.Sprintf("%s → %s", t.Fault, orDash(t.Then))})
		}
	}
	add("time to new master", m.Failovers, "the leading master did not fail")
	add("time to reassignment", m.Reassigns, "no worker failed")
	add("ZooKeeper leader election", m.Elections, "the ZooKeeper leader did not fail")
	rows = append(rows, []string{"tasks completed per second", fmt.Sprintf("%.1f", m.PerSecond),
		fmt.Sprintf("%d of %d tasks, first submission to last completion", m.Completed, m.Submitted)})
	p := m.Pause
	how := "between two completions"
	if p.D() > 0 {
		how = fmt.Sprintf("%s to %s", rel(r.Start, p.From), rel(r.Start, p.To))
		if p.After != "" {
			how += ", after " + p.After
		}
	}
	rows = append(rows, []string{"longest pause in progress", seconds(p.D()), how})
	var split []string
	for _, s := range m.Split {
		split = append(split, fmt.Sprintf("%s %d", s.Worker, s.Tasks))
	}
	if len(split) > 0 {
		rows = append(rows, []string{"tasks per worker", strings.Join(split, ", "), ""})
	}
	b.WriteString("Measured:\n\n")
	mdTable(b, []string{"measure", "value", "how"}, rows)
	b.WriteString("\n")
}

// timeline writes the events as a table; runs of completions, assignments
// and results of one process between two other events are one row.
func timeline(b *bytes.Buffer, r *Result) {
	var rows [][]string
	for _, g := range groupEvents(r.Events) {
		t := rel(r.Start, g.first.At)
		if g.n > 1 {
			t += " … " + strings.TrimPrefix(rel(r.Start, g.last.At), "t")
		}
		rows = append(rows, []string{t, g.first.Host, procLabel(g.first), g.text()})
	}
	fmt.Fprintf(b, "<details open><summary>timeline: %d rows</summary>\n\n", len(rows))
	mdTable(b, []string{"t", "host", "process", "event"}, rows)
	b.WriteString("\n</details>\n\n")
}

// group is a run of similar events of one process, or one event.
type group struct {
	first, last Event
	n           int
	tasks       []string
	workers     map[string]int
}

// groupable kinds are merged into runs.
var groupable = map[Kind]bool{KindCompleted: true, KindAssigned: true, KindResult: true, KindMovedBack: true}

// shown tells whether an event belongs in the report's timeline.
func shown(e Event) bool {
	switch e.Kind {
	case KindOther:
		return e.Role == "master" || e.Level == "WARN" || e.Level == "ERROR"
	}
	return true
}

// groupEvents merges runs of groupable events per process; any other event
// closes every open run.
func groupEvents(evs []Event) []*group {
	var out []*group
	open := map[string]*group{}
	flush := func() {
		for k := range open {
			delete(open, k)
		}
	}
	for _, e := range evs {
		if !shown(e) {
			continue
		}
		if !groupable[e.Kind] {
			flush()
			out = append(out, &group{first: e, last: e, n: 1})
			continue
		}
		key := e.Proc + " " + string(e.Kind)
		g := open[key]
		if g == nil {
			g = &group{first: e, workers: map[string]int{}}
			open[key] = g
			out = append(out, g)
		}
		g.last, g.n = e, g.n+1
		g.tasks = append(g.tasks, e.Task)
		g.workers[e.Worker]++
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].first.At.Before(out[j].first.At) })
	return out
}

// text describes a group.
func (g *group) text() string {
	e := g.first
	if g.n == 1 {
		return eventText(e)
	}
	sorted := sortTaskNames(append([]string(nil), g.tasks...))
	span := fmt.Sprintf("%s … %s", sorted[0], sorted[len(sorted)-1])
	switch e.Kind {
	case KindCompleted:
		return fmt.Sprintf("completed %d tasks (%s)", g.n, span)
	case KindResult:
		return fmt.Sprintf("got %d results (%s)", g.n, span)
	case KindMovedBack:
		return fmt.Sprintf("moved %d tasks back from %s", g.n, e.Worker)
	}
	var ws []string
	for w, n := range g.workers {
		ws = append(ws, fmt.Sprintf("%s (%d)", w, n))
	}
	sort.Strings(ws)
	return fmt.Sprintf("assigned %d tasks (%s) to %s", g.n, span, strings.Join(ws, ", "))
}

// eventText is one event's line, with the attributes that matter.
func eventText(e Event) string {
	a := e.Attrs
	switch e.Kind {
	case KindElected:
		return fmt.Sprintf("%s (session %s)", e.Msg, a["session"])
	case KindStepDown, KindStopped:
		if a["writes_ok"] != "" {
			return fmt.Sprintf("%s (writes ok %s, refused %s)", e.Msg, a["writes_ok"], a["writes_fenced"])
		}
	case KindFenced:
		return fmt.Sprintf("fenced write %s: %s", a["op"], a["err"])
	case KindSubmitted:
		return fmt.Sprintf("submitted %s tasks %s … %s", a["tasks"], a["first"], a["last"])
	case KindCleaned:
		return fmt.Sprintf("removed %s results of its predecessor, numbering on from %s", a["results"], a["next"])
	case KindWorkerGone, KindJoined:
		if a["node"] != "" {
			return e.Msg + " as " + a["node"]
		}
	case KindFault, KindStart:
		if e.Took > 0 {
			return fmt.Sprintf("%s (call took %v)", e.Msg, e.Took.Round(time.Millisecond))
		}
	}
	if a["untimed"] != "" {
		return "printed some time after this: " + e.Msg
	}
	if e.Level == "WARN" || e.Level == "ERROR" {
		if a["err"] != "" {
			return fmt.Sprintf("%s %s: %s", e.Level, e.Msg, a["err"])
		}
		return e.Level + " " + e.Msg
	}
	return e.Msg
}

// procLabel names the process of an event: "worker vm2-w1", "zookeeper".
func procLabel(e Event) string {
	switch {
	case e.Role != "" && e.ID != "":
		return e.Role + " " + e.ID
	case e.Role != "":
		return e.Role
	}
	return e.Proc
}

// mdTable writes a Markdown table.
func mdTable(b *bytes.Buffer, header []string, rows [][]string) {
	b.WriteString("| " + strings.Join(header, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat("---|", len(header)) + "\n")
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = strings.NewReplacer("|", `\|`, "\n", " ").Replace(c)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
}
