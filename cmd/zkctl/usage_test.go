package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"zkctl/deploy/inventory"
	"zkctl/node/agent"
	"zkctl/node/wire"
)

// fakeHosts copies the repo's inventory (three local hosts vm1..vm3) into
// a temporary folder, where its relative dirs resolve, and gives each host
// a fake agent that records its arguments and answers "no process". Nothing
// a test runs can reach a real local ensemble; calls lists what reached the
// hosts, one "HOST: ARGS" a call, without the --dir of the host, each
// request (`node call JSON`) written as the `zkctl node` subcommand that
// builds it (asSubcommand).
func fakeHosts(t *testing.T) (path string, calls func() []string) {
	t.Helper()
	data, err := os.ReadFile("../../inventory.toml")
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "inventory.toml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	const agent = "#!/bin/sh\nprintf '%s\\n' \"$*\" >> \"$(dirname \"$0\")/../calls\"\necho '{\"result\":[]}'\n"
	for _, h := range inv.Hosts {
		if !h.IsLocal() || !strings.HasPrefix(h.Dir, filepath.Dir(path)) {
			t.Fatalf("host %s: %s is not a local dir under the copy", h.Name, h.Dir)
		}
		if err := os.MkdirAll(filepath.Join(h.Dir, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(h.Dir, "bin", "zkctl"), []byte(agent), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	calls = func() []string {
		var all []string
		for _, h := range inv.Hosts {
			data, err := os.ReadFile(filepath.Join(h.Dir, "calls"))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				if l != "" {
					all = append(all, h.Name+": "+asSubcommand(t, withoutDir(l, h.Dir)))
				}
			}
			_ = os.Remove(filepath.Join(h.Dir, "calls"))
		}
		return all
	}
	return path, calls
}

// asSubcommand writes a call "node call JSON" as the debugging
// subcommand that makes the same request, for the calls the tests make.
func asSubcommand(t *testing.T, call string) string {
	payload, ok := strings.CutPrefix(call, "node call ")
	if !ok {
		return call
	}
	var env wire.Envelope
	if err := json.Unmarshal([]byte(payload), &env); err != nil {
		t.Fatalf("call %q: %v", call, err)
	}
	argv := []string{"node", env.Call}
	switch env.Call {
	case agent.SignalRoles{}.Call():
		var q agent.SignalRoles
		mustDecode(t, env.Args, &q)
		argv = append(argv, q.Role, "-s", q.Signal)
		if q.ID != "" {
			argv = append(argv, "--id", q.ID)
		}
	case agent.StartRoles{}.Call():
		var q agent.StartRoles
		mustDecode(t, env.Args, &q)
		argv = append(argv, q.Role, "-n", strconv.Itoa(q.Count))
		if q.ID != "" {
			argv = append(argv, "--id", q.ID)
		}
		if len(q.Args) > 0 {
			argv = append(append(argv, "--"), q.Args...)
		}
	}
	return strings.Join(argv, " ")
}

func mustDecode(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}

// withoutDir drops "--dir DIR" from the arguments of a call, checking DIR.
func withoutDir(call, dir string) string {
	var out []string
	args := strings.Fields(call)
	for i := 0; i < len(args); i++ {
		if args[i] == "--dir" && i+1 < len(args) {
			if args[i+1] != dir {
				out = append(out, "--dir(wrong)", args[i+1])
			}
			i++
			continue
		}
		out = append(out, args[i])
	}
	return strings.Join(out, " ")
}

// runZkctl runs zkctl in-process with args and returns its exit status, its
// error message and its output.
func runZkctl(t *testing.T, args ...string) (code int, msg, out string) {
	t.Helper()
	root := newRoot()
	var buf bytes.Buffer
	root.SetOut(&buf)
	root.SetErr(&buf)
	root.SetIn(strings.NewReader(""))
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := root.ExecuteContext(ctx)
	if err != nil {
		msg = err.Error()
	}
	return exitCode(err), msg, buf.String()
}

// TestUsageErrors checks that mistakes on the command line exit with status
// 2 and say what is accepted, before any host is touched.
func TestUsageErrors(t *testing.T) {
	inv, calls := fakeHosts(t)
	for _, tc := range []struct {
		name string
		args []string
		want []string // pieces of the message
	}{
		{"unknown role to start", []string{"start", "manager", "vm1"},
			[]string{`unknown role "manager"`, "zookeeper, master, worker or client"}},
		{"unknown role to kill", []string{"kill", "boss", "vm1"},
			[]string{`unknown role "boss"`, "zookeeper, master, worker or client"}},
		{"role in the place of the host", []string{"start", "vm1", "worker"},
			[]string{`unknown role "vm1"`}},
		{"unknown host to kill", []string{"kill", "worker", "vm9"},
			[]string{`unknown host "vm9"`, "vm1, vm2, vm3"}},
		{"unknown host to start", []string{"start", "master", "vm4"},
			[]string{`unknown host "vm4"`, "vm1, vm2, vm3"}},
		{"unknown signal", []string{"kill", "master", "vm1", "-s", "FOO"},
			[]string{`unknown signal "FOO"`, "TERM, KILL, STOP, CONT, INT or HUP"}},
		{"signal by number", []string{"kill", "master", "vm1", "--signal=9"},
			[]string{`unknown signal "9"`, "TERM, KILL, STOP, CONT, INT or HUP"}},
		{"signal before the arguments", []string{"kill", "-s", "SIGUSR1", "master", "vm1"},
			[]string{`unknown signal "SIGUSR1"`}},
		{"zero count", []string{"start", "worker", "vm1", "-n", "0"},
			[]string{"-n must be at least 1, got 0"}},
		{"negative count", []string{"start", "worker", "vm1", "--count=-2"},
			[]string{"-n must be at least 1, got -2"}},
		{"negative concurrency", []string{"start", "worker", "vm1", "-c", "-1"},
			[]string{"-c must be at least 1, got -1"}},
		{"zero concurrency", []string{"start", "worker", "vm1", "-c", "0"},
			[]string{"-c must be at least 1, got 0"}},
		{"count not a number", []string{"start", "worker", "vm1", "-n", "two"},
			[]string{`invalid argument "two"`, "-n, --count"}},
		{"bad duration", []string{"start", "client", "vm1", "-d", "abc"},
			[]string{`invalid argument "abc"`, "--duration", `bad duration "abc"`, `"500ms", "1.5s" or plain seconds`}},
		{"negative duration", []string{"start", "client", "vm1", "-d", "-1s"},
			[]string{`negative duration "-1s"`}},
		{"NaN duration", []string{"start", "client", "vm1", "--duration", "NaN"},
			[]string{`duration "NaN" out of range`}},
		{"too many arguments to start", []string{"start", "worker", "vm1", "vm2"},
			[]string{"start: want ROLE HOST", "zookeeper|master|worker|client"}},
		{"too many arguments to kill", []string{"kill", "worker", "vm1", "TERM"},
			[]string{"kill: want ROLE HOST"}},
		{"no arguments to start", []string{"start"},
			[]string{"start: want ROLE HOST"}},
		{"a role other than zookeeper without a host", []string{"start", "worker"},
			[]string{"start worker: want a HOST; only zookeeper starts without one"}},
		{"no arguments to kill", []string{"kill"},
			[]string{"kill: want ROLE HOST"}},
		{"unknown data-loss schedule", []string{"dataloss", "nosuch"},
			[]string{`no schedule "nosuch"`, "stale-diff-sync, diff-sync-crash"}},
		{"data-loss schedule on the wrong ensemble size", []string{"dataloss", "stale-diff-sync"},
			[]string{"dataloss stale-diff-sync needs 5 ZooKeeper servers, the inventory has 3"}},
		{"negative chaos time", []string{"dataloss", "--for", "-1s"},
			[]string{"--for, --runs and --interval must not be negative"}},
		{"restart without zookeeper", []string{"restart"},
			[]string{"restart: want zookeeper [HOST…]"}},
		{"restart of a role", []string{"restart", "master", "vm1"},
			[]string{"restart: want zookeeper [HOST…]"}},
		{"restart of an unknown host", []string{"restart", "zookeeper", "vm9"},
			[]string{`unknown host "vm9"`, "vm1, vm2, vm3"}},
		{"restart with a bad timeout", []string{"restart", "zookeeper", "--timeout", "soon"},
			[]string{`invalid argument "soon"`, "--timeout"}},
		{"arguments to status", []string{"status", "vm1"},
			[]string{"status: want no arguments"}},
		{"arguments to reset", []string{"reset", "-y", "now"},
			[]string{"reset: want no arguments"}},
		{"too many arguments to tree", []string{"tree", "/a", "/b"},
			[]string{"tree: want at most one PATH"}},
		{"relative tree path", []string{"tree", "tasks"},
			[]string{`PATH "tasks" must start with /`}},
		{"too many arguments to tail", []string{"tail", "vm1", "worker", "x"},
			[]string{"tail: want [HOST] [ROLE]"}},
		{"tail of an unknown host", []string{"tail", "vm9"},
			[]string{`"vm9" is neither a host (vm1, vm2, vm3) nor a role`}},
		{"too many arguments to deploy", []string{"deploy", "a.toml", "b.toml"},
			[]string{"deploy: want at most one INVENTORY"}},
		{"zero tasks to submit", []string{"submit", "-n", "0"},
			[]string{"-n must be at least 1, got 0"}},
		{"bad duration to submit", []string{"submit", "-d", "1 s"},
			[]string{`bad duration "1 s"`}},
		{"arguments to submit", []string{"submit", "10"},
			[]string{"submit: want no arguments"}},
		{"arguments to watch", []string{"watch", "vm1"},
			[]string{"watch: want no arguments"}},
		{"zero poll to watch", []string{"watch", "--poll", "0"},
			[]string{"--poll 0s, --fault-poll 10s: both must be more than 0"}},
		{"bad fault poll to watch", []string{"watch", "--fault-poll", "soon"},
			[]string{`bad duration "soon"`}},
		{"unknown long flag", []string{"start", "worker", "vm1", "--bogus"},
			[]string{"unknown flag: --bogus", "--count", "--concurrency"}},
		{"unknown short flag", []string{"kill", "master", "vm1", "-x"},
			[]string{"unknown shorthand flag: 'x' in -x", "--signal"}},
		{"unknown flag before the command", []string{"--nope", "status"},
			[]string{"unknown flag: --nope"}},
		{"flag without its value", []string{"kill", "master", "vm1", "-s"},
			[]string{"flag needs an argument", "-s"}},
		{"unknown command", []string{"frobnicate"},
			[]string{`unknown command "frobnicate"`, "start", "kill"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-i", inv}, tc.args...)
			code, msg, out := runZkctl(t, args...)
			if code != 2 {
				t.Errorf("zkctl %s: exit status %d, want 2 (error %q, output %q)", strings.Join(tc.args, " "), code, msg, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("zkctl %s: error %q does not say %q", strings.Join(tc.args, " "), msg, w)
				}
			}
			if c := calls(); len(c) > 0 {
				t.Errorf("zkctl %s: hosts touched before the usage error: %q", strings.Join(tc.args, " "), c)
			}
		})
	}
}

// TestFlagsAfterArguments checks that flags parse wherever they stand, by
// what reaches the (fake) agent of the host.
func TestFlagsAfterArguments(t *testing.T) {
	inv, calls := fakeHosts(t)
	for _, tc := range []struct {
		args []string
		call string // what the agent of the host is asked, less --dir
	}{
		{[]string{"-i", inv, "kill", "master", "vm1", "-s", "KILL"}, "vm1: node roles signal master -s KILL"},
		{[]string{"-i", inv, "kill", "master", "vm1", "-s", "sigkill"}, "vm1: node roles signal master -s KILL"},
		{[]string{"-i", inv, "kill", "-s", "STOP", "master", "vm2"}, "vm2: node roles signal master -s STOP"},
		{[]string{"-i", inv, "kill", "worker", "-s", "cont", "vm3", "--id", "vm3-w0001"}, "vm3: node roles signal worker -s CONT --id vm3-w0001"},
		{[]string{"-i", inv, "kill", "client", "vm1", "--signal=SIGHUP"}, "vm1: node roles signal client -s HUP"},
		{[]string{"-i", inv, "kill", "master", "vm1"}, "vm1: node roles signal master -s TERM"},
		{[]string{"kill", "master", "vm2", "-s", "INT", "-i", inv}, "vm2: node roles signal master -s INT"},
		{[]string{"-i", inv, "start", "worker", "vm1", "-n", "2", "-c", "3"}, "vm1: node roles start worker -n 2 -- --concurrency=3"},
		{[]string{"start", "client", "vm3", "-d", "0.25", "-i", inv, "--tasks", "5"}, "vm3: node roles start client -n 1 -- --tasks=5 --duration=250ms"},
	} {
		code, msg, out := runZkctl(t, tc.args...)
		got := calls()
		if code != 0 || len(got) != 1 || got[0] != tc.call {
			t.Errorf("zkctl %s: exit status %d (%s; %q), agent called %q, want %q",
				strings.Join(tc.args, " "), code, msg, out, got, tc.call)
		}
	}
}

// TestMissingInventory is a failure (exit 1) naming the file, not a usage
// error.
func TestMissingInventory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.toml")
	code, msg, _ := runZkctl(t, "-i", path, "kill", "master", "vm1")
	if code != 1 || !strings.Contains(msg, path) {
		t.Errorf("exit status %d, error %q; want 1 naming %s", code, msg, path)
	}
}
