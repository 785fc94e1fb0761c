package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node"
)

// DeployOptions are the knobs of `zkctl deploy`.
type DeployOptions struct {
	Binary    string // the zkctl binary to push; "" = the running one
	DryRun    bool   // print the plan (uploads, config diffs, the roll) and change nothing
	NoRestart bool   // write the files, leave the roll that applies them pending
}

// DeployResult is one host's row of the deploy summary.
type DeployResult struct {
	Host      string
	Binary    string // "pushed" or "skipped"
	Bytes     int64  // binary bytes sent
	ZooKeeper string // "found", "installed (apt)", "unpacked (tarball)"
	Took      time.Duration
	Err       error
}

// deploySteps is what deploy does on one host, in order. s carries what
// the steps learn for the later ones, and the host's summary row.
func deploySteps(s *hostDeploy) []step {
	return []step{
		lockStep{},                   // one deploy at a time; released when the list ends, however it ends
		idStep{},                     // a deployed host keeps its myid
		quickCheckStep{s},            // nothing changed since the last deploy? then the long way is skipped
		longWay{s, probeStep{s}},     // one command: dir tree, uname -m, installed agent's sha256 and view
		longWay{s, archStep{s}},      // refuse a binary built for another architecture
		longWay{s, uploadStep{s}},    // unless the same binary is there; reconnects when the connection is lost
		longWay{s, provisionStep{s}}, // Java and ZooKeeper: found, unpacked from a tarball, or apt
		appStep{s},                   // [roles.*]: files into <dir>/app (sha256 skip), packages where missing
		configStep{},                 // conf/node.json and conf/auth, on both ways
		ownerStep{},                  // dir belongs to run_as (created where missing), with root or sudo
		longWay{s, recordStep{s}},    // what was deployed, for the next quick check
	}
}

// hostDeploy is what the deploy steps of one host learn and hand on.
type hostDeploy struct {
	bin      binaryInfo
	upToDate bool       // the quick check found nothing changed
	probe    hostProbe  // what the long way's first command learnt
	known    *node.Info // the installed agent's view of Java and ZooKeeper, nil if it must be asked
	info     node.Info  // Java and ZooKeeper as provisioned
	result   DeployResult
	staged   string // the folder in /tmp where the preflight copied bin, "" if none
}

// longWay is a step of the long way: skipped when the quick check found
// nothing changed.
type longWay struct {
	s *hostDeploy
	step
}

func (l longWay) Run(ctx context.Context, c *Cluster, h inventory.Host, t transport.Transport) error {
	if l.s.upToDate {
		return nil
	}
	return l.step.Run(ctx, c, h, t)
}

// Deploy pushes the binary, provisions Java and ZooKeeper and writes the
// node configuration on every host in parallel (deploySteps), then
// applies a changed server configuration by a roll (apply.go). It is
// idempotent: an unchanged binary is not sent again. It refuses, before
// it writes anything, to add or remove servers of a running ensemble;
// with DryRun it prints its plan instead (dryrun.go).
func (c *Cluster) Deploy(ctx context.Context, opts DeployOptions) ([]DeployResult, error) {
	bin := opts.Binary
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find own binary: %w", err)
		}
		bin = exe
	}
	local, err := describeBinary(bin)
	if err != nil {
		return nil, err
	}
	if opts.DryRun {
		return nil, c.dryRun(ctx, local, c.configStates(ctx, c.Inv.ServerHosts()))
	}
	changed := c.changedServers(ctx)
	states := c.configStates(ctx, changed)
	if err := checkMembership(states); err != nil {
		return nil, err
	}
	results := make([]DeployResult, len(c.Inv.Hosts))
	staged, err := c.preflight(ctx, local, results)
	if err != nil {
		return results, err
	}
	defer c.unstageAll(ctx, staged)
	c.UI.Phase("deploy %s (%s, %s) to %d hosts", filepath.Base(bin), local.arch, humanBytes(local.size), len(c.Inv.Hosts))
	var mu sync.Mutex
	err = c.Each(ctx, c.Inv.Hosts, func(ctx context.Context, h inventory.Host, _ transport.Transport) error {
		start := time.Now()
		s := &hostDeploy{bin: local, staged: staged[indexOf(c.Inv.Hosts, h.Name)]}
		err := c.runSteps(ctx, h, deploySteps(s))
		r := s.result
		r.Host, r.Took, r.Err = h.Name, time.Since(start), err
		mu.Lock()
		results[indexOf(c.Inv.Hosts, h.Name)] = r
		mu.Unlock()
		return err
	})
	for i := range results {
		if results[i].Host == "" {
			results[i] = DeployResult{Host: c.Inv.Hosts[i].Name, Err: errors.New("unreachable")}
		}
	}
	if err != nil {
		return results, err
	}
	// Asked again now that every agent is this deploy's and node.json is written.
	return results, c.applyConfig(ctx, c.configStates(ctx, changed), opts.NoRestart)
}

func indexOf(hosts []inventory.Host, name string) int {
	for i, h := range hosts {
		if h.Name == name {
			return i
		}
	}
	return -1
}

// PrintDeploySummary writes the summary table of a deploy.
func PrintDeploySummary(w io.Writer, results []DeployResult) {
	rows := make([][]string, len(results))
	for i, r := range results {
		status := "ok"
		if r.Err != nil {
			status = "FAILED"
		}
		bin := r.Binary
		if r.Binary == "pushed" {
			bin = "pushed " + humanBytes(r.Bytes)
		}
		rows[i] = []string{r.Host, bin, r.ZooKeeper, r.Took.Round(time.Millisecond).String(), status}
	}
	Table(w, []string{"HOST", "BINARY", "ZOOKEEPER", "TIME", "RESULT"}, rows)
}
