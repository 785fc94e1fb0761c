package main

import (
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"zkctl/watch"
)

func (a *app) watchCmd() *cobra.Command {
	var plain bool
	o := watch.Options{Polls: watch.DefaultPolls}
	cmd := &cobra.Command{
		Use:   "watch [--plain]",
		Short: "a live view of the servers, the master, the workers, the tasks and the faults (q quits)",
		Args:  rangeArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Polls.Servers <= 0 || o.Polls.Faults <= 0 {
				return usagef("--poll %v, --fault-poll %v: both must be more than 0", o.Polls.Servers, o.Polls.Faults)
			}
			c, err := a.cluster(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			o.Plain = plain || !term.IsTerminal(int(os.Stdout.Fd())) || !term.IsTerminal(int(os.Stdin.Fd()))
			return watch.Run(cmd.Context(), watch.FromCluster(c), o, cmd.OutOrStdout(), cmd.InOrStdin())
		},
	}
	cmd.Flags().BoolVar(&plain, "plain", false, "one line per change instead of the full screen (also without a terminal)")
	cmd.Flags().Var(durationFlag{&o.Polls.Servers}, "poll", "how often each server is asked for srvr")
	cmd.Flags().Var(durationFlag{&o.Polls.Faults}, "fault-poll", "how often each host's agent is asked for its network faults")
	return cmd
}
