package inventory_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"zkctl/deploy/inventory"
)

// TestRolesRefused: every mistake of a [roles.*] table is refused with
// file:line and the key, before any host is touched.
func TestRolesRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "master.py"), []byte("print(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	head := host("vm1", "h1")
	cases := []struct {
		name  string
		roles []string
		line  int
		msg   string
	}{
		{"unknown placeholder", []string{"[roles.master]", `command = ["/usr/bin/python3", "{app}/master.py", "{server}"]`},
			6, `roles.master.command: unknown placeholder {server} in "{server}"`},
		{"worker placeholder in a client", []string{"[roles.client]", `command = ["c", "{concurrency}"]`},
			6, "unknown placeholder {concurrency}"},
		{"missing file", []string{"[roles.master]", `command = ["m"]`, `files = ["master.py", "nope.py"]`},
			7, "roles.master.files: stat " + filepath.Join(dir, "nope.py") + ": no such file or directory"},
		{"empty command", []string{"[roles.worker]", `command = []`},
			6, "roles.worker.command: want a non-empty list of strings"},
		{"command a string", []string{"[roles.worker]", `command = "python3 worker.py"`},
			6, "roles.worker.command: want a list of strings, got a string"},
		{"command of numbers", []string{"[roles.worker]", `command = ["w", 1]`},
			6, "roles.worker.command: element 2: want a string, got an integer"},
		{"unknown role", []string{"[roles.scheduler]", `command = ["s"]`},
			5, `[roles.scheduler]: unknown role "scheduler": want master, worker, client`},
		{"unknown key", []string{"[roles.master]", `command = ["m"]`, `file = ["master.py"]`},
			7, `unknown key "roles.master.file"`},
		{"bad package name", []string{"[roles.master]", `command = ["m"]`, `packages = ["Python3 Kazoo"]`},
			7, `roles.master.packages: "Python3 Kazoo" is not a Debian package name`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "inventory.toml")
			_, err := inventory.Parse(path, []byte(concat(head, tc.roles)))
			if err == nil {
				t.Fatalf("accepted; want %q", tc.msg)
			}
			want := path + ":" + itoa(tc.line) + ": "
			if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got  %v\nwant %s…%s", err, want, tc.msg)
			}
		})
	}
}

// TestRolesAccepted: a good [roles.*] table, with files resolved against
// the inventory's folder.
func TestRolesAccepted(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"master.py", "zkproto.py"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	toml := concat(host("vm1", "h1"), []string{"[roles.master]",
		`command = ["/usr/bin/python3", "{app}/master.py", "{servers}", "{id}", "{session_timeout}", "{auth_file}", "{tls_ca}"]`,
		`files = ["master.py", "zkproto.py"]`, `packages = ["python3-kazoo"]`,
		"[roles.client]", `command = ["c", "{tasks}", "{duration}"]`})
	inv, err := inventory.Parse(filepath.Join(dir, "inventory.toml"), []byte(toml))
	if err != nil {
		t.Fatal(err)
	}
	m := inv.Roles["master"]
	if len(inv.Roles) != 2 || m.Command[1] != "{app}/master.py" || !slices.Equal(m.Files, []string{filepath.Join(dir, "master.py"), filepath.Join(dir, "zkproto.py")}) ||
		!slices.Equal(m.Packages, []string{"python3-kazoo"}) {
		t.Fatalf("roles: %+v", inv.Roles)
	}
	if _, ok := inv.Roles["worker"]; ok {
		t.Fatal("a worker without a table is zkctl's own")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
