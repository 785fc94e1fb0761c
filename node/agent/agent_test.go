package agent

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"zkctl/node"
	"zkctl/node/netfault"
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
	data, err := json.Marshal(Serve(context.Background(), dir, env))
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
	clock, err := serve(t, dir, Clock{})
	if err != nil || clock.UnixNano < before.UnixNano() || clock.UnixNano > time.Now().UnixNano() {
		t.Errorf("clock: %+v, %v", clock, err)
	}
	procs, err := serve(t, dir, SignalRoles{Role: "worker", Signal: "TERM"})
	if err != nil || procs == nil || len(procs) != 0 {
		t.Errorf("signal of no worker: %v, %v; want an empty list", procs, err)
	}
	_, err = serve(t, dir, SignalRoles{Role: "worker", ID: "vm1-w0000", Signal: "KILL"})
	if !errors.Is(err, wire.ErrNotRunning) {
		t.Errorf("signal of a missing instance: %v, want ErrNotRunning", err)
	}
	_, err = serve(t, dir, SignalRoles{Role: "worker", Signal: "USR1"})
	if !errors.Is(err, wire.ErrBadRequest) {
		t.Errorf("an unknown signal: %v, want ErrBadRequest", err)
	}
	_, err = serve(t, dir, StartRoles{Role: "manager", Count: 1})
	if !errors.Is(err, wire.ErrBadRequest) || err.Error() != `bad request: unknown role "manager": want master, worker, client` {
		t.Errorf("an unknown role: %v, want ErrBadRequest naming the roles", err)
	}
	logs, err := serve(t, dir, TxnLogs{})
	if err != nil || logs.Files == nil || len(logs.Files) != 0 {
		t.Errorf("transaction logs of a server that never ran: %+v, %v; want none", logs, err)
	}
	if _, err := serve(t, t.TempDir(), Status{}); err == nil || errors.Is(err, wire.ErrBadRequest) {
		t.Errorf("status without a node configuration: %v, want a plain failure", err)
	}
	_, err = serve(t, dir, netfault.PartitionSpec{Peers: []string{"vm2"}})
	if !errors.Is(err, wire.ErrBadRequest) {
		t.Errorf("a partition of a name, not an address: %v, want ErrBadRequest (netfault's ErrBadSpec)", err)
	}
}

// TestEveryCallHasAHandler: each call the controller makes is served, once.
func TestEveryCallHasAHandler(t *testing.T) {
	hs := Handlers()
	calls := []string{Info{}.Call(), StartServer{}.Call(), SignalServer{}.Call(), TxnLogs{}.Call(), ServerConfig{}.Call(), Status{}.Call(), Reset{}.Call(),
		Stop{}.Call(), Memory{}.Call(), ReadLog{}.Call(), Clock{}.Call(), SignalHost{}.Call(), StartRoles{}.Call(), SignalRoles{}.Call(),
		netfault.PartitionSpec{}.Call(), netfault.DegradeSpec{}.Call(), netfault.ClearRequest{}.Call(), netfault.HealRequest{}.Call(),
		netfault.StatusRequest{}.Call(), Preflight{}.Call()}
	for _, c := range calls {
		if hs[c] == nil {
			t.Errorf("no handler for %q", c)
		}
	}
	if len(hs) != len(calls) {
		t.Errorf("%d handlers, want %d (one per call)", len(hs), len(calls))
	}
}
