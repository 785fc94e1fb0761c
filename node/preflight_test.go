package node

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckDirAccess: the first folder a user cannot traverse is named
// with its mode; a plain login must also be able to write where dir goes.
func TestCheckDirAccess(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: folders of other owners")
	}
	// Not t.TempDir(): its parent is 0700.
	base, err := os.MkdirTemp("/tmp", "zkctl-dir-access-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	private := filepath.Join(base, "private")
	open := filepath.Join(base, "open")
	for _, d := range []string{private, open} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, dir, user string
		owned           bool
		blocked, need   string
	}{
		{"a stranger cannot cross 0700", filepath.Join(private, "zk"), "zkctl-no-such-user", true, private, "x"},
		{"nobody cannot cross a root 0700", filepath.Join(private, "a/b"), "nobody", true, private, "x"},
		{"root crosses anything", filepath.Join(private, "zk"), "root", false, "", ""},
		{"owned: only search is needed", filepath.Join(open, "zk"), "nobody", true, "", ""},
		{"a plain login must write the parent", filepath.Join(open, "zk"), "nobody", false, open, "w"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := CheckDirAccess(c.dir, c.user, c.owned)
			if err != nil {
				t.Fatal(err)
			}
			if a.Blocked != c.blocked || a.Need != c.need {
				t.Errorf("blocked %q need %q, want %q %q (%+v)", a.Blocked, a.Need, c.blocked, c.need, a)
			}
			if c.blocked != "" && (a.Owner != "root:root" || a.Mode == "") {
				t.Errorf("owner %q mode %q", a.Owner, a.Mode)
			}
		})
	}
	// The owner of a folder passes by the owner's bits.
	mine := filepath.Join(base, "nobodys")
	if err := os.Mkdir(mine, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(mine, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if a, _ := CheckDirAccess(filepath.Join(mine, "zk"), "nobody", false); a.Blocked != "" {
		t.Errorf("nobody in its own folder: %+v", a)
	}
}

// TestPortsHeld: a port some other process listens on is held, not own;
// a closed one is free.
func TestPortsHeld(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freePort := free.Addr().(*net.TCPAddr).Port
	free.Close()
	got, err := portsHeld(Layout{Dir: t.TempDir()}, []int{port, freePort})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Free || got[0].Own || got[0].PID != os.Getpid() {
		t.Errorf("port %d held by this test (pid %d): %+v", port, os.Getpid(), got[0])
	}
	if !got[1].Free {
		t.Errorf("port %d closed: %+v", freePort, got[1])
	}
	if d, err := freeDisk(filepath.Join(t.TempDir(), "not", "yet")); err != nil || d.Free == 0 {
		t.Errorf("free disk: %+v %v", d, err)
	}
}

func TestBugsOf(t *testing.T) {
	for _, c := range []struct {
		v    string
		want int
	}{{"3.8.0", 3}, {"3.8.4", 3}, {"3.9.2", 2}, {"3.9.3", 1}, {"3.9.4", 0}, {"3.9.6", 0}, {"", 0}, {"x.y", 0}} {
		if got := BugsOf(c.v); len(got) != c.want {
			t.Errorf("BugsOf(%q) = %v, want %d bugs", c.v, got, c.want)
		}
	}
	if in := Detect(""); in.Layout == "debian" {
		if v := ZooKeeperVersion(in); v == "" || strings.Count(v, ".") != 2 {
			t.Errorf("version of Debian's ZooKeeper: %q", v)
		}
	}
}
