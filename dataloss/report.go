package dataloss

import (
	"fmt"
	"io"
	"strings"

	"zkctl/txnlog"
)

// PrintResult writes one run's report: the schedule, whether its faults
// landed in the window, the faults, each check, and every lost write.
func PrintResult(w io.Writer, s Schedule, r Result) {
	fmt.Fprintf(w, "%s %s on ZooKeeper %s (seed %d, %v): %d writes, %d acknowledged\n",
		verdictOf(r), s.Name, orUnknown(r.Version), r.Seed, r.Took.Round(1e6), r.Writes, r.Acked)
	fmt.Fprintf(w, "  follows %s; aims at %s\n", s.Upstream, s.Bugs)
	fmt.Fprintf(w, "  the faults %s the window: %s\n", landedText(r), s.Window)
	for _, n := range r.Window.Notes {
		fmt.Fprintf(w, "    %s\n", n)
	}
	if r.Err != nil {
		fmt.Fprintf(w, "  error: %v\n", r.Err)
	}
	fmt.Fprintf(w, "  faults:\n")
	for _, f := range r.Faults {
		fmt.Fprintf(w, "    %s %s (%v)\n", f.Start.Format("15:04:05.000"), f.Title, f.Took().Round(1e6))
	}
	for _, v := range r.Judgement.Verdicts {
		mark := "ok  "
		if !v.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %s: %s\n", mark, v.Name, v.Detail)
	}
	printLost(w, r.Judgement.Lost)
}

// printLost names each lost write: path, zxid, holders, the fault after.
func printLost(w io.Writer, lost []Lost) {
	const most = 20
	for i, l := range lost {
		if i == most {
			fmt.Fprintf(w, "  … and %d more lost writes\n", len(lost)-most)
			return
		}
		zxid := "in no server's log"
		if l.Zxid != 0 {
			zxid = "zxid " + txnlog.FormatZxid(l.Zxid)
		}
		fmt.Fprintf(w, "  lost: %s %s (%s, acknowledged %s): %s; held by [%s], not by [%s]",
			l.Op, l.Path, zxid, l.Acked.Format("15:04:05.000"), l.Why, strings.Join(l.HeldBy, " "), strings.Join(l.NotHeldBy, " "))
		if len(l.MissingOn) > 0 {
			fmt.Fprintf(w, "; final state wrong on [%s]", strings.Join(l.MissingOn, " "))
		}
		fmt.Fprintf(w, "; next fault: %s\n", l.FaultAfter)
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "(version unknown)"
	}
	return s
}
