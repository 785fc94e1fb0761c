package main

import (
	"strconv"

	"github.com/spf13/cobra"

	"zkctl/history"
)

func (a *app) historyCmd() *cobra.Command {
	var since, session string
	var f history.Filter
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "history [--since ZXID] [--path PREFIX] [--session ID] [--json]",
		Short: "the ensemble's committed transactions, merged from every server's transaction log",
		Long: "Reads the transaction log of every server (through each host's agent), merges them into the\n" +
			"ensemble's committed history (a transaction counts when a quorum holds it) and prints it like\n" +
			"`git log`: zxid, time, session and the role instance it belongs to, operation, path and data.\n" +
			"ZXID and ID are hex (0x…) or decimal.",
		Args: rangeArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if f.Since, err = parseID("--since", since); err != nil {
				return err
			}
			if f.Session, err = parseID("--session", session); err != nil {
				return err
			}
			c, err := a.cluster(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			h, err := history.Observing(c.Inv.ObserverNames()...)(c.TxnLogs(cmd.Context(), c.Inv.ServerHosts()))
			if err != nil {
				return err
			}
			if asJSON {
				return h.PrintJSON(cmd.OutOrStdout(), f)
			}
			return h.Print(cmd.OutOrStdout(), f)
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "only transactions from this zxid on")
	cmd.Flags().StringVar(&f.PathPrefix, "path", "", "only transactions touching a path with this prefix")
	cmd.Flags().StringVar(&session, "session", "", "only this session's transactions")
	cmd.Flags().BoolVar(&asJSON, "json", false, "JSON lines, one transaction each")
	return cmd
}

// parseID parses a zxid or session id in hex (0x…) or decimal; "" is 0.
func parseID(flag, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil || n < 0 {
		return 0, usagef("%s %q: want a zxid or session id in hex (0x…) or decimal", flag, s)
	}
	return n, nil
}
