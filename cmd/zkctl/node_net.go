package main

import (
	"errors"
	"time"

	"github.com/spf13/cobra"

	"zkctl/node/netfault"
)

// nodeNetCmd is the agent's network faults: `zkctl node --dir D net …`,
// each printing JSON on stdout.
func nodeNetCmd(dir *string) *cobra.Command {
	cmd := &cobra.Command{Use: "net", Short: "network faults on this host (nftables, tc)"}
	heal := &cobra.Command{Use: "heal", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		return printResult(netfault.HealRequest{}.Serve(cmd.Context(), *dir))
	}}
	status := &cobra.Command{Use: "status", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		return printResult(netfault.StatusRequest{}.Serve(cmd.Context(), *dir))
	}}
	host := func(cmd *cobra.Command) netfault.Host {
		return netfault.Host{Dir: cmd.Flag("dir").Value.String()}
	}
	cmd.AddCommand(nodePartitionCmd(dir), heal, nodeDegradeCmd(dir), status, nodeExpireCmd(host))
	return cmd
}

// exemptFlags adds --ssh-port and --controller to cmd.
func exemptFlags(cmd *cobra.Command, ex *netfault.Exempt) {
	cmd.Flags().IntVar(&ex.SSHPort, "ssh-port", netfault.DefaultSSHPort, "this host's sshd port (never cut)")
	cmd.Flags().StringSliceVar(&ex.Controller, "controller", nil, "the controller's address (never cut; repeat or comma-separate)")
}

func nodePartitionCmd(dir *string) *cobra.Command {
	spec := netfault.PartitionSpec{For: 60 * time.Second}
	cmd := &cobra.Command{Use: "partition --peer ADDR…", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		return printResult(spec.Serve(cmd.Context(), *dir))
	}}
	cmd.Flags().StringSliceVar(&spec.Peers, "peer", nil, "address to cut off (repeat or comma-separate)")
	cmd.Flags().BoolVar(&spec.OneWay, "oneway", false, "drop only this host's outbound traffic to the peers")
	cmd.Flags().Var(durationFlag{&spec.For}, "for", "expiry (0 = until healed)")
	exemptFlags(cmd, &spec.Exempt)
	return cmd
}

func nodeDegradeCmd(dir *string) *cobra.Command {
	spec := netfault.DegradeSpec{For: 60 * time.Second}
	var loss, rate string
	var clear bool
	cmd := &cobra.Command{Use: "degrade [--peer ADDR…] [--delay D] [--loss P%] [--rate R] [--for D] | --clear", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		if clear {
			return printResult(netfault.ClearRequest{}.Serve(cmd.Context(), *dir))
		}
		var err error
		if loss != "" {
			if spec.Loss, err = netfault.ParseLoss(loss); err != nil {
				return netErr(err)
			}
		}
		if rate != "" {
			if spec.Rate, err = netfault.ParseRate(rate); err != nil {
				return netErr(err)
			}
		}
		return printResult(spec.Serve(cmd.Context(), *dir))
	}}
	cmd.Flags().StringSliceVar(&spec.Peers, "peer", nil, "degrade only traffic to this address (repeat; default: all)")
	cmd.Flags().Var(durationFlag{&spec.Delay}, "delay", "added delay (needs sch_netem)")
	cmd.Flags().StringVar(&loss, "loss", "", "share of packets dropped, e.g. 20%")
	cmd.Flags().StringVar(&rate, "rate", "", "rate limit, e.g. 1mbit")
	cmd.Flags().Var(durationFlag{&spec.For}, "for", "expiry (0 = until healed)")
	cmd.Flags().BoolVar(&clear, "clear", false, "remove every degradation (partitions stay)")
	exemptFlags(cmd, &spec.Exempt)
	return cmd
}

// nodeExpireCmd is the detached degradation timer.
func nodeExpireCmd(host func(*cobra.Command) netfault.Host) *cobra.Command {
	var id int
	var at string
	cmd := &cobra.Command{Use: "expire --id N --at TIME", Hidden: true, Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return usagef("expire: --at %q: want an RFC 3339 time", at)
		}
		if err := host(cmd).Expire(cmd.Context(), id, t); err != nil {
			return netErr(err)
		}
		return printJSON(map[string]int{"expired": id})
	}}
	cmd.Flags().IntVar(&id, "id", 0, "degradation id")
	cmd.Flags().StringVar(&at, "at", "", "when (RFC 3339)")
	return cmd
}

// netErr makes a bad fault a usage error (exit 2).
func netErr(err error) error {
	if errors.Is(err, netfault.ErrBadSpec) {
		return usageError{err.Error()}
	}
	return err
}
