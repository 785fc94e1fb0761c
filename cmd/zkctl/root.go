package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"zkctl/controller"
	"zkctl/deploy/inventory"
	"zkctl/node"
	"zkctl/roles"
)

// app holds the global flags and lazily loads the inventory.
type app struct {
	inventory string
	verbose   bool
}

func newRoot() *cobra.Command {
	a := &app{}
	root := &cobra.Command{
		Use:           "zkctl",
		Short:         "deploy a ZooKeeper ensemble, run masters/workers/clients on it, break it and watch",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	def := os.Getenv("ZKCTL_INVENTORY")
	if def == "" {
		def = "inventory.toml"
	}
	root.PersistentFlags().StringVarP(&a.inventory, "inventory", "i", def, "inventory file (env ZKCTL_INVENTORY)")
	root.PersistentFlags().BoolVarP(&a.verbose, "verbose", "v", false, "debug logs on stderr")
	root.SetFlagErrorFunc(flagError)
	// A runnable root with any arguments, so that an unknown command is a
	// usage error (cobra's own is a plain one: exit status 1).
	root.Args = cobra.ArbitraryArgs
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		return unknownCommand(cmd, args[0])
	}
	root.AddCommand(a.initCmd(), a.checkCmd(), a.deployCmd(), a.resetCmd(), a.restartCmd(), a.stopCmd(), a.statusCmd(), a.startCmd(), a.killCmd())
	root.AddCommand(a.faultCmds()...)
	root.AddCommand(
		a.benchCmd(),
		a.scenarioCmd(),
		a.tailCmd(), a.treeCmd(), a.historyCmd(), a.datalossCmd(), a.submitCmd(), a.watchCmd(), nodeCmd())
	return root
}

func (a *app) logger() *slog.Logger {
	if !a.verbose {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// cluster loads the inventory and returns a controller over it.
func (a *app) cluster(cmd *cobra.Command) (*controller.Cluster, error) {
	inv, err := inventory.Load(a.inventory)
	if err != nil {
		return nil, err
	}
	for _, w := range inv.Warnings {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	c := controller.NewCluster(inv, controller.NewUI(cmd.OutOrStdout()), a.logger())
	return c, nil
}

// flagError makes a flag error a usage error; an unknown flag also lists
// the flags the command accepts.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	if strings.HasPrefix(msg, "unknown flag") || strings.HasPrefix(msg, "unknown shorthand flag") {
		var names []string
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden {
				return
			}
			if f.Shorthand != "" {
				names = append(names, "-"+f.Shorthand+"/--"+f.Name)
			} else {
				names = append(names, "--"+f.Name)
			}
		})
		msg = fmt.Sprintf("%s: %s accepts %s", msg, cmd.CommandPath(), strings.Join(names, ", "))
	}
	return usageError{msg}
}

func unknownCommand(root *cobra.Command, name string) error {
	var names []string
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	hint := ""
	if s := root.SuggestionsFor(name); len(s) > 0 {
		hint = fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
	}
	return usagef("unknown command %q%s: want %s", name, hint, strings.Join(names, ", "))
}

// exactArgs is cobra.RangeArgs with a usage error naming what is expected.
func rangeArgs(min, max int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || len(args) > max {
			return usagef("%s: want %s", cmd.Name(), what)
		}
		return nil
	}
}

func checkRole(role string, zookeeperToo bool) error {
	_, err := roles.Lookup(role)
	if err == nil || (zookeeperToo && role == node.ZooKeeperName) {
		return nil
	}
	return usagef("unknown role %q: want %s", role, roleList(zookeeperToo, ", ", " or "))
}

// roleList names the roles of the registry (zookeeper first when asked
// for), joined by sep, the last by last: "zookeeper, master, worker or client".
func roleList(zookeeperToo bool, sep, last string) string {
	names := roles.Names()
	if zookeeperToo {
		names = append([]string{node.ZooKeeperName}, names...)
	}
	if last == "" || len(names) < 2 {
		return strings.Join(names, sep)
	}
	return strings.Join(names[:len(names)-1], sep) + last + names[len(names)-1]
}

// bindRoleOptions declares the flags of the roles' options on cmd, filling o.
func bindRoleOptions(cmd *cobra.Command, o *roles.Options) {
	for _, f := range o.Flags() {
		if f.Duration != nil {
			cmd.Flags().VarP(durationFlag{f.Duration}, f.Name, f.Short, f.Usage)
		} else {
			cmd.Flags().IntVarP(f.Int, f.Name, f.Short, 0, f.Usage)
		}
	}
}

func checkHost(c *controller.Cluster, name string) error {
	if _, err := c.Inv.Lookup(name); err != nil {
		return usageError{err.Error()}
	}
	return nil
}

// durationFlag accepts Go durations and plain seconds.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return "0s"
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	d, err := inventory.ParseDuration(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

func (f durationFlag) Type() string { return "duration" }

func positive(name string, n int) error {
	if n < 1 {
		return usagef("%s must be at least 1, got %s", name, strconv.Itoa(n))
	}
	return nil
}
