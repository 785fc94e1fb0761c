package agent

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"zkctl/node"
	"zkctl/node/wire"
)

// serve sends req to an agent on dir, as the controller does, and decodes
// the answer.
func serve[R any](t *testing.T, dir string, req wire.Request[R]) (R, error) {
	t.Helper()
	env, err := wire.Encode(req)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(Agent{Dir: dir}.Serve(context.Background(), env))
	if err != nil {
		t.Fatal(err)
	}
	return wire.Decode(req, data)
}

// hostDir is a host folder with a node configuration and no process.
func hostDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	l := node.Layout{Dir: dir}
	if err := os.MkdirAll(l.Conf(), 0o755); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(node.Config{Host: "vm1", Dir: dir, MyID: 1, Address: "127.0.0.1", ClientPort: 1})
	if err := os.WriteFile(l.ConfigFile(), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestServe: the agent answers each request with its handler's result, or
// with the error code the controller maps to a sentinel.
func TestServe(t *testing.T) {
	dir := hostDir(t)
	before := time.Now()
	clock, err := serve(t, dir, wire.Clock{})
	if err != nil || clock.UnixNano < before.UnixNano() || clock.UnixNano > time.Now().UnixNano() {
		t.Errorf("clock: %+v, %v", clock, err)
	}
	procs, err := serve(t, dir, wire.SignalRoles{Role: "worker", Signal: "TERM"})
	if err != nil || procs == nil || len(procs) != 0 {
		t.Errorf("signal of no worker: %v, %v; want an empty list", procs, err)
	}
	_, err = serve(t, dir, wire.SignalRoles{Role: "worker", ID: "vm1-w0000", Signal: "KILL"})
	if !errors.Is(err, wire.ErrNotRunning) {
		t.Errorf("signal of a missing instance: %v, want ErrNotRunning", err)
	}
	_, err = serve(t, dir, wire.SignalRoles{Role: "worker", Signal: "USR1"})
	if !errors.Is(err, wire.ErrBadRequest) {
		t.Errorf("an unknown signal: %v, want ErrBadRequest", err)
	}
	_, err = serve(t, dir, wire.StartRoles{Role: "manager", Count: 1})
	if !errors.Is(err, wire.ErrBadRequest) || err.Error() != `bad request: unknown role "manager": want master, worker, client` {
		t.Errorf("an unknown role: %v, want ErrBadRequest naming the roles", err)
	}
	logs, err := serve(t, dir, wire.TxnLogs{})
	if err != nil || logs.Files == nil || len(logs.Files) != 0 {
		t.Errorf("transaction logs of a server that never ran: %+v, %v; want none", logs, err)
	}
	if _, err := serve(t, t.TempDir(), wire.Status{}); err == nil || errors.Is(err, wire.ErrBadRequest) {
		t.Errorf("status without a node configuration: %v, want a plain failure", err)
	}
}

// TestServeBadEnvelope: what is not a request, or names no call, is a bad
// request, answered (not a crash).
func TestServeBadEnvelope(t *testing.T) {
	for _, env := range []string{`not json`, `{"call":"format disk","args":{}}`, `{"call":"mem","args":{"name":7}}`} {
		resp := Agent{Dir: t.TempDir()}.Serve(context.Background(), []byte(env))
		if resp.Error == nil || resp.Error.Code != wire.CodeBadRequest {
			t.Errorf("%s: answer %+v, want a bad request", env, resp)
		}
	}
}

// TestEveryCallHasAHandler: each request type of package wire is served.
func TestEveryCallHasAHandler(t *testing.T) {
	hs := handlers()
	for _, c := range []string{wire.Info{}.Call(), wire.StartServer{}.Call(), wire.SignalServer{}.Call(), wire.TxnLogs{}.Call(),
		wire.Status{}.Call(), wire.Reset{}.Call(), wire.Stop{}.Call(), wire.Memory{}.Call(), wire.ReadLog{}.Call(), wire.Clock{}.Call(),
		wire.SignalHost{}.Call(), wire.StartRoles{}.Call(), wire.SignalRoles{}.Call(), wire.Partition{}.Call(), wire.Degrade{}.Call(),
		wire.ClearDegradations{}.Call(), wire.Heal{}.Call(), wire.NetStatus{}.Call()} {
		if hs[c] == nil {
			t.Errorf("no handler for %q", c)
		}
	}
	if len(hs) != 18 {
		t.Errorf("%d handlers, want 18 (one per call)", len(hs))
	}
}
