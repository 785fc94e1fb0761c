package main

import (
	"github.com/spf13/cobra"

	"zkctl/ops"
)

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
