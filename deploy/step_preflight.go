package deploy

import (
	"context"
	"errors"
	"sync"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
)

// preflightStep is deploy's check of a host before anything is changed
// on it: what `zkctl check` finds that would make the deploy fail (see
// preflightHost). It runs on every host, in its own phase, after every
// host was dialed (every hop, the login, sudo) and before the lock step
// (which creates <dir>/run) of any host: a refused deploy creates
// nothing anywhere. The agent it copied for the check is the one the
// upload step moves into place.
type preflightStep struct {
	bin    binaryInfo
	token  string  // names the folder of the copy (stageAgent)
	staged *string // where the copy is, for the upload step
}

func (preflightStep) Title() string { return "preflight" }

// Run retries on a new connection when one is lost (during the copy, say),
// as the upload step does.
func (p preflightStep) Run(ctx context.Context, c *Cluster, h inventory.Host, _ transport.Transport) error {
	return c.retry(ctx, h, p.Title(), func(t transport.Transport) error {
		staged, err := c.preflightHost(ctx, h, t, p.bin, p.token)
		*p.staged = staged
		return err
	})
}

// errNotDeployed is the result of a host that passed the preflight, in a
// deploy that another host's preflight stopped.
var errNotDeployed = errors.New("not deployed: the preflight failed on another host")

// preflight dials every host, then runs preflightStep on each; a host that
// fails gets its row of results. It returns each host's staged agent
// folder ("" for none), by position.
func (c *Cluster) preflight(ctx context.Context, bin binaryInfo, results []DeployResult) ([]string, error) {
	c.UI.Phase("preflight on %d hosts", len(c.Inv.Hosts))
	staged := make([]string, len(c.Inv.Hosts))
	token := stageToken()
	err := c.eachRow(ctx, results, func(ctx context.Context, i int, h inventory.Host) error {
		_, err := c.Transport(ctx, h)
		return err
	})
	if err == nil {
		err = c.eachRow(ctx, results, func(ctx context.Context, i int, h inventory.Host) error {
			return c.runSteps(ctx, h, []step{preflightStep{bin: bin, token: token, staged: &staged[i]}})
		})
	}
	if err == nil {
		return staged, nil
	}
	for i, h := range c.Inv.Hosts {
		if results[i].Host == "" {
			results[i] = DeployResult{Host: h.Name, Err: errNotDeployed}
		}
	}
	c.unstageAll(ctx, staged)
	return nil, err
}

// eachRow runs fn on every host in parallel; a host's failure fills its
// row of results. The failures are joined.
func (c *Cluster) eachRow(ctx context.Context, results []DeployResult, fn func(ctx context.Context, i int, h inventory.Host) error) error {
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for i, h := range c.Inv.Hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx, i, h); err != nil {
				mu.Lock()
				defer mu.Unlock()
				results[i] = DeployResult{Host: h.Name, Err: err}
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// unstageAll removes the agents the preflight copied to /tmp.
func (c *Cluster) unstageAll(ctx context.Context, staged []string) {
	for i, dir := range staged {
		if dir == "" {
			continue
		}
		if t, err := c.Transport(context.WithoutCancel(ctx), c.Inv.Hosts[i]); err == nil {
			unstage(ctx, t, dir)
		}
	}
}
