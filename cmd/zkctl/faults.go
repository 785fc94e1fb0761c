package main

import (
	"github.com/spf13/cobra"

	"zkctl/node/netfault"
	"zkctl/ops"
)

// faultCmds are the fault commands, in usage order: crash, freeze, thaw,
// partition, heal, degrade.
func (a *app) faultCmds() []*cobra.Command {
	return []*cobra.Command{a.crashCmd(), a.freezeCmd(), a.thawCmd(), a.partitionCmd(), a.healCmd(), a.degradeCmd()}
}

// hostFaultCmd is `zkctl crash|freeze|thaw HOST`: op(HOST) on every
// process zkctl started there.
func (a *app) hostFaultCmd(use, short string, op func(host string) ops.Op) *cobra.Command {
	return &cobra.Command{
		Use:   use + " HOST",
		Short: short,
		Args:  rangeArgs(1, 1, "one HOST"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.cluster(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := checkHost(c, args[0]); err != nil {
				return err
			}
			rec, err := op(args[0]).Run(cmd.Context(), c)
			if err == nil && len(rec.Procs) == 0 {
				c.UI.Host(rec.Host, "no live process")
			}
			for _, p := range rec.Procs {
				c.UI.Host(rec.Host, "%s → %s pid %d: now %s", rec.Signal, p.Name, p.PID, p.State)
			}
			return err
		},
	}
}

func (a *app) crashCmd() *cobra.Command {
	return a.hostFaultCmd("crash", "SIGKILL every process zkctl started on a host at once (its server and roles)",
		func(h string) ops.Op { return ops.Crash{Host: h} })
}

func (a *app) freezeCmd() *cobra.Command {
	return a.hostFaultCmd("freeze", "SIGSTOP every process zkctl started on a host (the kernel still answers TCP)",
		func(h string) ops.Op { return ops.Freeze{Host: h} })
}

func (a *app) thawCmd() *cobra.Command {
	return a.hostFaultCmd("thaw", "SIGCONT every process zkctl started on a host",
		func(h string) ops.Op { return ops.Thaw{Host: h} })
}

// netFaultRun runs a network fault and prints its notes as `host: message`
// lines; a refusal is a usage error (exit 2).
func (a *app) netFaultRun(cmd *cobra.Command, op ops.Op) error {
	c, err := a.cluster(cmd)
	if err != nil {
		return err
	}
	defer c.Close()
	rec, err := op.Run(cmd.Context(), c)
	for _, n := range rec.Notes {
		c.UI.Host(n.Host, "%s", n.Msg)
	}
	if ops.IsRefused(err) {
		return usageError{err.Error()}
	}
	return err
}

func (a *app) partitionCmd() *cobra.Command {
	op := ops.Partition{For: ops.DefaultFaultFor}
	cmd := &cobra.Command{
		Use:   "partition HOST… [--from HOST…] [--for D] [--oneway]",
		Short: "cut the traffic between hosts and the others (expires in the hosts' kernels)",
		Long: "Cut the traffic between the named hosts and every other host (or --from those), both ways unless\n" +
			"--oneway (then only what the named hosts send is dropped). The cut expires after --for (default 60s;\n" +
			"0 = until `zkctl heal`), enforced by the hosts' kernels. SSH and the controller are never cut.\n" +
			"Needs hosts with their own addresses: refused on 127.0.0.0/8.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("partition: want HOST…")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			op.Hosts = args
			return a.netFaultRun(cmd, op)
		},
	}
	cmd.Flags().StringSliceVar(&op.From, "from", nil, "the other side (repeat or comma-separate; default: every other host)")
	cmd.Flags().Var(durationFlag{&op.For}, "for", "expiry, e.g. 30s (0 = until healed)")
	cmd.Flags().BoolVar(&op.OneWay, "oneway", false, "drop only what the named hosts send to the others")
	return cmd
}

func (a *app) healCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "heal [HOST…]",
		Short: "remove zkctl's partition and degradation rules (every host by default)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.netFaultRun(cmd, ops.Heal{Hosts: args})
		},
	}
}

func (a *app) degradeCmd() *cobra.Command {
	op := ops.Degrade{For: ops.DefaultFaultFor}
	var loss string
	cmd := &cobra.Command{
		Use:   "degrade HOST [--delay D] [--loss P%] [--rate R] [--for D] | --clear",
		Short: "a slow or lossy link: what HOST sends to the other hosts (says exactly what was applied)",
		Long: "Degrade what HOST sends to the other inventory hosts: --delay (tc netem, where the kernel has it),\n" +
			"--loss (netem, else nft numgen), --rate (tc htb, e.g. 1mbit). Expires after --for (default 60s;\n" +
			"0 = until healed) by a timer on the host. Prints each knob as applied, and how, or why not.\n" +
			"--clear removes HOST's degradations (partitions stay).",
		Args: rangeArgs(1, 1, "one HOST"),
		RunE: func(cmd *cobra.Command, args []string) error {
			op.Host = args[0]
			if loss != "" {
				l, err := netfault.ParseLoss(loss)
				if err != nil {
					return usagef("degrade: %v", err)
				}
				op.Loss = l
			}
			if op.Clear && (op.Delay > 0 || op.Loss > 0 || op.Rate != "") {
				return usagef("degrade: --clear takes no --delay, --loss or --rate")
			}
			return a.netFaultRun(cmd, op)
		},
	}
	cmd.Flags().Var(durationFlag{&op.Delay}, "delay", "added delay, e.g. 100ms (needs sch_netem)")
	cmd.Flags().StringVar(&loss, "loss", "", "share of packets dropped, e.g. 20%")
	cmd.Flags().StringVar(&op.Rate, "rate", "", "rate limit in tc's units, e.g. 1mbit")
	cmd.Flags().Var(durationFlag{&op.For}, "for", "expiry, e.g. 30s (0 = until healed)")
	cmd.Flags().BoolVar(&op.Clear, "clear", false, "remove HOST's degradations")
	return cmd
}
