package deploy

import (
	"context"
	"errors"
	"sync"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
)

// preflightStep is deploy's check of a host before anything is changed
// on it: the connection (every hop, the login, sudo), then what `zkctl
// check` finds that would make the deploy fail (see checkFailures). It
// runs on every host, in its own phase, before the lock step (which
// creates <dir>/run) of any host: a refused deploy creates nothing
// anywhere.
type preflightStep struct{ bin binaryInfo }

func (preflightStep) Title() string { return "preflight" }

func (p preflightStep) Run(ctx context.Context, c *Cluster, h inventory.Host, t transport.Transport) error {
	return c.preflightHost(ctx, h, t, p.bin)
}

// errNotDeployed is the result of a host that passed the preflight, in a
// deploy that another host's preflight stopped.
var errNotDeployed = errors.New("not deployed: the preflight failed on another host")

// preflight runs preflightStep on every host; a host that fails it gets
// its row of results.
func (c *Cluster) preflight(ctx context.Context, bin binaryInfo, results []DeployResult) error {
	c.UI.Phase("preflight on %d hosts", len(c.Inv.Hosts))
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for i, h := range c.Inv.Hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.runSteps(ctx, h, []step{preflightStep{bin}})
			if err == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			results[i] = DeployResult{Host: h.Name, Err: err}
			errs = append(errs, err)
		}()
	}
	wg.Wait()
	if len(errs) == 0 {
		return nil
	}
	for i, h := range c.Inv.Hosts {
		if results[i].Host == "" {
			results[i] = DeployResult{Host: h.Name, Err: errNotDeployed}
		}
	}
	return errors.Join(errs...)
}
