package zksession

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/zktest"
	"zkctl/schema"
)

func TestReadAuth(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, path, want, err string
	}{
		{"no file", "", "", ""},
		{"one line", write("ok", "zkctl:s3cret\n"), "zkctl:s3cret", ""},
		{"no password", write("nopass", "zkctl:\n"), "", "want one line"},
		{"two lines", write("two", "a:b\nc:d\n"), "", "want one line"},
		{"missing", filepath.Join(dir, "absent"), "", "auth_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadAuth(tc.path)
			if tc.err == "" && (err != nil || got != tc.want) {
				t.Fatalf("ReadAuth = %q, %v; want %q", got, err, tc.want)
			}
			if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "d\n")) {
				t.Fatalf("ReadAuth error %v, want one containing %q", err, tc.err)
			}
		})
	}
}

func TestDialRefusesNoServers(t *testing.T) {
	if _, err := Dial(context.Background(), Config{}, nil); err == nil || !strings.Contains(err.Error(), "no ZooKeeper servers") {
		t.Fatalf("Dial without servers: %v", err)
	}
}

// TestDialWaitsAndWarns: no server answers, so Dial warns while it waits
// and gives up when ctx ends, naming the servers.
func TestDialWaitsAndWarns(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // refused from now on
	var logs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), waitWarning+time.Second)
	defer cancel()
	_, err = Dial(ctx, Config{Servers: []string{addr}, SessionTimeout: 4 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Dial to a closed port: %v", err)
	}
	if !strings.Contains(logs.String(), "waiting for ZooKeeper") {
		t.Fatalf("no warning while waiting; log:\n%s", logs.String())
	}
}

// TestDialThroughDialerWithAuth: a session opened through a dialer, with
// digest auth, forwards events, creates the base znodes with the ACL and
// protects the root.
func TestDialThroughDialerWithAuth(t *testing.T) {
	e := zktest.Start(t, 1)
	var dials, events atomic.Int32
	dial := func(network, addr string, timeout time.Duration) (net.Conn, error) {
		dials.Add(1)
		return net.DialTimeout(network, addr, timeout)
	}
	const auth = "zkctl:s3cret"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := Dial(ctx, Config{Servers: e.Servers(), SessionTimeout: 4 * time.Second, Auth: auth, Dialer: dial},
		func(zk.Event) { events.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if dials.Load() == 0 || events.Load() == 0 {
		t.Fatalf("dials %d, events %d: want both", dials.Load(), events.Load())
	}
	if err := EnsureBase(conn, ACL(auth)); err != nil {
		t.Fatal(err)
	}
	if err := EnsureBase(conn, ACL(auth)); err != nil { // existing znodes are no error
		t.Fatal(err)
	}
	if err := ProtectRoot(conn, auth); err != nil {
		t.Fatal(err)
	}
	for _, p := range append(schema.BasePaths(), "/") {
		acl, _, err := conn.GetACL(p)
		if err != nil || len(acl) != 2 || acl[0].Scheme != "digest" || acl[1].Perms != zk.PermRead {
			t.Fatalf("ACL of %s: %v, %v; want the digest user's and read for everyone", p, acl, err)
		}
	}
}
