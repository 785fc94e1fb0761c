package controller

import (
	"context"
	"fmt"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/internal/retry"
	"zkctl/node/wire"
)

// The agent client: every call of the controller on a host's agent goes
// through CallOn, which sends one request (a wire.Request: the request types
// of node/agent and node/netfault) and decodes its answer. An agent's
// error comes back as a *wire.Error, which matches (errors.Is) the
// sentinel of its code: wire.ErrMissingTool, wire.ErrPrivilege,
// wire.ErrNotRunning, wire.ErrBadRequest. Nobody reads an agent error's
// text. Call is the client of any call; the methods of Cluster (procs.go)
// name the calls many callers make.

// CallOn runs req on h's agent over t, a connection the caller holds, and
// returns its answer.
func CallOn[R any](ctx context.Context, c *Cluster, h inventory.Host, t transport.Transport, req wire.Request[R]) (R, error) {
	return callBy(c, h, req, nil, func(payload string) ([]byte, error) {
		cmd := agentCommandAs(h, wire.AsRoot(req.Call()), []string{"call", payload})
		var out []byte
		err := c.agentStartRetry(h).Do(ctx, func(int) error {
			var err error
			out, err = transport.Output(ctx, t, cmd)
			return err
		})
		return out, err
	})
}

// CallCommand runs req on the agent binary at path (not the installed
// one: a copy staged in /tmp, say), once, over t, with prefix (shell)
// before the agent's command. A failure of the command keeps its exit
// status (transport.ExitStatus).
func CallCommand[R any](ctx context.Context, c *Cluster, h inventory.Host, t transport.Transport, prefix, path string, req wire.Request[R]) (R, error) {
	return callBy(c, h, req, []any{"agent", path}, func(payload string) ([]byte, error) {
		return transport.Output(ctx, t, prefix+transport.Join(path, "node", "--dir", h.Dir, "call", payload))
	})
}

// callBy encodes req, runs it with run and decodes the answer; logAttrs
// are added to the debug line of the call.
func callBy[R any](c *Cluster, h inventory.Host, req wire.Request[R], logAttrs []any,
	run func(payload string) ([]byte, error)) (R, error) {
	var zero R
	payload, err := wire.Encode(req)
	if err != nil {
		return zero, err
	}
	attrs := append([]any{"host", h.Name}, logAttrs...)
	c.Log.Debug("agent", append(attrs, "call", req.Call(), "args", string(payload))...)
	out, err := run(string(payload))
	if err != nil {
		return zero, fmt.Errorf("node %s: %w", req.Call(), err)
	}
	r, err := wire.Decode(req, out)
	if err != nil {
		return zero, fmt.Errorf("node %s: %w", req.Call(), err)
	}
	return r, nil
}

// Call runs req on h's agent, on h's connection; a failure is a HostError
// of step.
func Call[R any](ctx context.Context, c *Cluster, h inventory.Host, step string, req wire.Request[R]) (R, error) {
	t, err := c.Transport(ctx, h)
	if err != nil {
		var zero R
		return zero, err
	}
	r, err := CallOn(ctx, c, h, t, req)
	return r, StepError(h, step, err)
}

// agentStartRetry is call's retry policy. Starting the agent right after
// this process uploaded it may fail for an instant: a child forked
// elsewhere in this process (another host's command, on the local
// transport) can still hold the new binary open for writing — the
// fork/exec race of golang.org/issue/22315 — and exec says ETXTBSY. The
// shell reports a command it found but could not execute with exit status
// 126; 126 from an agent this Cluster has just pushed is taken for that
// race and retried, for about a second in all. Any other failure, and 126
// from an agent it did not push (one that is not executable), is returned
// at once.
func (c *Cluster) agentStartRetry(h inventory.Host) retry.Policy {
	return retry.Policy{
		Attempts: 10, Delay: 20 * time.Millisecond, Factor: 1.5, Max: 200 * time.Millisecond,
		Retryable: func(err error) bool {
			status, exited := transport.ExitStatus(err)
			return exited && status == notExecutable && c.pushed(h)
		},
	}
}

// notExecutable is the shell's exit status for a command it found but
// could not execute.
const notExecutable = 126

// MarkUploaded notes that this Cluster pushed the host's agent.
func (c *Cluster) MarkUploaded(h inventory.Host) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.uploaded == nil {
		c.uploaded = map[string]bool{}
	}
	c.uploaded[h.Name] = true
}

// pushed reports whether this Cluster pushed the host's agent.
func (c *Cluster) pushed(h inventory.Host) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.uploaded[h.Name]
}
