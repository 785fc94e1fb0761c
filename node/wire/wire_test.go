package wire_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"zkctl/node"
	"zkctl/node/netfault"
	"zkctl/node/wire"
)

// echo is a call for the tests: it answers its Text, or fails with Err.
type echo struct {
	Text string `json:"text"`
	Err  string `json:"err,omitempty"`
}

func (echo) Call() string { return "echo" }
func (q echo) Serve(_ context.Context, dir string) (string, error) {
	if q.Err != "" {
		return "", fmt.Errorf("%w: %s", wire.ErrBadRequest, q.Err)
	}
	return dir + ": " + q.Text, nil
}

// roundTrip sends req through Encode, a host's Handlers and Decode.
func roundTrip[R any](t *testing.T, hs wire.Handlers, req wire.Request[R]) (R, error) {
	t.Helper()
	env, err := wire.Encode(req)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(hs.Serve(context.Background(), "/opt/zkctl", env))
	if err != nil {
		t.Fatal(err)
	}
	return wire.Decode(req, data)
}

// TestRoundTrip: a request reaches its handler typed, and its answer or
// its error comes back typed.
func TestRoundTrip(t *testing.T) {
	hs := wire.Handlers{}
	wire.Handle[echo](hs)
	got, err := roundTrip(t, hs, echo{Text: "hi"})
	if err != nil || got != "/opt/zkctl: hi" {
		t.Errorf("echo: %q, %v", got, err)
	}
	_, err = roundTrip(t, hs, echo{Err: "no"})
	if !errors.Is(err, wire.ErrBadRequest) || err.Error() != "bad request: no" {
		t.Errorf("a failing call: %v, want a bad request with the handler's message", err)
	}
	for _, env := range []string{`not json`, `{"call":"format disk","args":{}}`, `{"call":"echo","args":{"text":7}}`} {
		resp := hs.Serve(context.Background(), "/d", []byte(env))
		if resp.Error == nil || resp.Error.Code != wire.CodeBadRequest {
			t.Errorf("%s: answer %+v, want a bad request", env, resp)
		}
	}
	if _, err := wire.Decode(echo{}, []byte("zkctl: not json")); err == nil {
		t.Error("an answer that is not JSON decoded without error")
	}
}

// TestErrorCodes: an agent's error crosses the wire as its code and
// message, and the controller's side matches it to the same sentinel with
// errors.Is, without reading its text.
func TestErrorCodes(t *testing.T) {
	for _, tc := range []struct {
		err      error
		code     wire.Code
		sentinel error
	}{
		{fmt.Errorf("nft not found in PATH: apt-get install nftables: %w", netfault.ErrMissingTool), wire.CodeMissingTool, wire.ErrMissingTool},
		{netfault.ErrPrivilege, wire.CodePrivilege, wire.ErrPrivilege},
		{fmt.Errorf("%w: loss \"150%%\": outside [0,100]%%", netfault.ErrBadSpec), wire.CodeBadRequest, wire.ErrBadRequest},
		{fmt.Errorf("%w: unknown call", wire.ErrBadRequest), wire.CodeBadRequest, wire.ErrBadRequest},
		{fmt.Errorf("master-x (pid 7) is %w", node.ErrNotRunning), wire.CodeNotRunning, wire.ErrNotRunning},
		{fmt.Errorf("host vm4 %w (zookeeper = false in the inventory)", node.ErrNoServer), wire.CodeNoServer, wire.ErrNoServer},
		{fmt.Errorf("degrade: %w", netfault.ErrNothingApplied), wire.CodeFailed, nil},
		{errors.New("disk full"), wire.CodeFailed, nil},
	} {
		data, err := json.Marshal(wire.Answer(nil, tc.err))
		if err != nil {
			t.Fatal(err)
		}
		_, got := wire.Decode(echo{}, data)
		var we *wire.Error
		if !errors.As(got, &we) || we.Code != tc.code || got.Error() != tc.err.Error() {
			t.Errorf("%v: decoded %#v, want code %s and the same message", tc.err, got, tc.code)
			continue
		}
		if tc.sentinel != nil && !errors.Is(got, tc.sentinel) {
			t.Errorf("%v: decoded error does not match %v", tc.err, tc.sentinel)
		}
		for _, other := range []error{wire.ErrMissingTool, wire.ErrPrivilege, wire.ErrBadRequest, wire.ErrNotRunning, wire.ErrNoServer} {
			if other != tc.sentinel && errors.Is(got, other) {
				t.Errorf("%v: decoded error matches %v too", tc.err, other)
			}
		}
		if u := wire.Unsupported(got); u != (tc.code == wire.CodeMissingTool || tc.code == wire.CodePrivilege) {
			t.Errorf("%v: Unsupported = %v", tc.err, u)
		}
	}
}

// TestAsRoot: the network calls and info keep root's rights, the others not.
func TestAsRoot(t *testing.T) {
	for c, root := range map[string]bool{"info": true, "net partition": true, "net degrade": true, "net degrade --clear": true,
		"net heal": true, "net status": true, "net": true, "zk start": false, "zk txnlog": false, "status": false, "roles start": false,
		"roles signal": false, "signal-host": false, "mem": false, "log": false, "clock": false, "reset": false, "stop": false, "tail": false} {
		if wire.AsRoot(c) != root {
			t.Errorf("AsRoot(%q) = %v, want %v", c, wire.AsRoot(c), root)
		}
	}
}
