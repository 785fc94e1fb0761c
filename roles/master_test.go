package roles

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/zktest"
	"zkctl/roles/protocol"
)

// TestMasterPausesWhileDisconnected restarts the (standalone) server under a
// running master: the session survives, so the master pauses, resyncs and
// goes on leading with the same session instead of stepping down.
func TestMasterPausesWhileDisconnected(t *testing.T) {
	ens := zktest.Start(t, 1)
	servers := ens.Servers()
	r := newInProcess(t, Config{Servers: servers, SessionTimeout: zktest.SessionTimeout, Host: "test"})
	r.master("m1")
	r.worker("w1")
	obs := observer(t, servers)
	run := func(name string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := RunClient(ctx, r.config(name), 2, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	run("before")
	mlog := r.logs["m1"]
	elected := events(mlog.lines(), protocol.EventElected)
	if len(elected) != 1 {
		t.Fatalf("%d elections", len(elected))
	}

	ens.Kill(0)
	ens.Start(0)
	ens.WaitQuorum()
	if !waitFor(10*time.Second, func() bool { return len(grep(mlog.lines(), "reconnected: resyncing")) > 0 }) {
		t.Fatal("master did not resync after the reconnect")
	}
	run("after")

	lines := mlog.lines()
	if len(grep(lines, "disconnected: pausing assignments")) == 0 {
		t.Error("master did not pause")
	}
	if n := len(grep(lines, "fenced")) + len(events(lines, protocol.EventElected)) - 1; n != 0 {
		t.Errorf("master stepped down or was fenced (%d lines)", n)
	}
	session := elected[0].str("session")
	for _, l := range grep(lines, "assigned task after-") {
		if l.str("session") != session {
			t.Errorf("assignment with session %s, want %s", l.str("session"), session)
		}
	}
	if masterID(obs) != "m1" {
		t.Errorf("master %q", masterID(obs))
	}
	if kids, _, _ := obs.Children(protocol.TasksPath); len(kids) != 0 {
		t.Errorf("tasks left: %v", kids)
	}
}

// TestWriteIsFencedByElectionNode checks the fence itself: a master write
// succeeds while the master's election node exists with the version it
// read, and fails, changing nothing, once the node is gone or changed.
func TestWriteIsFencedByElectionNode(t *testing.T) {
	ens := zktest.Start(t, 1)
	servers := ens.Servers()
	obs := observer(t, servers)
	m, _ := leadingMaster(t, servers)
	r, s, node := m.r, m.s, m.lead.node
	create := func(name string) error {
		_, err := m.write("test", &zk.CreateRequest{Path: protocol.Task(name), Data: []byte{}, Acl: s.acl})
		return err
	}
	if err := create("a"); err != nil {
		t.Fatalf("write while leading: %v", err)
	}
	if _, err := obs.Set(node, []byte("x"), -1); err != nil { // version 0 -> 1
		t.Fatal(err)
	}
	if err := create("b"); !errors.Is(err, errFenced) {
		t.Errorf("write after the node changed: %v, want %v", err, errFenced)
	}
	if err := obs.Delete(node, -1); err != nil {
		t.Fatal(err)
	}
	m.lead.version = 1
	if err := create("c"); !errors.Is(err, errFenced) {
		t.Errorf("write after the node vanished: %v, want %v", err, errFenced)
	}
	for name, want := range map[string]bool{"a": true, "b": false, "c": false} {
		if ok, _, _ := obs.Exists(protocol.Task(name)); ok != want {
			t.Errorf("/tasks/%s exists = %v, want %v", name, ok, want)
		}
	}
	if r.ok.Load() != 1 || r.fenced.Load() != 2 {
		t.Errorf("counts ok=%d fenced=%d, want 1 and 2", r.ok.Load(), r.fenced.Load())
	}
}
