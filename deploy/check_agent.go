package deploy

import (
	"context"
	"fmt"
	"os/user"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node/agent"
	"zkctl/node/wire"
)

// agentLines are check's lines that the host's agent answers: one
// Preflight call (Java and ZooKeeper, its version, the ports, the disk,
// run_as's way to dir) and one Clock call, by an agent of bin's build
// (stageAgent).
func (c *Cluster) agentLines(ctx context.Context, h inventory.Host, t transport.Transport, bin binaryInfo, token string) []CheckLine {
	path, staged, err := stageAgent(ctx, h, t, bin, token)
	if err != nil {
		return []CheckLine{fail(h, "agent", err.Error(), "free space in /tmp, or a writable /tmp, for a copy of zkctl")}
	}
	defer unstage(ctx, t, staged)
	rep, err := callAt(ctx, c, h, t, path, c.preflightRequest(h))
	if err != nil {
		return []CheckLine{fail(h, "agent", err.Error(), "run `zkctl -v check` for the command; a zkctl built for the host's OS and architecture")}
	}
	privileged := h.IsLocal() || h.SSH.User == "root" || h.SSH.Sudo
	lines := []CheckLine{installLine(h, c.Inv.ZooKeeper, rep.Install, privileged), versionLine(h, rep.ZooKeeperVersion)}
	lines = append(lines, preflightLines(h, rep.Preflight)...)
	offset, rtt, err := clockOffsetBy(func() (agent.Time, error) { return callAt(ctx, c, h, t, path, agent.Clock{}) })
	if err != nil {
		return append(lines, warn(h, "clock", err.Error(), "the history judge cannot correct intervals for this host"))
	}
	return append(lines, clockLine(h, offset, rtt))
}

// preflightHost is deploy's preflight on a host it could dial: the agent's
// Preflight, judged as check judges it (dir, disk, ports); any FAIL line
// refuses the deploy. It returns the folder of the agent it copied to
// /tmp ("" if none), which the upload step moves into place and the
// deploy removes at its end.
func (c *Cluster) preflightHost(ctx context.Context, h inventory.Host, t transport.Transport, bin binaryInfo, token string) (string, error) {
	path, staged, err := stageAgent(ctx, h, t, bin, token)
	if err != nil {
		return "", err
	}
	rep, err := callAt(ctx, c, h, t, path, c.preflightRequest(h))
	if err == nil {
		err = failures(preflightLines(h, rep.Preflight))
	}
	if err != nil {
		unstage(ctx, t, staged)
		return "", err
	}
	return staged, nil
}

// preflightRequest asks about h's dir for the user ZooKeeper and the
// roles will run as, and about its ports.
func (c *Cluster) preflightRequest(h inventory.Host) agent.Preflight {
	runAs, owned := serviceUser(h), true
	if runAs == "" {
		switch {
		case h.IsLocal():
			runAs, owned = localUser(), false
		case h.SSH.User == "root" || h.SSH.Sudo:
			runAs = "root" // run_as = "root"
		default:
			runAs, owned = h.SSH.User, false // a plain login runs everything itself
		}
	}
	return agent.Preflight{RunAs: runAs, Owned: owned, Ports: hostPorts(h), Home: c.zooKeeperHome(h)}
}

func localUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "root"
}

// callAt is call with the agent binary at path, as root where the login
// allows (a copy staged in /tmp belongs to the login, or to root through
// sudo): for the calls that only look, before deploy has installed an
// agent or created the service user.
func callAt[R any](ctx context.Context, c *Cluster, h inventory.Host, t transport.Transport, path string, req wire.Request[R]) (R, error) {
	var zero R
	payload, err := wire.Encode(req)
	if err != nil {
		return zero, err
	}
	c.Log.Debug("agent", "host", h.Name, "agent", path, "call", req.Call(), "args", string(payload))
	out, err := transport.Output(ctx, t, transport.Join(path, "node", "--dir", h.Dir, "call", string(payload)))
	if err != nil {
		return zero, fmt.Errorf("node %s: %w", req.Call(), err)
	}
	r, err := wire.Decode(req, out)
	if err != nil {
		return zero, fmt.Errorf("node %s: %w", req.Call(), err)
	}
	return r, nil
}

// clockOffsetBy measures how far a host's clock is ahead of this
// machine's with one Clock call made by do: the host's time minus the
// midpoint of the call, with the round trip as its uncertainty. check and
// the history judge (ClockOffset) measure the same way.
func clockOffsetBy(do func() (agent.Time, error)) (offset, rtt time.Duration, err error) {
	t0 := time.Now()
	remote, err := do()
	t1 := time.Now()
	if err != nil {
		return 0, 0, err
	}
	return time.Unix(0, remote.UnixNano).Sub(t0.Add(t1.Sub(t0) / 2)), t1.Sub(t0), nil
}
