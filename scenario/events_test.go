package scenario

import (
	"bytes"
	"log/slog"
	"testing"

	"zkctl/roles/protocol"
)

// TestParseLog parses lines written by slog's TextHandler, as the roles
// write them (the kind comes from the event attribute, whatever the
// message says), including quoted values and a line that is not slog's.
func TestParseLog(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(slog.NewTextHandler(&b, nil)).With("role", "master", "id", "vm1-m1", "host", "vm1")
	m := log.With("session", "0x10000a")
	m.Info("elected master vm1-m1", protocol.EventAttr, protocol.EventElected, "node", "/election/_c_ab-vm1-m1_0000000001", "seq", 1, "write", "create-master")
	m.Info("worker vm2-w1 gone: reassigned 3 tasks", protocol.EventAttr, protocol.EventWorkerGone, "worker", "vm2-w1", "tasks", 3, "write", "delete-worker")
	log.Warn("fenced: session expired, stepping down", protocol.EventAttr, protocol.EventStepDown, "writes_ok", 7, "writes_fenced", 1)
	b.WriteString("zkctl: something \"odd\" happened\n")
	evs := parseLog("vm1", "master-vm1-m1", b.Bytes())
	want := []Kind{KindElected, KindWorkerGone, KindStepDown, KindError}
	if len(evs) != len(want) {
		t.Fatalf("got %d events, want %d: %+v", len(evs), len(want), evs)
	}
	for i, k := range want {
		if evs[i].Kind != k {
			t.Errorf("event %d: kind %s, want %s", i, evs[i].Kind, k)
		}
	}
	if e := evs[0]; e.Session != "0x10000a" || e.Write != "create-master" || e.ID != "vm1-m1" || e.Host != "vm1" {
		t.Errorf("elected: %+v", e)
	}
	if e := evs[1]; e.N != 3 || e.Worker != "vm2-w1" {
		t.Errorf("worker gone: %+v", e)
	}
	if evs[2].Attrs["writes_fenced"] != "1" || evs[2].Session != "" {
		t.Errorf("step-down: %+v", evs[2])
	}
	if !evs[3].At.Equal(evs[2].At) {
		t.Errorf("a foreign line takes the time of the line before it")
	}
}
