package dataloss

import (
	"fmt"
	"io"
	"time"
)

// Row is one version × schedule of the result table: how many runs, how
// many landed in the window, how many failed, the writes lost, and the
// time to the first failure.
type Row struct {
	Version, Schedule string
	Runs, Landed      int
	Failed, Errors    int
	Lost              int           // lost writes over every failed run
	FirstFailure      time.Duration // from the first run's start; 0: none
	FirstSeed         int64         // the seed of the first failure
}

// Add counts one run that ended elapsed after the row's first run began.
func (r *Row) Add(res Result, elapsed time.Duration) {
	r.Runs++
	if res.Window.Landed {
		r.Landed++
	}
	switch {
	case res.Err != nil:
		r.Errors++
	case !res.Judgement.Passed():
		if r.Failed == 0 {
			r.FirstFailure, r.FirstSeed = elapsed, res.Seed
		}
		r.Failed++
		r.Lost += len(res.Judgement.Lost)
	}
}

// Verdict is the row's verdict: FAIL when any run failed.
func (r Row) Verdict() string {
	switch {
	case r.Failed > 0:
		return "FAIL"
	case r.Errors > 0:
		return "ERROR"
	}
	return "PASS"
}

// Markdown is the row as a line of the table.
func (r Row) Markdown() string {
	first := "—"
	if r.Failed > 0 {
		first = fmt.Sprintf("%v (seed %d)", r.FirstFailure.Round(100*time.Millisecond), r.FirstSeed)
	}
	return fmt.Sprintf("| %s | %s | %s | %d of %d | %d of %d | %d | %s |",
		r.Version, r.Schedule, r.Verdict(), r.Failed, r.Runs, r.Landed, r.Runs, r.Lost, first)
}

// PrintTable writes rows as the README's table.
func PrintTable(w io.Writer, rows []Row) {
	fmt.Fprintln(w, "| version | schedule | verdict | runs failed | runs in the window | writes lost | time to first failure |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintln(w, r.Markdown())
	}
}
