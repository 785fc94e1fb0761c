package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"zkctl/node"
	"zkctl/node/netfault"
)

// TestErrorCodes: an agent's error crosses the wire as its code and
// message, and the controller's side matches it to the same sentinel with
// errors.Is, without reading its text.
func TestErrorCodes(t *testing.T) {
	for _, tc := range []struct {
		err      error
		code     Code
		sentinel error
	}{
		{fmt.Errorf("nft not found in PATH: apt-get install nftables: %w", netfault.ErrMissingTool), CodeMissingTool, ErrMissingTool},
		{netfault.ErrPrivilege, CodePrivilege, ErrPrivilege},
		{fmt.Errorf("%w: loss \"150%%\": outside [0,100]%%", netfault.ErrBadSpec), CodeBadRequest, ErrBadRequest},
		{fmt.Errorf("%w: unknown call", ErrBadRequest), CodeBadRequest, ErrBadRequest},
		{fmt.Errorf("degrade: %w", netfault.ErrNothingApplied), CodeNothingApplied, ErrNothingApplied},
		{fmt.Errorf("master-x (pid 7) is %w", node.ErrNotRunning), CodeNotRunning, ErrNotRunning},
		{fmt.Errorf("host vm4 %w (zookeeper = false in the inventory)", node.ErrNoServer), CodeNoServer, ErrNoServer},
		{errors.New("disk full"), CodeFailed, nil},
	} {
		data, err := json.Marshal(Answer(nil, tc.err))
		if err != nil {
			t.Fatal(err)
		}
		_, got := Decode(Status{}, data)
		var we *Error
		if !errors.As(got, &we) || we.Code != tc.code || got.Error() != tc.err.Error() {
			t.Errorf("%v: decoded %#v, want code %s and the same message", tc.err, got, tc.code)
			continue
		}
		if tc.sentinel != nil && !errors.Is(got, tc.sentinel) {
			t.Errorf("%v: decoded error does not match %v", tc.err, tc.sentinel)
		}
		for _, other := range []error{ErrMissingTool, ErrPrivilege, ErrBadRequest, ErrNothingApplied, ErrNotRunning} {
			if other != tc.sentinel && errors.Is(got, other) {
				t.Errorf("%v: decoded error matches %v too", tc.err, other)
			}
		}
		if u := Unsupported(got); u != (tc.code == CodeMissingTool || tc.code == CodePrivilege) {
			t.Errorf("%v: Unsupported = %v", tc.err, u)
		}
	}
}

// TestRoundTrip: a request and its answer survive the wire, typed.
func TestRoundTrip(t *testing.T) {
	req := Degrade{Spec: netfault.DegradeSpec{Peers: []string{"10.0.0.2"}, Loss: 12.5, Rate: 1e6, For: 3e9, Exempt: netfault.Exempt{SSHPort: 2222, Controller: []string{"10.0.0.9"}}}}
	data, err := Encode(req)
	if err != nil {
		t.Fatal(err)
	}
	var env Envelope
	if err := json.Unmarshal(data, &env); err != nil || env.Call != "net degrade" {
		t.Fatalf("envelope %s: %v", data, err)
	}
	var back Degrade
	if err := json.Unmarshal(env.Args, &back); err != nil || fmt.Sprint(back) != fmt.Sprint(req) {
		t.Fatalf("args %s decode to %+v (%v), want %+v", env.Args, back, err, req)
	}
	want := netfault.Degradation{ID: 3, Knobs: []netfault.Knob{{Knob: "loss", Value: "12.5%", Applied: true, Via: "nft numgen"}}}
	answer, _ := json.Marshal(Answer(want, nil))
	got, err := Decode(req, answer)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("answer %s decodes to %+v (%v), want %+v", answer, got, err, want)
	}
	if _, err := Decode(req, []byte("zkctl: not json")); err == nil {
		t.Error("an answer that is not JSON decoded without error")
	}
}

// TestAsRoot: the network calls and info keep root's rights, the others not.
func TestAsRoot(t *testing.T) {
	root := map[string]bool{}
	for _, c := range []string{Info{}.Call(), Partition{}.Call(), Degrade{}.Call(), ClearDegradations{}.Call(), Heal{}.Call(), NetStatus{}.Call(), "net", "info"} {
		root[c] = true
	}
	for _, c := range []string{Info{}.Call(), StartServer{}.Call(), SignalServer{}.Call(), TxnLogs{}.Call(), Status{}.Call(), Reset{}.Call(),
		Stop{}.Call(), Memory{}.Call(), ReadLog{}.Call(), Clock{}.Call(), SignalHost{}.Call(), StartRoles{}.Call(), SignalRoles{}.Call(),
		Partition{}.Call(), Degrade{}.Call(), ClearDegradations{}.Call(), Heal{}.Call(), NetStatus{}.Call(), "net", "info", "tail", "zk"} {
		if AsRoot(c) != root[c] {
			t.Errorf("AsRoot(%q) = %v, want %v", c, AsRoot(c), root[c])
		}
	}
}
