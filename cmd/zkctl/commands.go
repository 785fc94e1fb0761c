package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"zkctl/deploy"
	"zkctl/node"
	"zkctl/ops"
	"zkctl/roles/protocol"
)

func (a *app) deployCmd() *cobra.Command {
	var o deploy.DeployOptions
	var acceptNew bool
	cmd := &cobra.Command{
		Use:   "deploy [INVENTORY]",
		Short: "push zkctl and the ZooKeeper configuration to every host, provisioning what is missing",
		Args:  rangeArgs(0, 1, "at most one INVENTORY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				a.inventory = args[0]
			}
			c, err := a.cluster(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			c.AcceptNew = acceptNew
			start := time.Now()
			results, err := c.Deploy(cmd.Context(), o)
			if o.DryRun {
				return err
			}
			if len(results) > 0 {
				fmt.Fprintln(cmd.OutOrStdout())
				deploy.PrintDeploySummary(cmd.OutOrStdout(), results)
			}
			if err != nil {
				return fmt.Errorf("deploy failed:\n%w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deployed to %d hosts in %v; a new ensemble: zkctl reset -y\n", len(results), time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Binary, "binary", "", "zkctl binary to push (default: this one)")
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "print the plan (uploads, configuration differences, the roll) and change nothing")
	cmd.Flags().BoolVar(&o.NoRestart, "no-restart", false, "write the files and leave the roll that applies a changed server configuration pending")
	cmd.Flags().BoolVar(&acceptNew, "accept-new", false, "add unknown SSH host keys to known_hosts (changed keys are still refused)")
	return cmd
}

func (a *app) resetCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "reset [-y]",
		Short: "stop every role, wipe and restart the ensemble, wait for quorum, create the base znodes",
		Args:  rangeArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.cluster(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			if !yes {
				if err := confirm(fmt.Sprintf("reset wipes ZooKeeper's data on %s. Continue?", strings.Join(c.Inv.HostNames(), ", "))); err != nil {
					return err
				}
			}
			return c.Reset(cmd.Context())
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask")
	return cmd
}

// confirm asks on a terminal; without one it refuses (use -y).
func confirm(question string) error {
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return usagef("refusing to reset without a terminal to ask on: pass -y")
	}
	fmt.Fprintf(os.Stderr, "%s [y/N] ", question)
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		return fmt.Errorf("reset cancelled")
	}
	return nil
}

func (a *app) stopCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "stop every role and ZooKeeper server on every host, keeping data and logs",
		Args:  rangeArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.cluster(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			c.UI.Phase("stop roles and ZooKeeper on %s", strings.Join(c.Inv.HostNames(), ", "))
			if err := c.StopAll(cmd.Context()); err != nil {
				return err
			}
			c.UI.Printf("stopped; `zkctl reset -y` starts afresh")
			return nil
		},
	}
}

func (a *app) statusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [--json]",
		Short: "ensemble modes, elected master, workers, task counts, role processes",
		Args:  rangeArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.cluster(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			return deploy.PrintStatus(cmd.OutOrStdout(), c.Status(cmd.Context()), asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object")
	return cmd
}

func (a *app) startCmd() *cobra.Command {
	var op ops.Start
	cmd := &cobra.Command{
		Use:   "start ROLE HOST [-n N] [-c C] | start zookeeper",
		Short: "start " + roleList(true, ", ", " or ") + " processes on a host; zookeeper without HOST: every server that is down, then wait for quorum",
		Args:  rangeArgs(1, 2, "ROLE HOST (ROLE: "+roleList(true, "|", "")+"), or zookeeper alone"),
		RunE: func(cmd *cobra.Command, args []string) error {
			op.Role = args[0]
			if err := checkRole(op.Role, true); err != nil {
				return err
			}
			if len(args) == 1 {
				if op.Role != node.ZooKeeperName {
					return usagef("start %s: want a HOST; only zookeeper starts without one (every server that is down)", op.Role)
				}
				return a.startDownServers(cmd)
			}
			op.Host = args[1]
			if err := positive("-n", op.Count); err != nil {
				return err
			}
			if err := positiveIfSet(cmd, "concurrency", "-c", op.Options.Concurrency); err != nil {
				return err
			}
			if err := positiveIfSet(cmd, "tasks", "--tasks", op.Options.Tasks); err != nil {
				return err
			}
			if d := op.Options.Duration; d > protocol.MaxTaskSeconds*time.Second {
				return usagef("-d %v: a task lasts at most %ds", d, protocol.MaxTaskSeconds)
			}
			c, err := a.cluster(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := checkHost(c, op.Host); err != nil {
				return err
			}
			rec, err := op.Run(cmd.Context(), c)
			for _, p := range rec.Procs {
				c.UI.Host(op.Host, "started %s pid %d, log %s", p.Name, p.PID, p.Log)
			}
			return err
		},
	}
	cmd.Flags().IntVarP(&op.Count, "count", "n", 1, "instances to start")
	cmd.Flags().StringVar(&op.ID, "id", "", "instance id (default: random); a client reusing a dead one's id cleans up after it")
	bindRoleOptions(cmd, &op.Options)
	return cmd
}

// startDownServers is `zkctl start zookeeper` without a host.
func (a *app) startDownServers(cmd *cobra.Command) error {
	c, err := a.cluster(cmd)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = ops.StartServers{}.Run(cmd.Context(), c)
	return err
}

// positiveIfSet is positive for a flag that was given.
func positiveIfSet(cmd *cobra.Command, flag, name string, n int) error {
	if !cmd.Flags().Changed(flag) {
		return nil
	}
	return positive(name, n)
}

func (a *app) killCmd() *cobra.Command {
	var sigName string
	var op ops.Signal
	cmd := &cobra.Command{
		Use:   "kill ROLE HOST [-s SIGNAL] [--id ID]",
		Short: "signal every instance of a role on a host (TERM, KILL, STOP, CONT, INT, HUP)",
		Args:  rangeArgs(2, 2, "ROLE HOST (ROLE: "+roleList(true, "|", "")+")"),
		RunE: func(cmd *cobra.Command, args []string) error {
			op.Role, op.Host = args[0], args[1]
			if err := checkRole(op.Role, true); err != nil {
				return err
			}
			sig, err := node.ParseSignal(sigName)
			if err != nil {
				return usageError{err.Error()}
			}
			op.Signal = sig
			c, err := a.cluster(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := checkHost(c, op.Host); err != nil {
				return err
			}
			rec, err := op.Run(cmd.Context(), c)
			if err == nil && len(rec.Procs) == 0 {
				c.UI.Host(op.Host, "no live %s", op.Role)
			}
			for _, p := range rec.Procs {
				c.UI.Host(op.Host, "%s → %s pid %d: now %s", rec.Signal, p.Name, p.PID, p.State)
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&sigName, "signal", "s", "TERM", "TERM, KILL, STOP, CONT, INT or HUP")
	cmd.Flags().StringVar(&op.ID, "id", "", "only the instance with this id (see `zkctl status`)")
	return cmd
}

func (a *app) tailCmd() *cobra.Command {
	var o deploy.TailOptions
	cmd := &cobra.Command{
		Use:   "tail [HOST] [ROLE] [-f] [-n LINES]",
		Short: "show the logs of every host and role, lines prefixed \"HOST ROLE[-ID] |\"",
		Args:  rangeArgs(0, 2, "[HOST] [ROLE]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.cluster(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			var hostNames []string
			for _, arg := range args {
				if _, ok := c.Inv.Host(arg); ok && len(hostNames) == 0 {
					hostNames = []string{arg}
				} else if checkRole(arg, true) == nil && o.Role == "" {
					o.Role = arg
				} else {
					return usagef("%q is neither a host (%s) nor a role (%s)", arg, strings.Join(c.Inv.HostNames(), ", "), roleList(true, ", ", ""))
				}
			}
			if o.Lines < 0 {
				return usagef("-n must be 0 or more")
			}
			hosts, err := c.Hosts(hostNames...)
			if err != nil {
				return usageError{err.Error()}
			}
			return c.Tail(cmd.Context(), hosts, o, cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVarP(&o.Follow, "follow", "f", false, "keep streaming until Ctrl-C")
	cmd.Flags().IntVarP(&o.Lines, "lines", "n", 10, "last lines of each log")
	return cmd
}

func (a *app) treeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "tree [PATH]",
		Short: "draw the znodes under PATH (default /) like zk-shell's tree",
		Args:  rangeArgs(0, 1, "at most one PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := "/"
			if len(args) == 1 {
				root = args[0]
			}
			if !strings.HasPrefix(root, "/") {
				return usagef("PATH %q must start with /", root)
			}
			c, err := a.cluster(cmd)
			if err != nil {
				return err
			}
			return c.WithConn(cmd.Context(), func(conn *zk.Conn) error {
				return deploy.Tree(cmd.OutOrStdout(), conn, root)
			})
		},
	}
}
