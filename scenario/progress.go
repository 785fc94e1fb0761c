package scenario

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"zkctl/controller"
)

// progress prints one line per scenario: on a terminal a live line that is
// redrawn as the scenario goes, else one line per step. Each ends with the
// verdict.
type progress struct {
	w        io.Writer
	terminal bool
	total    int
	mu       sync.Mutex
}

func newProgress(w io.Writer, terminal bool, total int) *progress {
	if w == nil {
		w = io.Discard
	}
	return &progress{w: w, terminal: terminal, total: total}
}

// progressLine is the line of one scenario.
type progressLine struct {
	p     *progress
	head  string
	start time.Time
	last  string
}

func (p *progress) scenario(i int, name string) *progressLine {
	return &progressLine{p: p, head: fmt.Sprintf("[%d/%d] %-17s", i+1, p.total, name), start: time.Now()}
}

// step shows what the runner does now.
func (l *progressLine) step(format string, args ...any) {
	l.show(fmt.Sprintf(format, args...), "")
}

// show draws the line (terminal) or prints a changed step (otherwise).
func (l *progressLine) show(step, state string) {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	elapsed := fmt.Sprintf("%5.1fs", time.Since(l.start).Seconds())
	if l.p.terminal {
		text := strings.TrimRight(l.head+" "+elapsed+"  "+step+state, " ")
		fmt.Fprint(l.p.w, "\r\033[K"+text)
		return
	}
	if step != l.last {
		l.last = step
		fmt.Fprintln(l.p.w, l.head+" "+elapsed+"  "+step)
	}
}

// follow redraws the line from the script's step and the monitor's view
// until stop is called.
func (l *progressLine) follow(r *run, mon *monitor, start time.Time) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			l.show(r.currentStep(), stateLine(mon.status()))
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// stateLine summarizes the monitor's view: tasks, master, server modes.
func stateLine(s status) string {
	master := s.Master
	if master == "" {
		master = "none"
	}
	modes := make([]string, len(s.Modes))
	for i, m := range s.Modes {
		modes[i] = modeLetter(m)
	}
	zk := " · zk " + strings.Join(modes, "")
	if !s.OK {
		return fmt.Sprintf(" · %d done · ZooKeeper not answering%s", s.Done, zk)
	}
	return fmt.Sprintf(" · %d done, %d open · master %s%s", s.Done, s.Open, master, zk)
}

// modeLetter abbreviates a server mode: L(eader), F(ollower), S(tandalone),
// - (down), ? (up, not serving).
func modeLetter(m string) string {
	switch m {
	case "leader":
		return "L"
	case "follower":
		return "F"
	case "standalone":
		return "S"
	case "down":
		return "-"
	}
	return "?"
}

// end prints the verdict line.
func (l *progressLine) end(res *Result) {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	if l.p.terminal {
		fmt.Fprint(l.p.w, "\r\033[K")
	}
	line := fmt.Sprintf("%s %s %5.1fs  %s", l.head, res.Verdict(), time.Since(l.start).Seconds(), headline(res))
	if f := res.Failed(); len(f) > 0 {
		line += "\n    ✗ " + strings.Join(f, "\n    ✗ ")
	}
	fmt.Fprintln(l.p.w, line)
}

// headline is the metrics of a result in one line.
func headline(res *Result) string {
	if res.Scenario.NoTasks {
		return ownFigures(res)
	}
	m := res.Metrics
	parts := []string{fmt.Sprintf("%d tasks", m.Completed)}
	add := func(name string, ts []Timing) {
		if len(ts) > 0 {
			parts = append(parts, name+" "+timings(ts))
		}
	}
	add("new master", m.Failovers)
	add("reassign", m.Reassigns)
	add("zk election", m.Elections)
	parts = append(parts, fmt.Sprintf("%.1f tasks/s", m.PerSecond), "longest pause "+seconds(m.Pause.D()))
	return strings.Join(parts, " · ")
}

// ownFigures is what a scenario without tasks measured, or why nothing.
func ownFigures(res *Result) string {
	if res.Figures == "" {
		return "no figures: the run stopped first"
	}
	return res.Figures
}

// timings formats measured times: "0.05s, 2.31s"; "none" for a fault
// nothing answered; "-" when there was no such fault.
func timings(ts []Timing) string {
	if len(ts) == 0 {
		return "-"
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = "none"
		if t.OK {
			parts[i] = seconds(t.D)
		}
	}
	return strings.Join(parts, ", ")
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// PrintSummary writes the summary table of a set of results and the
// checks that failed.
func PrintSummary(w io.Writer, results []*Result, took time.Duration) {
	rows := make([][]string, len(results))
	passed := 0
	for i, r := range results {
		m := r.Metrics
		if r.Passed() {
			passed++
		}
		rows[i] = []string{r.Scenario.Name, r.Verdict(), seconds(r.Took),
			fmt.Sprintf("%d/%d", m.Completed, m.Submitted), timings(m.Failovers), timings(m.Reassigns),
			timings(m.Elections), strconv.FormatFloat(m.PerSecond, 'f', 1, 64), seconds(m.Pause.D())}
		if r.Scenario.NoTasks {
			rows[i] = []string{r.Scenario.Name, r.Verdict(), seconds(r.Took), ownFigures(r), "-", "-", timings(m.Elections), "-", "-"}
		}
	}
	fmt.Fprintln(w)
	controller.Table(w, []string{"SCENARIO", "VERDICT", "TIME", "TASKS", "NEW MASTER", "REASSIGN", "ZK ELECTION", "TASKS/S", "LONGEST PAUSE"}, rows)
	for _, r := range results {
		for _, f := range r.Failed() {
			fmt.Fprintf(w, "%s: FAIL: %s\n", r.Scenario.Name, f)
		}
	}
	fmt.Fprintf(w, "\n%d of %d scenarios passed in %s\n", passed, len(results), took.Round(100*time.Millisecond))
}
