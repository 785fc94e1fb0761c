package scenario

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"zkctl/deploy/inventory"
)

// TestOwnFigures: a scenario without tasks shows its own figures wherever
// the summaries show tasks: the progress line, the terminal table and the
// report's table; never "0/0 tasks".
func TestOwnFigures(t *testing.T) {
	lin := &Result{Scenario: &Scenario{Name: "linearizable", What: "register", NoTasks: true}, Took: time.Second,
		Figures: "300 operations, verdict ok, 7 faults", Checks: []Check{{Name: "linearizable", OK: true}}}
	tasks := &Result{Scenario: &Scenario{Name: "c2w2m1", What: "two clients"}, Took: time.Second,
		Metrics: Metrics{Submitted: 40, Completed: 40}, Checks: []Check{{Name: "once", OK: true}}}
	if got := headline(lin); got != lin.Figures {
		t.Errorf("headline %q", got)
	}
	if got := headline(&Result{Scenario: lin.Scenario}); got != "no figures: the run stopped first" {
		t.Errorf("headline of a stopped run %q", got)
	}
	if got := headline(tasks); !strings.HasPrefix(got, "40 tasks") {
		t.Errorf("headline of tasks %q", got)
	}
	var term bytes.Buffer
	PrintSummary(&term, []*Result{lin, tasks}, time.Second)
	var md bytes.Buffer
	(&Report{Results: []*Result{lin, tasks}, Inventory: &inventory.Inventory{}}).header(&md)
	for name, out := range map[string]string{"terminal": term.String(), "report": md.String()} {
		if !strings.Contains(out, "300 operations, verdict ok, 7 faults") || strings.Contains(out, "0/0") || !strings.Contains(out, "40/40") && name == "terminal" {
			t.Errorf("%s:\n%s", name, out)
		}
	}
}
