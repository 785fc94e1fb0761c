package lincheck

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/anishathalye/porcupine"
)

// Verdict is the judgement of a history.
type Verdict string

// The verdicts.
const (
	VerdictOK      Verdict = "ok"      // linearizable writes and CAS, reads as promised
	VerdictIllegal Verdict = "illegal" // a promise was broken
	VerdictUnknown Verdict = "unknown" // the checker timed out, or no write was acknowledged
)

// Count is a number of operations by outcome.
type Count struct {
	OK, Failed, Indeterminate int
}

// Total is the number of operations counted.
func (c Count) Total() int { return c.OK + c.Failed + c.Indeterminate }

// Result is the judgement of a history and what the report says of it.
type Result struct {
	Verdict Verdict
	// Linearizability is Porcupine's answer on the writes and CAS:
	// "Ok", "Illegal" or "Unknown" (timeout).
	Linearizability porcupine.CheckResult
	// ReadViolations lists the broken promises about reads.
	ReadViolations []string
	Counts         map[Kind]Count
	Faults         []Fault
	Nemesis        string
	Start          time.Time     // of the history, for fault offsets
	Elapsed        time.Duration // of the workload
	CheckTime      time.Duration // of the whole check
	// Visualization is the path of Porcupine's HTML file, written when the
	// verdict is illegal; VisualizationErr says why it could not be written.
	Visualization    string
	VisualizationErr string
}

// Check judges h: Porcupine on the writes and CAS, bounded by timeout (0:
// none), and the read checks. When the verdict is illegal it writes
// Porcupine's visualization to vizPath (an HTML file: the writes and CAS
// with their linearization or its longest prefix, the reads and the faults
// as annotations; nothing when vizPath is empty).
func Check(h *History, timeout time.Duration, vizPath string) Result {
	t0 := time.Now()
	res, info := linearizable(h, timeout)
	r := Result{
		Linearizability: res,
		ReadViolations:  readViolations(h),
		Counts:          counts(h),
		Faults:          h.Faults,
		Nemesis:         h.Nemesis,
		Start:           h.Start,
		Elapsed:         h.Elapsed,
	}
	r.Verdict = verdict(res, len(r.ReadViolations))
	if r.Verdict == VerdictOK && r.Counts[Write].OK+r.Counts[CAS].OK == 0 {
		r.Verdict = VerdictUnknown // nothing was acknowledged: nothing was shown
	}
	if r.Verdict == VerdictIllegal && vizPath != "" {
		info.AddAnnotations(annotations(h))
		if err := writeViz(info, vizPath); err != nil {
			r.VisualizationErr = err.Error()
		} else {
			r.Visualization = vizPath
		}
	}
	r.CheckTime = time.Since(t0)
	return r
}

// verdict combines Porcupine's answer with the read checks: any violation
// is illegal; a timeout is unknown, never ok.
func verdict(lin porcupine.CheckResult, readViolations int) Verdict {
	switch {
	case lin == porcupine.Illegal || readViolations > 0:
		return VerdictIllegal
	case lin == porcupine.Ok:
		return VerdictOK
	}
	return VerdictUnknown
}

func writeViz(info porcupine.LinearizationInfo, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write visualization: %w", err)
	}
	if err := porcupine.VisualizePath(model(), info, path); err != nil {
		return fmt.Errorf("write visualization %s: %w", path, err)
	}
	return nil
}

func counts(h *History) map[Kind]Count {
	m := map[Kind]Count{}
	for _, op := range h.Ops {
		c := m[op.Kind]
		switch op.Outcome {
		case OK:
			c.OK++
		case Failed:
			c.Failed++
		default:
			c.Indeterminate++
		}
		m[op.Kind] = c
	}
	return m
}

// maxListed bounds the read violations the report lists.
const maxListed = 10

// Markdown renders r as report lines.
func (r Result) Markdown() []string {
	lines := []string{
		fmt.Sprintf("- verdict: **%s** (writes and CAS: %s; read checks: %d violations); checked in %s",
			r.Verdict, linDescription(r.Linearizability), len(r.ReadViolations), roundDuration(r.CheckTime)),
		fmt.Sprintf("- workload: %d operations in %s", r.total(), r.Elapsed.Round(10*time.Millisecond)),
		"",
		"| kind | ok | failed | indeterminate |",
		"|---|---|---|---|",
	}
	for _, k := range Kinds() {
		c := r.Counts[k]
		lines = append(lines, fmt.Sprintf("| %s | %d | %d | %d |", k, c.OK, c.Failed, c.Indeterminate))
	}
	lines = append(lines, "")
	lines = append(lines, r.faultLines()...)
	for i, v := range r.ReadViolations {
		if i == maxListed {
			lines = append(lines, fmt.Sprintf("- … and %d more read violations", len(r.ReadViolations)-maxListed))
			break
		}
		lines = append(lines, "- read violation: "+v)
	}
	if r.Visualization != "" {
		lines = append(lines, fmt.Sprintf("- visualization: [%s](%s)", filepath.Base(r.Visualization), r.Visualization))
	}
	if r.VisualizationErr != "" {
		lines = append(lines, "- visualization not written: "+r.VisualizationErr)
	}
	return lines
}

func (r Result) total() int {
	n := 0
	for _, c := range r.Counts {
		n += c.Total()
	}
	return n
}

func (r Result) faultLines() []string {
	name := r.Nemesis
	if name == "" {
		name = "none"
	}
	lines := []string{fmt.Sprintf("- faults (%s): %d", name, len(r.Faults))}
	for _, f := range r.Faults {
		at := f.Start.Sub(r.Start).Round(10 * time.Millisecond)
		d := "until the end"
		if !f.End.IsZero() {
			d = "for " + f.End.Sub(f.Start).Round(10*time.Millisecond).String()
		}
		l := fmt.Sprintf("  - %s %s at +%s, %s", f.Name, f.Target, at, d)
		if f.Err != "" {
			l += " (error: " + f.Err + ")"
		}
		lines = append(lines, l)
	}
	return lines
}

func linDescription(c porcupine.CheckResult) string {
	switch c {
	case porcupine.Ok:
		return "linearizable"
	case porcupine.Illegal:
		return "not linearizable"
	}
	return "undecided: checker timeout"
}

// roundDuration keeps three significant figures or so.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond)
	case d < time.Second:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Millisecond)
}
