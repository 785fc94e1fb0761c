package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"zkctl/bench"
)

func (a *app) benchCmd() *cobra.Command {
	var o bench.Options
	var asJSON bool
	var only string
	o.Duration = 10 * time.Second
	cmd := &cobra.Command{
		Use:   "bench [--json] [--duration D] [--workers W] [--clients C]",
		Short: "measure task throughput against the ensemble's raw write limit, failover, master scaling and memory",
		Long: `bench runs against the inventory's ensemble, which must be idle (no roles, no
tasks: run ` + "`zkctl reset -y`" + ` first), and leaves it idle. Phases: raw (the
ensemble's write limit), pipeline (1 master, W workers, C clients in this
process), scaling (1k and 10k tasks to 50 idle workers), failover (real
master and worker processes on the hosts), memory (a master process with
10k tasks). It ends with a table of each figure against its target and
exits 1 when a target is missed.`,
		Args: rangeArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Duration < 500*time.Millisecond {
				return usagef("--duration must be at least 0.5s, got %v", o.Duration)
			}
			for _, f := range []struct {
				name string
				n    int
			}{{"--workers", o.Workers}, {"--clients", o.Clients}, {"--window", o.Window},
				{"--concurrency", o.WorkerConcurrency}, {"--repeat", o.Repeats}} {
				if err := positive(f.name, f.n); err != nil {
					return err
				}
			}
			if only != "" {
				o.Phases = strings.Split(only, ",")
				if err := bench.CheckPhases(o.Phases); err != nil {
					return usageError{err.Error()}
				}
			}
			c, err := a.cluster(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			cfg, err := c.RoleConfig("bench", c.Inv.ServerHosts())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				o.Progress = cmd.ErrOrStderr()
			} else {
				o.Progress = out
			}
			r, err := bench.Run(cmd.Context(), bench.Target{Roles: cfg, TickTime: c.Inv.Cluster.TickTime, Cluster: c}, o)
			if r == nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if jerr := enc.Encode(r); jerr != nil {
					return jerr
				}
			} else {
				fmt.Fprintln(out)
				r.PrintTable(out)
				fmt.Fprintf(out, "took %v\n", r.Elapsed.Round(time.Second))
			}
			if err != nil {
				return fmt.Errorf("bench: %w", err)
			}
			if failed := r.Failed(); len(failed) > 0 {
				names := make([]string, len(failed))
				for i, f := range failed {
					names[i] = f.Figure
				}
				return fmt.Errorf("bench: %d of %d targets missed: %s", len(failed), len(r.Checks), strings.Join(names, ", "))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print one JSON object (progress goes to stderr)")
	f.Var(durationFlag{&o.Duration}, "duration", "length of each throughput phase (raw, pipeline), e.g. 10s or 10")
	f.IntVar(&o.Workers, "workers", 8, "pipeline: workers")
	f.IntVar(&o.Clients, "clients", 4, "pipeline: clients")
	f.IntVar(&o.Window, "window", 32, "pipeline: tasks each client keeps in flight")
	f.IntVar(&o.WorkerConcurrency, "concurrency", 4, "pipeline: tasks each worker runs at once")
	f.IntVar(&o.Repeats, "repeat", 5, "failover: repetitions of each kill")
	f.StringVar(&only, "only", "", "comma-separated phases to run: "+strings.Join(bench.AllPhases(), ","))
	return cmd
}
