package deploy

import (
	"context"
	"time"

	"zkctl/controller"
	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
)

// A step is one thing an action does on one host, in the manner of
// k0sctl's phases: Title names it in errors ("vm1: <title>: …") and Run
// does it over the host's current connection. Steps print their own
// "host: message" lines through the cluster's UI.
//
// The actions are lists of steps, each readable in one file: deploy.go,
// reset.go, stop.go. One step type a file, step_*.go.
type step interface {
	Title() string
	Run(ctx context.Context, c *cluster, h inventory.Host, t transport.Transport) error
}

// A releaser is a step that acquires something the host must be given
// back (the deploy lock). Once its Run succeeded, Release runs when the
// list ends, however it ends: success, a failing step, or ctx cancelled.
type releaser interface {
	step
	Release(ctx context.Context, c *cluster, h inventory.Host, t transport.Transport)
}

// releaseTimeout bounds the releases run after the list ends.
const releaseTimeout = 10 * time.Second

// runSteps runs steps in order on h and stops at the first failure, which
// it returns as a *controller.HostError naming the step. Each step gets the host's
// current connection, so one that reconnected hands the new one on. What
// the steps acquired is released at the end in reverse order, under a
// context that outlives a cancelled ctx by up to releaseTimeout.
func (c *cluster) runSteps(ctx context.Context, h inventory.Host, steps []step) error {
	var held []releaser
	defer func() { c.release(ctx, h, held) }()
	for _, st := range steps {
		if err := ctx.Err(); err != nil {
			return controller.StepError(h, st.Title(), err)
		}
		t, err := c.Transport(ctx, h)
		if err != nil {
			return err
		}
		if err := st.Run(ctx, c, h, t); err != nil {
			return controller.StepError(h, st.Title(), err)
		}
		if r, ok := st.(releaser); ok {
			held = append(held, r)
		}
	}
	return nil
}

// release gives back what the steps acquired, last acquired first.
func (c *cluster) release(ctx context.Context, h inventory.Host, held []releaser) {
	if len(held) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	for i := len(held) - 1; i >= 0; i-- {
		t, err := c.Transport(ctx, h)
		if err != nil {
			c.UI.Host(h.Name, "could not reconnect to release %s: %v", held[i].Title(), err)
			return
		}
		held[i].Release(ctx, c, h, t)
	}
}

// A phase is one "==> header" of an action. Its steps run in order on each
// of its hosts, the hosts in parallel; or, for what spans the cluster
// (waiting for quorum), run runs once. An empty header prints none.
type phase struct {
	header string
	hosts  []inventory.Host
	steps  []step
	run    func(ctx context.Context, c *cluster) error
}

// runPhases runs phases in order and stops at the first that fails.
func (c *cluster) runPhases(ctx context.Context, phases []phase) error {
	for _, p := range phases {
		if p.header != "" {
			c.UI.Phase("%s", p.header)
		}
		var err error
		if p.run != nil {
			err = p.run(ctx, c)
		} else {
			err = c.Each(ctx, p.hosts, func(ctx context.Context, h inventory.Host, _ transport.Transport) error {
				return c.runSteps(ctx, h, p.steps)
			})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// truncate shortens s to n bytes and an ellipsis.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
