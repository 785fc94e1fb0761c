package node

import (
	"slices"
	"strings"
	"testing"
)

func TestRoleCommandArgv(t *testing.T) {
	rc := RoleCommand{
		Command:  []string{"/usr/bin/python3", "/opt/z/app/client.py", "h1:2181", "{id}", "{tasks}", "{duration}", "x{concurrency}y", "{unknown}"},
		Defaults: map[string]string{"tasks": "10", "duration": "0.5", "concurrency": "1"},
	}
	cases := []struct {
		options []string
		want    []string
	}{
		{nil, []string{"/usr/bin/python3", "/opt/z/app/client.py", "h1:2181", "vm1-c1", "10", "0.5", "x1y", "{unknown}"}},
		{[]string{"--tasks=30", "--duration=200ms", "--concurrency=4"},
			[]string{"/usr/bin/python3", "/opt/z/app/client.py", "h1:2181", "vm1-c1", "30", "0.2", "x4y", "{unknown}"}},
	}
	for _, tc := range cases {
		if got := rc.Argv("vm1-c1", tc.options); !slices.Equal(got, tc.want) {
			t.Errorf("Argv(%v) = %q, want %q", tc.options, got, tc.want)
		}
	}
}

// TestForeignExitsAtOnce: a foreign program that exits at once is
// reported with its command and its log's last lines.
func TestForeignExitsAtOnce(t *testing.T) {
	c := &Config{Host: "vm1", Dir: t.TempDir(), Roles: map[string]RoleCommand{
		"worker": {Command: []string{"/bin/sh", "-c", "echo cannot connect to {id}; exit 3"}},
	}}
	procs, err := StartRoles(c, "worker", 1, "vm1-w1", nil)
	if err == nil || len(procs) != 1 {
		t.Fatalf("want an error, got %v (%d procs)", err, len(procs))
	}
	for _, want := range []string{"worker vm1-w1", `"/bin/sh" "-c" "echo cannot connect to vm1-w1; exit 3"`, "exited within 1s", "cannot connect to vm1-w1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// One that runs is fine, and is what the pidfile names.
	c.Roles["worker"] = RoleCommand{Command: []string{"/bin/sleep", "30"}}
	procs, err = StartRoles(c, "worker", 1, "vm1-w2", nil)
	if err != nil || len(procs) != 1 || !procs[0].Alive() {
		t.Fatalf("sleep: %v %+v", err, procs)
	}
	if err := Stop(procs[0], 0); err != nil {
		t.Fatal(err)
	}
}
