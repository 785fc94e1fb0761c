package roles

import (
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/zktest"
	"zkctl/roles/protocol"
)

// Znodes that do not follow the protocol are logged once and ignored; the
// master keeps assigning.
func TestMasterIgnoresForeignZnodes(t *testing.T) {
	ens := zktest.Start(t, 1)
	servers := ens.Servers()
	conn := observer(t, servers)
	open := zk.WorldACL(zk.PermAll)
	retryConn(t, func() error { return EnsureBase(conn, open) })
	for _, p := range []string{protocol.Election("no-sequence-here"), protocol.WorkerAlive("ghost")} {
		if _, err := conn.Create(p, nil, 0, open); err != nil {
			t.Fatal(err)
		}
	}
	r := newInProcess(t, Config{Servers: servers, SessionTimeout: zktest.SessionTimeout, Host: "test"})
	r.master("m1")
	r.worker("w1")
	for round := 0; round < 3; round++ { // several rounds of listings
		names := taskNames("f"+string(rune('a'+round)), 3)
		results := submitAndWait(t, conn, names, "0.01", 20*time.Second)
		for _, n := range names {
			if !strings.HasPrefix(results[n], "ok ") {
				t.Fatalf("%s: %q", n, results[n])
			}
		}
	}
	lines := r.logs["m1"].lines()
	for _, want := range []string{"ignoring znode outside the protocol", "ignoring live worker without"} {
		if n := len(grep(lines, want)); n != 1 {
			t.Errorf("%q logged %d times, want once", want, n)
		}
	}
}
