package deploy

import (
	"context"
	"fmt"
	"os/user"

	"zkctl/controller"
	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node/agent"
	"zkctl/node/wire"
)

// agentLines are check's lines that the host's agent answers: one
// Preflight call (Java and ZooKeeper, its version, the ports, the disk,
// run_as's way to dir) and one Clock call, by an agent of bin's build
// (preflightCall).
func (c *cluster) agentLines(ctx context.Context, h inventory.Host, t transport.Transport, bin binaryInfo, token string) []CheckLine {
	rep, path, staged, err := c.preflightCall(ctx, h, t, bin, token)
	defer unstage(ctx, t, staged)
	if err != nil {
		return []CheckLine{fail(h, "agent", err.Error(), "run `zkctl -v check` for the commands; a writable /tmp with room for a copy of zkctl")}
	}
	privileged := h.IsLocal() || h.SSH.User == "root" || h.SSH.Sudo
	lines := []CheckLine{installLine(h, c.Inv.ZooKeeper, rep.Install, privileged), versionLine(h, rep.ZooKeeperVersion)}
	lines = append(lines, preflightLines(h, rep.Preflight)...)
	offset, rtt, err := controller.ClockOffsetBy(func() (agent.Time, error) { return callAt(ctx, c, h, t, path, agent.Clock{}) })
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
func (c *cluster) preflightHost(ctx context.Context, h inventory.Host, t transport.Transport, bin binaryInfo, token string) (string, error) {
	rep, _, staged, err := c.preflightCall(ctx, h, t, bin, token)
	if err == nil {
		err = failures(preflightLines(h, rep.Preflight))
	}
	if err != nil {
		unstage(ctx, t, staged)
		return "", err
	}
	return staged, nil
}

// notThisBuild is the exit status of preflightCall's guard: the host has no
// agent of this build installed.
const notThisBuild = 97

// preflightCall makes the Preflight call with an agent of bin's build: the
// installed one when its sha256 is bin's (checked by the same command, so
// an unchanged re-deploy pays one round trip), else a copy staged in /tmp
// (stageAgent; on a local host, bin itself). It returns the answer, the
// agent used, and the staged folder ("" if none) for unstage.
func (c *cluster) preflightCall(ctx context.Context, h inventory.Host, t transport.Transport, bin binaryInfo, token string) (agent.PreflightReport, string, string, error) {
	req := c.preflightRequest(h)
	if h.IsLocal() {
		rep, err := callAt(ctx, c, h, t, bin.path, req)
		return rep, bin.path, "", err
	}
	installed := controller.AgentPath(h)
	guard := fmt.Sprintf(`[ "$(sha256sum %s 2>/dev/null | cut -d' ' -f1)" = %s ] || exit %d; exec `,
		transport.Quote(installed), bin.sha256, notThisBuild)
	rep, err := controller.CallCommand(ctx, c.Cluster, h, t, guard, installed, req)
	if status, exited := transport.ExitStatus(err); !exited || status != notThisBuild {
		return rep, installed, "", err
	}
	path, staged, err := stageAgent(ctx, t, bin, token)
	if err != nil {
		return rep, "", "", err
	}
	rep, err = callAt(ctx, c, h, t, path, req)
	return rep, path, staged, err
}

// preflightRequest asks about h's dir for the user ZooKeeper and the
// roles will run as, and about its ports.
func (c *cluster) preflightRequest(h inventory.Host) agent.Preflight {
	runAs, owned := controller.ServiceUser(h), true
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
func callAt[R any](ctx context.Context, c *cluster, h inventory.Host, t transport.Transport, path string, req wire.Request[R]) (R, error) {
	return controller.CallCommand(ctx, c.Cluster, h, t, "", path, req)
}
