package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"zkctl/deploy"
	"zkctl/deploy/inventory"
)

func (a *app) initCmd() *cobra.Command {
	var o inventory.InitOptions
	var hosts string
	cmd := &cobra.Command{
		Use:   "init [FILE] [--hosts NAME=ADDR,…] [--user U] [--sudo]",
		Short: "write a commented inventory that deploys as it is (default ./inventory.toml); never overwrites",
		Args:  rangeArgs(0, 1, "at most one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := a.inventory
			if len(args) == 1 {
				path = args[0]
			}
			if hosts != "" {
				var err error
				if o.Hosts, err = inventory.ParseInitHosts(hosts); err != nil {
					return usageError{err.Error()}
				}
			}
			data, err := inventory.Init(path, o)
			if err != nil {
				return usageError{err.Error()}
			}
			if err := inventory.WriteNew(path, data); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s; next: zkctl -i %s check\n", path, path)
			return nil
		},
	}
	cmd.Flags().StringVar(&hosts, "hosts", "", "the servers: NAME=ADDR,… (ADDR an IP address, a name, or a Host alias of ~/.ssh/config)")
	cmd.Flags().StringVar(&o.User, "user", "", "SSH login user (default root)")
	cmd.Flags().BoolVar(&o.Sudo, "sudo", false, "the login uses passwordless sudo")
	return cmd
}

func (a *app) checkCmd() *cobra.Command {
	var bin string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check [--binary PATH] [--json]",
		Short: "preflight per host, changing nothing: reach, login, sudo, arch, Java/ZooKeeper, ports, disk, run_as's way to dir, clock; exit 1 if a deploy would fail",
		Args:  rangeArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.cluster(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			r, err := c.Check(cmd.Context(), bin)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(r); err != nil {
					return err
				}
			} else {
				deploy.PrintCheck(cmd.OutOrStdout(), r)
			}
			if r.Failed() {
				return errors.New("check: a deploy would fail")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&bin, "binary", "", "the zkctl binary deploy would push (default: this one)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "the lines as one JSON object")
	return cmd
}
