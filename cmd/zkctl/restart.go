package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"zkctl/deploy"
)

func (a *app) restartCmd() *cobra.Command {
	var o deploy.RollOptions
	cmd := &cobra.Command{
		Use:   "restart zookeeper [HOST…] [--dry-run] [--force]",
		Short: "restart ZooKeeper servers one at a time, followers first, the leader last, each gated on the ensemble's health (a roll)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || args[0] != "zookeeper" {
				return usagef("restart: want zookeeper [HOST…] (only ZooKeeper servers are rolled; roles are started and killed)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.cluster(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			o.Hosts = args[1:]
			if _, err := c.Inv.Lookup(o.Hosts...); err != nil {
				return usagef("%v", err)
			}
			err = c.Roll(cmd.Context(), o)
			if errors.Is(err, deploy.ErrRollRefused) {
				return fmt.Errorf("%w\nstatus: zkctl status", err)
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "print the order and change nothing")
	cmd.Flags().BoolVar(&o.Force, "force", false, "start servers found down first, instead of refusing")
	cmd.Flags().Var(durationFlag{&o.Timeout}, "timeout", "how long one server may take to pass its gate (default 30s + 20 ticks)")
	return cmd
}
