package roles

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/zktest"
	"zkctl/roles/protocol"
	"zkctl/zksession"
)

// With digest auth, a foreign client may read everything but write nothing:
// no forged result, no task, no worker, no master, no candidate.
func TestForeignWritesRefused(t *testing.T) {
	const auth = "zkctl:s3cret"
	ens := zktest.Start(t, 1)
	servers := ens.Servers()
	r := newInProcess(t, Config{Servers: servers, SessionTimeout: zktest.SessionTimeout, Host: "test", Auth: auth})
	owner, err := Dial(context.Background(), r.config("owner"))
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if err := EnsureBase(owner, ACL(auth)); err != nil {
		t.Fatal(err)
	}
	if err := zksession.ProtectRoot(owner, auth); err != nil {
		t.Fatal(err)
	}
	r.master("m1") // no worker: the task stays pending
	if _, err := Submit(context.Background(), owner, ACL(auth), []string{"t1"}, "0.1"); err != nil {
		t.Fatal(err)
	}
	anon := observer(t, servers)
	if !waitFor(10*time.Second, func() bool { ok, _, _ := anon.Exists(protocol.MasterPath); return ok }) {
		t.Fatal("no master")
	}
	open := zk.WorldACL(zk.PermAll)
	attempts := []struct {
		what string
		do   func() error
	}{
		{"forge a result", func() error { _, err := anon.Create(protocol.Result("t1"), []byte("ok forged"), 0, open); return err }},
		{"submit a task", func() error {
			_, err := anon.Multi(&zk.CreateRequest{Path: protocol.Data("x"), Acl: open}, &zk.CreateRequest{Path: protocol.Task("x"), Acl: open})
			return err
		}},
		{"assign a task", func() error { _, err := anon.Set(protocol.Task("t1"), []byte("w9"), -1); return err }},
		{"delete a task", func() error { return anon.Delete(protocol.Task("t1"), -1) }},
		{"change a payload", func() error { _, err := anon.Set(protocol.Data("t1"), []byte("3600"), -1); return err }},
		{"register a worker", func() error { _, err := anon.Create(protocol.Worker("w9"), nil, 0, open); return err }},
		{"fake a live worker", func() error {
			_, err := anon.Create(protocol.WorkerAlive("w9"), nil, zk.FlagEphemeral, open)
			return err
		}},
		{"run for master", func() error {
			_, err := anon.Create(protocol.ElectionPrefix("x"), nil, zk.FlagEphemeral|zk.FlagSequence, open)
			return err
		}},
		{"delete /master", func() error { return anon.Delete(protocol.MasterPath, -1) }},
		{"overwrite /master", func() error { _, err := anon.Set(protocol.MasterPath, []byte("{}"), -1); return err }},
		{"delete a base znode", func() error { return anon.Delete(protocol.ResultsPath, -1) }},
		{"create a top-level znode", func() error { _, err := anon.Create("/intruder", nil, 0, open); return err }},
	}
	for _, a := range attempts {
		if err := a.do(); !errors.Is(err, zk.ErrNoAuth) {
			t.Errorf("%s: %v, want %v", a.what, err, zk.ErrNoAuth)
		}
	}
	for _, p := range append(protocol.BasePaths(), protocol.MasterPath, protocol.Task("t1")) {
		if _, _, err := anon.Get(p); err != nil {
			t.Errorf("anonymous read of %s: %v", p, err)
		}
	}
}
