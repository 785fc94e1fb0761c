package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"zkctl/controller"
	"zkctl/dataloss"
)

func (a *app) datalossCmd() *cobra.Command {
	var o dataloss.ChaosOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "dataloss [NAME…] [--seed N] [--for DURATION] [--runs N] [--json]",
		Short: "aim at ZooKeeper's own sync data-loss bugs: a schedule of real faults, a writer, a loss judge",
		Long: "Runs a schedule that follows an upstream regression test of a ZooKeeper data-loss bug, with real\n" +
			"stops, starts and SIGKILLs of the inventory's servers, while a client writes unique znodes and records\n" +
			"every acknowledged write. Then every server comes back and the judge checks that every acknowledged\n" +
			"write is in the merged history of the servers' transaction logs and in the state each server returns\n" +
			"after a sync, that no acknowledged delete comes back, and that no two servers disagree on a zxid; it\n" +
			"names each lost write. The report says whether the faults landed in the bug's window.\n\n" +
			"--seed N replays the run of seed N (0: upstream's timing, no jitter). --for DURATION repeats the\n" +
			"schedule with seeds N, N+1, … (from a fresh seed when --seed is not given) until a run fails or the\n" +
			"time is up, and prints the seed that failed. Without NAME, every schedule that fits the ensemble's\n" +
			"size runs. The run writes under /zkctl-dataloss. Exit status 0 only if every run passed.\n\n" +
			"Schedules:\n" + datalossList(),
		RunE: func(cmd *cobra.Command, args []string) error {
			scs, err := dataloss.Lookup(args)
			if err != nil {
				return usageError{err.Error()}
			}
			if o.For < 0 || o.Runs < 0 || o.Interval < 0 {
				return usagef("dataloss: --for, --runs and --interval must not be negative")
			}
			c, err := a.cluster(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			c.UI = controller.NewUI(io.Discard)
			if a.verbose {
				c.UI = controller.NewUI(os.Stderr)
			}
			scs, err = fitting(cmd.OutOrStdout(), scs, len(c.Inv.ServerHosts()), len(args) > 0)
			if err != nil {
				return err
			}
			if o.For > 0 && !cmd.Flags().Changed("seed") {
				o.Seed = time.Now().UnixNano()%1_000_000 + 1
			}
			return runDataloss(cmd, c, scs, o, asJSON)
		},
	}
	cmd.Flags().Int64Var(&o.Seed, "seed", 0, "the seed of the run's random timing (0: upstream's schedule as it is)")
	cmd.Flags().DurationVar(&o.For, "for", 0, "repeat each schedule with the next seeds until one fails or this time is up")
	cmd.Flags().IntVar(&o.Runs, "runs", 0, "with --for: at most this many runs of each schedule")
	cmd.Flags().DurationVar(&o.Interval, "interval", 0, "the pause between two writes (default 10ms); slower hosts need a longer one, so that a stale follower stays within the leader's committedLog (500 proposals)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per run (verdict, window, lost writes) instead of the report")
	return cmd
}

// fitting keeps the schedules whose ensemble size is the inventory's;
// one named that does not fit is a usage error.
func fitting(out io.Writer, scs []dataloss.Schedule, servers int, named bool) ([]dataloss.Schedule, error) {
	var keep []dataloss.Schedule
	for _, s := range scs {
		if s.Servers == servers {
			keep = append(keep, s)
			continue
		}
		if named {
			return nil, usagef("dataloss %s needs %d ZooKeeper servers, the inventory has %d", s.Name, s.Servers, servers)
		}
		fmt.Fprintf(out, "skipped %s: it needs %d servers, the inventory has %d\n", s.Name, s.Servers, servers)
	}
	if len(keep) == 0 {
		return nil, usagef("dataloss: no schedule fits an ensemble of %d servers", servers)
	}
	return keep, nil
}

// runDataloss runs each schedule once (or, with --for, as a chaos run)
// and reports.
func runDataloss(cmd *cobra.Command, c *controller.Cluster, scs []dataloss.Schedule, o dataloss.ChaosOptions, asJSON bool) error {
	out := cmd.OutOrStdout()
	failed, runs := 0, 0
	for _, s := range scs {
		var results []dataloss.Result
		if o.For > 0 {
			co := o
			co.Out = out
			if asJSON {
				co.Out = cmd.ErrOrStderr()
			}
			results = dataloss.Chaos(cmd.Context(), c, s, co)
		} else {
			res := dataloss.Run(cmd.Context(), c, s, dataloss.Options{Seed: o.Seed, Interval: o.Interval})
			results = []dataloss.Result{res}
			if !asJSON {
				dataloss.PrintResult(out, s, res)
			}
		}
		for _, r := range results {
			runs++
			if !r.Passed() {
				failed++
			}
			if asJSON {
				if err := json.NewEncoder(out).Encode(r); err != nil {
					return err
				}
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d runs failed", failed, runs)
	}
	return nil
}

// datalossList is the help text's list of schedules.
func datalossList() string {
	var b strings.Builder
	for _, s := range dataloss.Catalog {
		fmt.Fprintf(&b, "  %-16s %d servers; follows %s\n  %-16s aims at %s\n", s.Name, s.Servers, s.Upstream, "", s.Bugs)
	}
	return b.String()
}
