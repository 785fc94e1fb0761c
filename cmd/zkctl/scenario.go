package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"zkctl/controller"
	"zkctl/internal/fsutil"
	"zkctl/scenario"
)

func (a *app) scenarioCmd() *cobra.Command {
	var report, junit string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "scenario NAME…|all [--report FILE]",
		Short: "reproduce the master/worker experiment's fault scenarios as checked runs, with a report",
		Long: "Each scenario resets the ensemble, starts real masters, workers and clients on the inventory's\n" +
			"first three hosts, injects its faults (as `zkctl kill` does) and judges the run from ZooKeeper and\n" +
			"the role logs. Exit status 0 only if every check of every scenario held.\n\nScenarios:\n" + scenarioList(),
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("scenario: want NAME… or all; the scenarios are %s", strings.Join(scenario.Names(), ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			scs, err := scenario.Select(args)
			if err != nil {
				return usageError{err.Error()}
			}
			c, err := a.cluster(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			scs, skipped := scenario.Runnable(cmd.Context(), c, scs)
			for _, s := range skipped {
				if slices.Contains(args, s.Scenario.Name) {
					return usagef("scenario %s cannot run on this inventory: %s", s.Scenario.Name, s.Reason)
				}
			}
			c.UI = controller.NewUI(io.Discard)
			if a.verbose {
				c.UI = controller.NewUI(os.Stderr)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				out = cmd.ErrOrStderr() // progress; stdout carries only the JSON lines
			}
			rn := &scenario.Runner{Cluster: c, Out: out, Terminal: isTerminal(out)}
			if report != "" {
				rn.Artifacts = filepath.Dir(report)
			}
			start := time.Now()
			results := rn.Run(cmd.Context(), scs)
			took := time.Since(start)
			if asJSON {
				if err := scenario.WriteJSON(cmd.OutOrStdout(), results); err != nil {
					return err
				}
			} else {
				scenario.PrintSummary(out, results, took)
			}
			for _, s := range skipped {
				fmt.Fprintf(out, "skipped %s: %s\n", s.Scenario.Name, s.Reason)
			}
			if junit != "" {
				if err := writeJUnit(junit, results, took); err != nil {
					return err
				}
			}
			if report != "" {
				rp := &scenario.Report{Results: results, Inventory: c.Inv, Took: took, Generated: time.Now(),
					Command: "zkctl scenario " + strings.Join(args, " "), Skipped: skipped}
				if err := rp.Write(report); err != nil {
					return err
				}
				fmt.Fprintf(out, "report: %s (timelines next to it)\n", report)
			}
			failed := 0
			for _, r := range results {
				if !r.Passed() {
					failed++
				}
			}
			if failed > 0 || len(results) < len(scs) {
				return fmt.Errorf("%d of %d scenarios failed", failed+len(scs)-len(results), len(scs))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&report, "report", "", "write a Markdown report to FILE and an SVG timeline per scenario next to it")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON lines, one object per scenario (verdict, checks, measures), instead of the table")
	cmd.Flags().StringVar(&junit, "junit", "", "write JUnit XML to FILE: a testcase per check, a failure per broken one")
	return cmd
}

// scenarioList is the help text's list of scenarios.
func scenarioList() string {
	var b strings.Builder
	for _, n := range scenario.Names() {
		s, _ := scenario.Lookup(n)
		fmt.Fprintf(&b, "  %-17s %s\n", n, s.What)
	}
	return b.String()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// writeJUnit writes the JUnit XML to path through a temporary file, so a
// reader never sees half of it.
func writeJUnit(path string, results []*scenario.Result, took time.Duration) error {
	err := fsutil.WriteAtomic(path, 0o644, func(w io.Writer) error { return scenario.WriteJUnit(w, results, took) })
	if err != nil {
		return fmt.Errorf("--junit %s: %w", path, err)
	}
	return nil
}
