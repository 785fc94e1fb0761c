package main

import (
	"context"
	"os"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/spf13/cobra"

	"zkctl/controller"
	"zkctl/roles"
	"zkctl/roles/protocol"
)

func (a *app) submitCmd() *cobra.Command {
	var n int
	var dur, timeout time.Duration = 500 * time.Millisecond, 0
	var wait bool
	var id string
	cmd := &cobra.Command{
		Use:   "submit [-n N] [-d DURATION] [--wait] [--id CLIENT]",
		Short: "submit tasks from this machine, optionally waiting for their results",
		Args:  rangeArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := positive("-n", n); err != nil {
				return err
			}
			if dur > protocol.MaxTaskSeconds*time.Second {
				return usagef("-d %v: a task lasts at most %ds", dur, protocol.MaxTaskSeconds)
			}
			if id == "" {
				host, _ := os.Hostname()
				id = "submit-" + host + "-" + time.Now().Format("150405")
			}
			if err := protocol.CheckName(id); err != nil {
				return usagef("--id %q: %v", id, err)
			}
			c, err := a.cluster(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			return c.WithConn(ctx, func(conn *zk.Conn) error {
				return submit(ctx, c, conn, id, n, dur, wait)
			})
		},
	}
	cmd.Flags().IntVarP(&n, "count", "n", 10, "tasks to submit")
	cmd.Flags().VarP(durationFlag{&dur}, "duration", "d", "how long each task runs (e.g. 0.5 or 500ms)")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for every result and print it with its latency")
	cmd.Flags().StringVar(&id, "id", "", "client id: task names are ID-1, ID-2…; reusing a dead client's id cleans up after it")
	cmd.Flags().Var(durationFlag{&timeout}, "timeout", "with --wait: give up after this long (default: never)")
	return cmd
}

func submit(ctx context.Context, c *controller.Cluster, conn *zk.Conn, id string, n int, dur time.Duration, wait bool) error {
	auth, err := roles.ReadAuth(c.Inv.Cluster.AuthFile)
	if err != nil {
		return err
	}
	client := roles.Client{Conn: conn, ACL: roles.ACL(auth), ID: id}
	b, err := client.Submit(ctx, n, dur)
	if b.Removed > 0 {
		c.UI.Printf("removed %d results left by an earlier client %s", b.Removed, id)
	}
	if err != nil {
		return err
	}
	c.UI.Printf("submitted %d tasks %s … %s (%v each)", n, b.Tasks[0].Name, b.Tasks[n-1].Name, dur)
	if !wait {
		return nil
	}
	start := time.Now()
	err = client.Wait(ctx, b, func(r roles.Result) {
		c.UI.Printf("%s: %s (%v)", r.Task, r.Value, r.Latency.Round(time.Millisecond))
	})
	if err != nil {
		return err
	}
	c.UI.Printf("all %d results in %v", n, time.Since(start).Round(time.Millisecond))
	return nil
}
