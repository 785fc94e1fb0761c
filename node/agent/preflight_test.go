package agent

import (
	"net"
	"path/filepath"
	"testing"

	"zkctl/node/wire"
)

// TestPreflightCall: the call answers over the wire with the facts of a
// dir that does not exist yet and of a port this test holds.
func TestPreflightCall(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	dir := filepath.Join(t.TempDir(), "zk")
	rep, err := serve(t, dir, Preflight{RunAs: "root", Owned: true, Ports: []int{port}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Dir.Exists || rep.Dir.Blocked != "" || rep.Disk.Free == 0 || len(rep.Ports) != 1 || rep.Ports[0].Free || rep.Ports[0].Own {
		t.Errorf("preflight of a new dir and a held port: %+v", rep)
	}
	if !wire.AsRoot(Preflight{}.Call()) {
		t.Errorf("%q runs as the service user: it must run as root to see every folder and socket", Preflight{}.Call())
	}
}
