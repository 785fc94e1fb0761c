package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"zkctl/node"
	"zkctl/node/agent"
	"zkctl/node/wire"
	"zkctl/roles"
	"zkctl/roles/rolelog"
	"zkctl/schema"
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

	call := &cobra.Command{Use: "call JSON", Short: "answer one request of the controller (package node/wire)", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		return printJSON(agent.Serve(cmd.Context(), dir, []byte(args[0])))
	}}

	var home string
	info := &cobra.Command{Use: "info", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		return printResult(agent.Info{Home: home}.Serve(cmd.Context(), dir))
	}}
	info.Flags().StringVar(&home, "home", "", "ZooKeeper home to check")

	zkCmd := &cobra.Command{Use: "zk"}
	zkStart := &cobra.Command{Use: "start", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		return printResult(agent.StartServer{}.Serve(cmd.Context(), dir))
	}}
	var sigName string
	zkSignal := &cobra.Command{Use: "signal", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		sig, err := parseSignal(sigName)
		if err != nil {
			return err
		}
		return printResult(agent.SignalServer{Signal: sig}.Serve(cmd.Context(), dir))
	}}
	zkSignal.Flags().StringVarP(&sigName, "signal", "s", "TERM", "signal")
	zkTxnlog := &cobra.Command{Use: "txnlog", Short: "decode the server's transaction logs: one JSON line a file", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		logs, err := agent.TxnLogs{}.Serve(cmd.Context(), dir)
		if err != nil {
			return err
		}
		for _, f := range logs.Files {
			if _, err := fmt.Fprintf(os.Stdout, "%s\n", f); err != nil {
				return err
			}
		}
		return nil
	}}
	zkCmd.AddCommand(zkStart, zkSignal, zkTxnlog)

	status := &cobra.Command{Use: "status", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		return printResult(agent.Status{}.Serve(cmd.Context(), dir))
	}}
	reset := &cobra.Command{Use: "reset", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		_, err := agent.Reset{}.Serve(cmd.Context(), dir)
		return err
	}}
	stop := &cobra.Command{Use: "stop", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		_, err := agent.Stop{}.Serve(cmd.Context(), dir)
		return err
	}}
	var tailRole string
	var tailLines int
	var follow bool
	tail := &cobra.Command{Use: "tail", Short: "the logs, as a stream of lines (not a call: `zkctl tail` reads it)", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
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
		return printResult(agent.Memory{Name: args[0]}.Serve(cmd.Context(), dir))
	}}
	readLog := &cobra.Command{Use: "log NAME", Short: "the whole log of a process", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		l, err := agent.ReadLog{Name: args[0]}.Serve(cmd.Context(), dir)
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(l.Data)
		return err
	}}

	clock := &cobra.Command{Use: "clock", Short: "this host's time, for the controller's clock offset", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		return printResult(agent.Clock{}.Serve(cmd.Context(), dir))
	}}
	var hostSig string
	signalHost := &cobra.Command{Use: "signal-host", Short: "signal the server and every role at once", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		sig, err := parseSignal(hostSig)
		if err != nil {
			return err
		}
		return printResult(agent.SignalHost{Signal: sig}.Serve(cmd.Context(), dir))
	}}
	signalHost.Flags().StringVarP(&hostSig, "signal", "s", "KILL", "signal")

	cmd.AddCommand(call, info, zkCmd, status, reset, stop, tail, mem, readLog, signalHost, clock, nodeRolesCmd(&dir), nodeRunCmd(load))
	cmd.AddCommand(nodeNetCmd(&dir))
	return cmd
}

func nodeRolesCmd(dir *string) *cobra.Command {
	cmd := &cobra.Command{Use: "roles"}
	var n int
	var id, sigName string
	start := &cobra.Command{Use: "start ROLE [-- ARGS]", Args: cobra.MinimumNArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		if err := schema.CheckRole(args[0]); err != nil {
			return usageError{err.Error()}
		}
		return printResult(agent.StartRoles{Role: args[0], Count: n, ID: id, Args: args[1:]}.Serve(cmd.Context(), *dir))
	}}
	start.Flags().IntVarP(&n, "count", "n", 1, "instances")
	start.Flags().StringVar(&id, "id", "", "id of the first instance")
	sig := &cobra.Command{Use: "signal ROLE", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		s, err := parseSignal(sigName)
		if err != nil {
			return err
		}
		return printResult(agent.SignalRoles{Role: args[0], ID: id, Signal: s}.Serve(cmd.Context(), *dir))
	}}
	sig.Flags().StringVarP(&sigName, "signal", "s", "TERM", "signal")
	sig.Flags().StringVar(&id, "id", "", "only this instance")
	cmd.AddCommand(start, sig)
	return cmd
}

// parseSignal checks a signal's name for a call (a usage error when bad)
// and returns its short name.
func parseSignal(name string) (string, error) {
	sig, err := node.ParseSignal(name)
	if err != nil {
		return "", usageError{err.Error()}
	}
	return node.SignalName(sig), nil
}

// printResult prints a handler's result as JSON, or returns its error;
// a bad request is a usage error.
func printResult[R any](r R, err error) error {
	if errors.Is(err, wire.ErrBadRequest) {
		return usageError{err.Error()}
	}
	if err != nil {
		return err
	}
	return printJSON(r)
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
