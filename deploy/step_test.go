package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"zkctl/controller"
	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
)

// localCluster is a cluster of local hosts (no connection to dial), each
// with its own folder; UI output goes to the returned buffer.
func localCluster(t *testing.T, names ...string) (*cluster, *bytes.Buffer) {
	t.Helper()
	inv := &inventory.Inventory{}
	for i, n := range names {
		inv.Hosts = append(inv.Hosts, inventory.Host{Name: n, ID: i + 1, Transport: inventory.TransportLocal,
			Dir: filepath.Join(t.TempDir(), n)})
	}
	var out bytes.Buffer
	return &cluster{controller.NewCluster(inv, controller.NewUI(&out), nil)}, &out
}

func titles(steps []step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Title()
	}
	return out
}

// The deploy list: the lock first, the quick check next, and the long way
// skipped as a whole when the quick check found nothing changed.
func TestDeploySteps(t *testing.T) {
	steps := deploySteps(&hostDeploy{})
	want := []string{"lock", "check myid", "quick check", "probe", "check architecture", "upload zkctl", "provision", "push role programs",
		"write conf/node.json", "run_as user", "write deploy record"}
	if got := titles(steps); !reflect.DeepEqual(got, want) {
		t.Fatalf("deploy steps %q, want %q", got, want)
	}
	var long []string
	for _, s := range steps {
		if _, ok := s.(longWay); ok {
			long = append(long, s.Title())
		}
	}
	if want := []string{"probe", "check architecture", "upload zkctl", "provision", "write deploy record"}; !reflect.DeepEqual(long, want) {
		t.Errorf("long-way steps %q, want %q", long, want)
	}
	if _, ok := steps[0].(releaser); !ok {
		t.Errorf("the lock step has no release")
	}
	for _, s := range steps[1:] {
		if _, ok := s.(releaser); ok {
			t.Errorf("%s acquires something: only the lock should", s.Title())
		}
	}
}

func TestResetAndStopPhases(t *testing.T) {
	c, _ := localCluster(t, "vm1", "vm2", "vm3")
	servers := c.Inv.Hosts[:2]
	type row struct {
		header string
		hosts  []string
		steps  []string
		whole  bool
	}
	describe := func(phases []phase) []row {
		out := make([]row, len(phases))
		for i, p := range phases {
			out[i] = row{p.header, names(p.hosts), titles(p.steps), p.run != nil}
		}
		return out
	}
	none := []string{}
	wantReset := []row{
		{"stop roles and ZooKeeper, wipe data on 3 hosts", []string{"vm1", "vm2", "vm3"}, []string{"write conf/node.json", "reset"}, false},
		{"start ZooKeeper on vm1, vm2", []string{"vm1", "vm2"}, []string{"start zookeeper"}, false},
		{"wait for quorum", none, none, true},
		{"create base znodes", none, none, true},
	}
	if got := describe(c.resetPhases(servers)); !reflect.DeepEqual(got, wantReset) {
		t.Errorf("reset phases\n got %+v\nwant %+v", got, wantReset)
	}
	if cs := c.resetPhases(servers)[0].steps[0].(configStep); !reflect.DeepEqual(names(cs.servers), []string{"vm1", "vm2"}) {
		t.Errorf("reset writes a configuration for the ensemble %v, want vm1, vm2", names(cs.servers))
	}
	wantStop := []row{{"", []string{"vm1", "vm2", "vm3"}, []string{"stop"}, false}}
	if got := describe(c.stopPhases()); !reflect.DeepEqual(got, wantStop) {
		t.Errorf("stop phases\n got %+v\nwant %+v", got, wantStop)
	}
}

// fakeStep notes its run (and release) in a shared log.
type fakeStep struct {
	name string
	log  *[]string
	err  error
	do   func() // run before returning, e.g. to cancel the context
}

func (f fakeStep) Title() string { return f.name }

func (f fakeStep) Run(ctx context.Context, _ *cluster, _ inventory.Host, t transport.Transport) error {
	*f.log = append(*f.log, "run "+f.name)
	if f.do != nil {
		f.do()
	}
	return f.err
}

// fakeLock is a fakeStep with a release; it notes whether the release got
// a live context.
type fakeLock struct{ fakeStep }

func (f fakeLock) Release(ctx context.Context, _ *cluster, _ inventory.Host, t transport.Transport) {
	note := "release " + f.name
	if ctx.Err() != nil {
		note += " (dead context)"
	}
	*f.log = append(*f.log, note)
}

// runSteps: in order; the first failure stops the list and is named; what
// was acquired is released last-first, on success, failure and cancel,
// and only once acquired.
func TestRunSteps(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name    string
		steps   func(log *[]string, cancel func()) []step
		want    []string
		errStep string // "" = success
	}{
		{"success releases at the end",
			func(log *[]string, _ func()) []step {
				return []step{fakeLock{fakeStep{name: "lock", log: log}}, fakeStep{name: "a", log: log}, fakeStep{name: "b", log: log}}
			},
			[]string{"run lock", "run a", "run b", "release lock"}, ""},
		{"a failing step releases, later steps do not run",
			func(log *[]string, _ func()) []step {
				return []step{fakeLock{fakeStep{name: "lock", log: log}}, fakeStep{name: "a", log: log, err: boom}, fakeStep{name: "b", log: log}}
			},
			[]string{"run lock", "run a", "release lock"}, "a"},
		{"cancel releases with a live context, later steps do not run",
			func(log *[]string, cancel func()) []step {
				return []step{fakeLock{fakeStep{name: "lock", log: log}}, fakeStep{name: "a", log: log, do: cancel}, fakeStep{name: "b", log: log}}
			},
			[]string{"run lock", "run a", "release lock"}, "b"},
		{"a failed acquire is not released",
			func(log *[]string, _ func()) []step {
				return []step{fakeStep{name: "a", log: log}, fakeLock{fakeStep{name: "lock", log: log, err: boom}}, fakeStep{name: "b", log: log}}
			},
			[]string{"run a", "run lock"}, "lock"},
		{"two acquires are released last first",
			func(log *[]string, _ func()) []step {
				return []step{fakeLock{fakeStep{name: "one", log: log}}, fakeLock{fakeStep{name: "two", log: log}}, fakeStep{name: "a", log: log, err: boom}}
			},
			[]string{"run one", "run two", "run a", "release two", "release one"}, "a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := localCluster(t, "vm1")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var log []string
			err := c.runSteps(ctx, c.Inv.Hosts[0], tc.steps(&log, cancel))
			if !reflect.DeepEqual(log, tc.want) {
				t.Errorf("ran %q, want %q", log, tc.want)
			}
			var he *controller.HostError
			switch {
			case tc.errStep == "" && err != nil:
				t.Errorf("err %v, want success", err)
			case tc.errStep != "" && (!errors.As(err, &he) || he.Host != "vm1" || he.Step != tc.errStep):
				t.Errorf("err %v, want a failure of vm1's step %q", err, tc.errStep)
			}
		})
	}
}

func TestLongWayIsSkippedWhenUpToDate(t *testing.T) {
	c, _ := localCluster(t, "vm1")
	for _, upToDate := range []bool{false, true} {
		var log []string
		s := &hostDeploy{upToDate: upToDate}
		steps := []step{fakeStep{name: "always", log: &log}, longWay{s, fakeStep{name: "long", log: &log}}}
		if err := c.runSteps(context.Background(), c.Inv.Hosts[0], steps); err != nil {
			t.Fatal(err)
		}
		want := []string{"run always", "run long"}
		if upToDate {
			want = want[:1]
		}
		if !reflect.DeepEqual(log, want) {
			t.Errorf("up to date %v: ran %q, want %q", upToDate, log, want)
		}
	}
}

// runPhases prints each header, runs a phase's steps on each of its hosts,
// and stops at the first phase that fails.
func TestRunPhases(t *testing.T) {
	c, out := localCluster(t, "vm1", "vm2")
	var log []string
	boom := errors.New("boom")
	ran := map[string]bool{}
	phases := []phase{
		{header: "one", hosts: c.Inv.Hosts[:1], steps: []step{fakeStep{name: "a", log: &log}}},
		{header: "two", run: func(context.Context, *cluster) error { ran["two"] = true; return boom }},
		{header: "three", run: func(context.Context, *cluster) error { ran["three"] = true; return nil }},
	}
	if err := c.runPhases(context.Background(), phases); !errors.Is(err, boom) {
		t.Fatalf("err %v, want boom", err)
	}
	if !reflect.DeepEqual(log, []string{"run a"}) || !ran["two"] || ran["three"] {
		t.Errorf("ran %q and %v", log, ran)
	}
	if got := out.String(); got != "==> one\n==> two\n" {
		t.Errorf("output %q", got)
	}
}

// The deploy lock on a local host, with the real shell and file system:
// taken with its owner inside, refused to a second deploy after the wait,
// taken over when its owner died, released.
func TestLockStep(t *testing.T) {
	c, out := localCluster(t, "vm1")
	h := c.Inv.Hosts[0]
	ctx := context.Background()
	t.Cleanup(c.Close)
	tr, err := c.Transport(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := (lockStep{}).Run(ctx, c, h, tr); err != nil {
		t.Fatal(err)
	}
	if owner, _ := os.ReadFile(lockPath(h)); string(owner) != lockOwner() {
		t.Fatalf("lock holds %q, want %q", owner, lockOwner())
	}
	c.LockWait = 300 * time.Millisecond
	start := time.Now()
	err = (lockStep{}).Run(ctx, c, h, tr)
	if err == nil || !strings.Contains(err.Error(), "another deploy has held") || time.Since(start) < c.LockWait {
		t.Fatalf("second lock after %v: %v, want a refusal after the wait", time.Since(start), err)
	}
	if !strings.Contains(out.String(), "vm1: waiting for another deploy to finish") {
		t.Errorf("no waiting line:\n%s", out)
	}
	(lockStep{}).Release(ctx, c, h, tr)
	if _, err := os.Stat(lockPath(h)); !os.IsNotExist(err) {
		t.Fatalf("lock not released: %v", err)
	}

	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	self, _ := os.Hostname()
	if err := os.WriteFile(lockPath(h), []byte(fmt.Sprintf("%s %d\n", self, dead.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := (lockStep{}).Run(ctx, c, h, tr); err != nil {
		t.Fatalf("lock of a dead deploy not taken over: %v", err)
	}
	if !strings.Contains(out.String(), "which is gone") {
		t.Errorf("no takeover line:\n%s", out)
	}
}

func TestHeldLockStale(t *testing.T) {
	self, _ := os.Hostname()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		lock heldLock
		want string // substring of the reason; "" = not stale
	}{
		{heldLock{age: time.Hour, owner: "elsewhere 1"}, "left 1h0m0s ago"},
		{heldLock{age: time.Second, owner: fmt.Sprintf("%s %d", self, dead.Process.Pid)}, "which is gone"},
		{heldLock{age: time.Second, owner: fmt.Sprintf("%s %d", self, os.Getpid())}, ""}, // alive
		{heldLock{age: time.Second, owner: fmt.Sprintf("elsewhere %d", dead.Process.Pid)}, ""},
		{heldLock{age: time.Second, owner: ""}, ""},
		{heldLock{age: time.Second, owner: self + " x"}, ""},
	}
	for _, tc := range cases {
		got := tc.lock.stale(10 * time.Minute)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("stale(%+v) = %q, want %q", tc.lock, got, tc.want)
		}
	}
}

func TestParseProbe(t *testing.T) {
	p, err := parseProbe("arch=aarch64\nsha=abc\ninfo={\"install\":{\"java\":\"/usr/bin/java\"}}\n")
	if err != nil || p.arch != "arm64" || p.uname != "aarch64" || p.sha256 != "abc" || p.info == nil || p.info.Install.Java != "/usr/bin/java" {
		t.Errorf("parsed %+v (%v)", p, err)
	}
	if p, err := parseProbe("arch=x86_64\nsha=\n"); err != nil || p.arch != "amd64" || p.sha256 != "" || p.info != nil {
		t.Errorf("no agent yet: %+v (%v)", p, err)
	}
	if _, err := parseProbe("mkdir: cannot create directory\n"); err == nil {
		t.Error("an answer without arch was accepted")
	}
}
