package txnlog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/zktest"
	"zkctl/roles"
)

// With envWorker set the test binary is a worker process (so that the test
// can SIGKILL it and its session expires), configured by envServers.
const (
	envWorker  = "ZKCTL_TXNLOG_WORKER"
	envServers = "ZKCTL_TXNLOG_SERVERS"
)

func TestMain(m *testing.M) {
	if id := os.Getenv(envWorker); id != "" {
		err := roles.RunWorker(context.Background(), roleConfig(strings.Split(os.Getenv(envServers), ","), id, os.Stderr), 2)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func roleConfig(servers []string, id string, w io.Writer) roles.Config {
	return roles.Config{Servers: servers, SessionTimeout: zktest.SessionTimeout, ID: id, Host: "test",
		Logger: slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))}
}

// workload runs zkctl's own roles on a fresh 3-server ensemble so that its
// logs hold every kind of transaction the roles write: sessions created and
// closed, an expired session (a SIGKILLed worker), ephemeral sequential
// election nodes, the masters' fenced multis, a move back, a master
// failover, completions and the clients' clean-ups, and a ZooKeeper
// leader killed (a new epoch) that rejoins as a follower. It stops the
// ensemble and returns each server's data dir.
func workload(t *testing.T) []string {
	t.Helper()
	ens := zktest.Start(t, 3)
	servers := ens.Servers()
	logDir := t.TempDir()
	logTo := func(name string) io.Writer {
		f, err := os.Create(filepath.Join(logDir, name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			f.Close()
			if t.Failed() {
				data, _ := os.ReadFile(f.Name())
				t.Logf("log of %s:\n%s", name, data)
			}
		})
		return f
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	run := func(ctx context.Context, name string, f func(ctx context.Context, cfg roles.Config) error) {
		cfg := roleConfig(servers, name, logTo(name))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx, cfg); err != nil && ctx.Err() == nil {
				t.Errorf("%s: %v", name, err)
			}
		}()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m1ctx, stopM1 := context.WithCancel(ctx)
	run(m1ctx, "m1", roles.RunMaster)
	time.Sleep(300 * time.Millisecond) // m1 leads
	run(ctx, "m2", roles.RunMaster)
	run(ctx, "w1", func(ctx context.Context, cfg roles.Config) error { return roles.RunWorker(ctx, cfg, 1) })
	w2 := startWorker(t, servers, "w2", logTo("w2"))

	client := func(id string, n int) {
		done := make(chan error, 1)
		cfg := roleConfig(servers, id, logTo(id))
		go func() { done <- roles.RunClient(ctx, cfg, n, 300*time.Millisecond, 20*time.Second) }()
		if id == "c1" {
			time.Sleep(600 * time.Millisecond) // tasks assigned to w2 too
			_ = w2.Process.Signal(syscall.SIGKILL)
		}
		if err := <-done; err != nil {
			t.Fatalf("client %s: %v", id, err)
		}
	}
	client("c1", 8)
	stopM1() // m2 takes over
	time.Sleep(500 * time.Millisecond)
	leader := ens.Leader()
	ens.Kill(leader) // a new epoch
	ens.WaitQuorum()
	client("c2", 3)
	ens.Start(leader) // it rejoins and catches up
	waitFollowing(t, ens, leader)
	foreignWrites(t, servers)
	cancel()
	wg.Wait()
	time.Sleep(200 * time.Millisecond)
	var dirs []string
	for i := range 3 {
		ens.Kill(i)
		dirs = append(dirs, filepath.Join(ens.Config(i).Dir, "data"))
	}
	return dirs
}

// waitFollowing waits until server i follows the leader again.
func waitFollowing(t *testing.T, ens *zktest.Ensemble, i int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for ens.Status(i).Mode != "follower" {
		if time.Now().After(deadline) {
			t.Fatalf("server %d does not follow within 30s", i+1)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startWorker starts worker id as a process of the test binary.
func startWorker(t *testing.T, servers []string, id string, log io.Writer) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envWorker+"="+id, envServers+"="+strings.Join(servers, ","))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGKILL); _ = cmd.Wait() })
	return cmd
}

// foreignWrites writes what the roles never write, under /scratch: a
// multi that fails (it creates a znode that exists), a plain create that
// fails, a setACL, a versioned setData and a persistent sequential node, so
// that error txns and setACL are in the logs too.
func foreignWrites(t *testing.T, servers []string) {
	conn, _, err := zk.Connect(servers, zktest.SessionTimeout, zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	acl := zk.WorldACL(zk.PermAll)
	for _, p := range []string{"/scratch", "/scratch/a"} {
		if _, err := conn.Create(p, nil, 0, acl); err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
	}
	_, err = conn.Multi(&zk.CreateRequest{Path: "/scratch/b", Data: []byte("1"), Acl: acl},
		&zk.CreateRequest{Path: "/scratch/a", Acl: acl})
	if err == nil {
		t.Fatal("a multi creating an existing znode went through")
	}
	if _, err := conn.Create("/scratch/a", nil, 0, acl); err == nil {
		t.Fatal("creating an existing znode went through")
	}
	if _, err := conn.SetACL("/scratch/a", acl, -1); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Set("/scratch/a", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	seq, err := conn.Create("/scratch/seq-", []byte("s"), zk.FlagSequence, acl)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{seq, "/scratch/a", "/scratch"} {
		if err := conn.Delete(p, -1); err != nil {
			t.Fatalf("delete %s: %v", p, err)
		}
	}
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}
