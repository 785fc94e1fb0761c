package zktest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"zkctl/node"
)

func TestEnsembleElectsLeaderAndSurvivesFollowerLoss(t *testing.T) {
	e := Start(t, 3)
	e.WaitAllServing() // Start returns at quorum: the third server may still be syncing
	leader := e.Leader()
	if leader < 0 {
		t.Fatal("no leader")
	}
	follower := (leader + 1) % 3
	if m := e.Status(follower).Mode; m != "follower" {
		t.Fatalf("server %d mode %q, want follower", follower+1, m)
	}
	e.Kill(follower)
	if m := e.Status(follower).Mode; m != "down" {
		t.Fatalf("killed server mode %q, want down", m)
	}
	if e.Leader() != leader {
		t.Fatalf("leader changed after a follower died")
	}
	e.Start(follower)
	e.WaitQuorum()
}

// The rendered zoo.cfg limits what a server exposes: only the 4lw commands
// zkctl uses (conf among them, for the roll; envi, which dumps the
// environment, not), no AdminServer, the client port bound to the host's
// address.
func TestServerExposesOnlyWhatZkctlUses(t *testing.T) {
	e := Start(t, 1)
	addr := e.Servers()[0]
	if out, err := node.FourLetter(addr, "ruok", time.Second); err != nil || out != "imok" {
		t.Fatalf("ruok: %q %v", out, err)
	}
	if out, _ := node.FourLetter(addr, "envi", time.Second); !strings.Contains(out, "not in the whitelist") {
		t.Fatalf("envi should be refused, got %q", out)
	}
	if out, err := node.FourLetter(addr, "conf", time.Second); err != nil || !strings.Contains(out, "tickTime=") {
		t.Fatalf("conf: %q %v", out, err)
	} else {
		t.Logf("conf:\n%s", out)
	}
	log, err := os.ReadFile(filepath.Join(e.Config(0).Dir, "logs", "zookeeper.log"))
	if err != nil || !strings.Contains(string(log), "binding to port") {
		t.Fatalf("server log unreadable or empty: %v", err)
	}
	if strings.Contains(string(log), "Started AdminServer") {
		t.Fatal("the AdminServer was started")
	}
	_, port, _ := net.SplitHostPort(addr)
	if c, err := net.DialTimeout("tcp", "127.0.0.2:"+port, time.Second); err == nil {
		c.Close()
		t.Fatalf("client port answers on 127.0.0.2: not bound to the configured address only")
	}
}

// TestFreePortsReserves: a port FreePorts handed out is not handed out
// again while its test runs, even by another process (the lock is an
// flock, checked here from a second open file, as another process sees it).
func TestFreePortsReserves(t *testing.T) {
	ports := FreePorts(t, 4)
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] {
			t.Fatalf("port %d handed out twice: %v", p, ports)
		}
		seen[p] = true
		f, err := os.Open(filepath.Join(PortLockDir, fmt.Sprintf("%d.lock", p)))
		if err != nil {
			t.Fatal(err)
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			t.Errorf("port %d: lock taken by another open file (%v): not reserved", p, err)
		}
	}
}
