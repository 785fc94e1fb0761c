package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"zkctl/node"
	"zkctl/roles"
	"zkctl/roles/rolelog"
)

// nodeCmd is the node agent, run by the controller on each host.
func nodeCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:    "node",
		Short:  "node agent: run on a host by the controller",
		Hidden: true,
	}
	cmd.PersistentFlags().StringVar(&dir, "dir", "", "the host's zkctl dir")
	cmd.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if dir == "" {
			return usagef("node: --dir is required")
		}
		return nil
	}
	load := func() (*node.Config, error) { return node.LoadConfig(dir) }

	var home string
	info := &cobra.Command{Use: "info", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		return printJSON(node.HostInfo(home))
	}}
	info.Flags().StringVar(&home, "home", "", "ZooKeeper home to check")

	zkCmd := &cobra.Command{Use: "zk"}
	zkStart := &cobra.Command{Use: "start", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		c, err := load()
		if err != nil {
			return err
		}
		p, err := node.StartZooKeeper(c)
		if err != nil {
			return err
		}
		return printJSON(p)
	}}
	var sigName string
	zkSignal := &cobra.Command{Use: "signal", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		sig, err := node.ParseSignal(sigName)
		if err != nil {
			return usageError{err.Error()}
		}
		p, err := node.SignalZooKeeper(node.Layout{Dir: dir}, sig, 5*time.Second)
		if err != nil {
			return err
		}
		return printJSON(p)
	}}
	zkSignal.Flags().StringVarP(&sigName, "signal", "s", "TERM", "signal")
	zkTxnlog := &cobra.Command{Use: "txnlog", Short: "decode the server's transaction logs: one JSON line a file", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		return writeTxnLogs(node.Layout{Dir: dir}, os.Stdout)
	}}
	zkCmd.AddCommand(zkStart, zkSignal, zkTxnlog)

	status := &cobra.Command{Use: "status", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		c, err := load()
		if err != nil {
			return err
		}
		st, err := node.HostStatus(c)
		if err != nil {
			return err
		}
		return printJSON(st)
	}}
	reset := &cobra.Command{Use: "reset", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		c, err := load()
		if err != nil {
			return err
		}
		return node.Reset(c)
	}}
	stop := &cobra.Command{Use: "stop", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		c, err := load()
		if err != nil {
			return err
		}
		return node.StopAll(c)
	}}
	var tailRole string
	var tailLines int
	var follow bool
	tail := &cobra.Command{Use: "tail", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		ctx, cancel := context.WithCancel(cmd.Context())
		defer cancel()
		if follow {
			go stopAtStdinEOF(cancel)
		}
		return node.Tail(ctx, node.Layout{Dir: dir}, tailRole, tailLines, follow, os.Stdout)
	}}
	tail.Flags().StringVar(&tailRole, "role", "", "only this role")
	tail.Flags().IntVarP(&tailLines, "lines", "n", 10, "last lines")
	tail.Flags().BoolVarP(&follow, "follow", "f", false, "follow")

	mem := &cobra.Command{Use: "mem NAME", Short: "memory of a process the agent started", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		m, err := node.ProcMemory(node.Layout{Dir: dir}, args[0])
		if err != nil {
			return err
		}
		return printJSON(m)
	}}
	readLog := &cobra.Command{Use: "log NAME", Short: "the whole log of a process", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		data, err := node.ReadLog(node.Layout{Dir: dir}, args[0])
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(data)
		return err
	}}

	clock := &cobra.Command{Use: "clock", Short: "this host's time, for the controller's clock offset", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		return printJSON(map[string]int64{"unix_nano": time.Now().UnixNano()})
	}}
	var hostSig string
	signalHost := &cobra.Command{Use: "signal-host", Short: "signal the server and every role at once", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		sig, err := node.ParseSignal(hostSig)
		if err != nil {
			return usageError{err.Error()}
		}
		procs, err := node.SignalHost(node.Layout{Dir: dir}, sig)
		if procs == nil {
			procs = []node.Proc{}
		}
		if err != nil {
			return err
		}
		return printJSON(procs)
	}}
	signalHost.Flags().StringVarP(&hostSig, "signal", "s", "KILL", "signal")

	cmd.AddCommand(info, zkCmd, status, reset, stop, tail, mem, readLog, signalHost, clock, nodeRolesCmd(load), nodeRunCmd(load))
	cmd.AddCommand(nodeNetCmd())
	return cmd
}

func nodeRolesCmd(load func() (*node.Config, error)) *cobra.Command {
	cmd := &cobra.Command{Use: "roles"}
	var n int
	var id, sigName string
	start := &cobra.Command{Use: "start ROLE [-- ARGS]", Args: cobra.MinimumNArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		role, err := roles.Lookup(args[0])
		if err != nil {
			return usageError{err.Error()}
		}
		c, err := load()
		if err != nil {
			return err
		}
		procs, err := node.StartRoles(c, role.Name, n, id, args[1:])
		if err != nil {
			return err
		}
		return printJSON(procs)
	}}
	start.Flags().IntVarP(&n, "count", "n", 1, "instances")
	start.Flags().StringVar(&id, "id", "", "id of the first instance")
	sig := &cobra.Command{Use: "signal ROLE", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		s, err := node.ParseSignal(sigName)
		if err != nil {
			return usageError{err.Error()}
		}
		c, err := load()
		if err != nil {
			return err
		}
		procs, err := node.SignalRoles(c, args[0], id, s, 5*time.Second)
		if err != nil {
			return err
		}
		if procs == nil {
			procs = []node.Proc{}
		}
		return printJSON(procs)
	}}
	sig.Flags().StringVarP(&sigName, "signal", "s", "TERM", "signal")
	sig.Flags().StringVar(&id, "id", "", "only this instance")
	cmd.AddCommand(start, sig)
	return cmd
}

// nodeRunCmd runs a role of the registry in the foreground: the process
// the agent spawns.
func nodeRunCmd(load func() (*node.Config, error)) *cobra.Command {
	var id string
	var o roles.Options
	cmd := &cobra.Command{Use: "run ROLE", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		role, err := roles.Lookup(args[0])
		if err != nil {
			return usageError{err.Error()}
		}
		c, err := load()
		if err != nil {
			return err
		}
		cfg, err := roleConfig(c, role.Name, id)
		if err != nil {
			return err
		}
		return role.Run(cmd.Context(), cfg, o)
	}}
	cmd.Flags().StringVar(&id, "id", "", "instance id")
	bindRoleOptions(cmd, &o)
	return cmd
}

func roleConfig(c *node.Config, role, id string) (roles.Config, error) {
	if id == "" {
		id = node.NewID(c.Host, role)
	}
	auth, err := roles.ReadAuth(c.AuthFile) // "" when there is none
	if err != nil {
		return roles.Config{}, err
	}
	log := rolelog.NewLogger(os.Stdout, slog.LevelInfo) // roles add role, id and host
	return roles.Config{Servers: c.Endpoints(), SessionTimeout: c.SessionTimeout, ID: id, Host: c.Host, Auth: auth, Logger: log}, nil
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	return enc.Encode(v)
}

// stopAtStdinEOF calls stop when standard input, a pipe from the
// controller's SSH session, reaches its end: the controller went away.
// Standard input that is not a pipe (/dev/null, a terminal) is ignored.
func stopAtStdinEOF(stop func()) {
	st, err := os.Stdin.Stat()
	if err != nil || st.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	stop()
}
