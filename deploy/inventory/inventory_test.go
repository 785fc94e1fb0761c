package inventory_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"zkctl/deploy/inventory"
)

// lines joins its arguments as the lines of a file, so that a case's line
// numbers can be counted on its arguments.
func lines(l ...string) string { return strings.Join(l, "\n") + "\n" }

// want is one error a case expects: its line (0 for none), a piece of the
// source line that holds the offending key, and a piece of the message.
type want struct {
	line int
	key  string
	msg  string
}

// badCase is an inventory that must be refused with exactly the wanted errors.
type badCase struct {
	name string
	toml string
	want []want
}

// host is a [[host]] block of four lines.
func host(name, addr string, extra ...string) []string {
	return append([]string{"[[host]]", fmt.Sprintf("name = %q", name), fmt.Sprintf("address = %q", addr), `dir = "/opt/zkctl"`}, extra...)
}

func concat(parts ...[]string) string {
	var all []string
	for _, p := range parts {
		all = append(all, p...)
	}
	return lines(all...)
}

var badCases = []badCase{
	// Unknown keys.
	{"unknown top-level key", concat([]string{"user = 1"}, host("vm1", "h1")),
		[]want{{1, "user", `unknown key "user"`}}},
	{"unknown table", concat(host("vm1", "h1"), []string{"[hosts]", `name = "x"`}),
		[]want{{5, "[hosts]", `unknown key "hosts"`}}},
	{"unknown key in cluster", concat([]string{"[cluster]", `tick_time = "1s"`, `session_timeout = "4s"`, `sessiontimeout = "4s"`}, host("vm1", "h1")),
		[]want{{4, "sessiontimeout", `unknown key "cluster.sessiontimeout"`}}},
	{"unknown key in ssh", concat([]string{"[ssh]", `identity = "x"`}, host("vm1", "h1")),
		[]want{{2, "identity", `unknown key "ssh.identity"`}}},
	{"unknown key in zookeeper", concat([]string{"[zookeeper]", `version = "3.8"`}, host("vm1", "h1")),
		[]want{{2, "version", `unknown key "zookeeper.version"`}}},
	{"unknown key in a host", concat(host("vm1", "h1"), host("vm2", "h2", "port = 2182"), host("vm3", "h3")),
		[]want{{9, "port", `unknown key "host.port"`}}},
	{"unknown key in two hosts", concat(host("vm1", "h1", "user = 1"), host("vm2", "h2"), host("vm3", "h3", "user = 2")),
		[]want{{5, "user", `unknown key "host.user"`}, {14, "user", `unknown key "host.user"`}}},
	{"unknown key in host.ssh", concat(host("vm1", "h1"), host("vm2", "h2", "[host.ssh]", "key = 1")),
		[]want{{10, "key", `unknown key "host.ssh.key"`}}},
	{"unknown dotted key in a host", concat(host("vm1", "h1"), host("vm2", "h2", "ssh.usr = 1")),
		[]want{{9, "ssh.usr", `unknown key "host.ssh.usr"`}}},

	// Duplicates.
	{"duplicate name", concat(host("vm1", "h1"), host("vm1", "h2"), host("vm3", "h3")),
		[]want{{6, "vm1", `host "vm1": duplicate name (also host #1)`}}},
	{"duplicate explicit id", concat(host("vm1", "h1", "id = 5"), host("vm2", "h2"), host("vm3", "h3", "id = 5")),
		[]want{{14, "id", `host "vm3": duplicate id 5 (also host "vm1")`}}},
	{"explicit id equal to a position", concat(host("vm1", "h1", "id = 2"), host("vm2", "h2")),
		// vm2 has no id key: the line is its [[host]].
		[]want{{6, "[[host]]", `host "vm2": duplicate id 2 (also host "vm1")`}}},
	{"same address and client port", concat(host("vm1", "h1", "client_port = 2000"), host("vm2", "h1", "client_port = 2000", "peer_port = 2889", "election_port = 3889")),
		[]want{{10, "client_port", `host "vm2": duplicate client_port 2000 on h1 (already used by host "vm1" client_port)`}}},
	{"same address and peer port", concat(host("vm1", "h1"), host("vm2", "h1", "client_port = 2182", "peer_port = 2888", "election_port = 3889")),
		[]want{{10, "peer_port", `host "vm2": duplicate peer_port 2888 on h1`}}},
	{"same address and election port", concat(host("vm1", "h1"), host("vm2", "h1", "client_port = 2182", "peer_port = 2889", "election_port = 3888")),
		[]want{{11, "election_port", `host "vm2": duplicate election_port 3888 on h1`}}},
	{"election port equal to another host's client port", concat(host("vm1", "h1"), host("vm2", "h1", "client_port = 2182", "peer_port = 2889", "election_port = 2181")),
		[]want{{11, "election_port", `host "vm2": duplicate election_port 2181 on h1 (already used by host "vm1" client_port)`}}},
	{"two local hosts on the default ports", lines("[[host]]", `name = "a"`, `transport = "local"`, `dir = "/tmp/a"`, "[[host]]", `name = "b"`, `transport = "local"`, `dir = "/tmp/b"`),
		[]want{
			{5, "[[host]]", `host "b": duplicate client_port 2181 on 127.0.0.1`},
			{5, "[[host]]", `host "b": duplicate peer_port 2888 on 127.0.0.1`},
			{5, "[[host]]", `host "b": duplicate election_port 3888 on 127.0.0.1`},
		}},

	// No hosts.
	{"no hosts", lines("[cluster]", `tick_time = "1s"`), []want{{0, "", "no hosts"}}},
	{"empty file", "", []want{{0, "", "no hosts"}}},
	{"empty host array", lines("host = []"), []want{{0, "", "no hosts"}}},

	// Durations.
	{"unparsable tick_time", concat([]string{"[cluster]", `tick_time = "1 s"`}, host("vm1", "h1")),
		[]want{{2, "tick_time", `cluster.tick_time: bad duration "1 s"`}}},
	{"unparsable session_timeout", concat([]string{"[cluster]", `session_timeout = "soon"`}, host("vm1", "h1")),
		[]want{{2, "session_timeout", `cluster.session_timeout: bad duration "soon"`}}},
	{"negative session_timeout", concat([]string{"[cluster]", `session_timeout = -4`}, host("vm1", "h1")),
		[]want{{2, "session_timeout", `cluster.session_timeout: duration "-4" out of range`}}},
	{"duration of the wrong type", concat([]string{"[cluster]", `tick_time = [1]`}, host("vm1", "h1")),
		[]want{{2, "tick_time", `cluster.tick_time: want a duration such as "500ms" or 0.5, got an array`}}},
	{"unparsable dial_timeout in ssh", concat([]string{"[ssh]", `dial_timeout = "10 seconds"`}, host("vm1", "h1")),
		[]want{{2, "dial_timeout", `ssh.dial_timeout: bad duration "10 seconds"`}}},
	{"unparsable dial_timeout in host.ssh", concat(host("vm1", "h1"), host("vm2", "h2", "[host.ssh]", `dial_timeout = "x"`)),
		[]want{{10, "dial_timeout", `host "vm2": ssh.dial_timeout: bad duration "x"`}}},
	{"tick_time not whole milliseconds", concat([]string{"[cluster]", `tick_time = "2.5ms"`, `session_timeout = "10ms"`}, host("vm1", "h1")),
		[]want{{2, "tick_time", "cluster.tick_time 2.5ms: want a whole number of milliseconds"}}},
	{"zero tick_time", concat([]string{"[cluster]", `tick_time = 0`}, host("vm1", "h1")),
		[]want{{2, "tick_time", "cluster.tick_time 0s: want a whole number of milliseconds, at least 1ms"}}},

	// Session timeout in ticks.
	{"session below 2 ticks", concat([]string{"[cluster]", `tick_time = "500ms"`, `session_timeout = "999ms"`}, host("vm1", "h1")),
		[]want{{3, "session_timeout", "cluster.session_timeout 999ms outside [2, 20] ticks of tick_time 500ms: ZooKeeper allows 1s to 10s"}}},
	{"session above 20 ticks", concat([]string{"[cluster]", `session_timeout = "10001ms"`, `tick_time = "500ms"`}, host("vm1", "h1")),
		[]want{{2, "session_timeout", "cluster.session_timeout 10.001s outside [2, 20] ticks"}}},
	{"session against the default tick", concat([]string{"[cluster]", `session_timeout = "41s"`}, host("vm1", "h1")),
		[]want{{2, "session_timeout", "cluster.session_timeout 41s outside [2, 20] ticks of tick_time 2s"}}},
	{"tick against the default session", concat([]string{"[cluster]", `tick_time = "100ms"`}, host("vm1", "h1")),
		// No session_timeout key: the line is its table's.
		[]want{{1, "[cluster]", "cluster.session_timeout 10s outside [2, 20] ticks of tick_time 100ms"}}},

	// Dirs.
	{"ssh host with a relative dir", lines("[[host]]", `name = "vm1"`, `address = "h1"`, `dir = "opt/zkctl"`),
		[]want{{4, "dir", `host "vm1": dir "opt/zkctl" must be absolute on an SSH host`}}},
	{"explicit ssh host with a relative dir", lines("[[host]]", `name = "vm1"`, `address = "h1"`, `transport = "ssh"`, `dir = "../zk"`),
		[]want{{5, "dir", `host "vm1": dir "../zk" must be absolute on an SSH host`}}},
	{"ssh host with a ~ dir", lines("[[host]]", `name = "vm1"`, `address = "h1"`, `dir = "~/zk"`),
		[]want{{4, "dir", `host "vm1": dir "~/zk" must be absolute on an SSH host ("~" would be this machine's home`}}},
	{"dir is /", lines("[[host]]", `name = "vm1"`, `address = "h1"`, `dir = "/"`),
		[]want{{4, "dir", `host "vm1": dir "/" is the root directory`}}},
	{"dir cleans to /", lines("[[host]]", `name = "vm1"`, `address = "h1"`, `dir = "/opt/../."`),
		[]want{{4, "dir", `host "vm1": dir "/opt/../." is the root directory`}}},
	{"local dir is /", lines("[[host]]", `name = "vm1"`, `transport = "local"`, `dir = "/"`),
		[]want{{4, "dir", `host "vm1": dir "/" is the root directory`}}},
	{"empty dir", lines("[[host]]", `name = "vm1"`, `address = "h1"`, `dir = ""`),
		[]want{{4, "dir", `host "vm1": missing dir`}}},
	{"blank dir", lines("[[host]]", `name = "vm1"`, `transport = "local"`, `dir = " "`),
		[]want{{4, "dir", `host "vm1": missing dir`}}},
	{"no dir", lines("[[host]]", `name = "vm1"`, `address = "h1"`),
		[]want{{1, "[[host]]", `host "vm1": missing dir`}}},

	// run_as.
	{"run_as not a user name", lines("[cluster]", `run_as = "Zoo Keeper"`, "[[host]]", `name = "vm1"`, `address = "h1"`, `dir = "/opt/zk"`),
		[]want{{2, "run_as", `run_as "Zoo Keeper": want a user name`}}},
	{"host run_as not a user name", lines("[[host]]", `name = "vm1"`, `address = "h1"`, `dir = "/opt/zk"`, `run_as = "root;id"`),
		[]want{{5, "run_as", `run_as "root;id": want a user name`}}},

	// Transport.
	{"bad transport", lines("[[host]]", `name = "vm1"`, `address = "h1"`, `dir = "/opt/zk"`, `transport = "rsh"`),
		[]want{{5, "transport", `host "vm1": transport "rsh": want "ssh" or "local"`}}},
	{"transport of the wrong type", lines("[[host]]", `name = "vm1"`, `address = "h1"`, `dir = "/opt/zk"`, `transport = true`),
		[]want{{5, "transport", `host "vm1": transport: want a string, got a boolean`}}},

	// Ports.
	{"cluster client_port 0", concat([]string{"[cluster]", "client_port = 0"}, host("vm1", "h1")),
		[]want{{2, "client_port", "cluster.client_port 0 outside 1..65535"}}},
	{"cluster peer_port too high", concat([]string{"[cluster]", "peer_port = 65536"}, host("vm1", "h1")),
		[]want{{2, "peer_port", "cluster.peer_port 65536 outside 1..65535"}}},
	{"host election_port negative", concat(host("vm1", "h1", "election_port = -3888")),
		[]want{{5, "election_port", `host "vm1": election_port -3888 outside 1..65535`}}},
	{"host client_port huge", concat(host("vm1", "h1", "client_port = 9223372036854775807")),
		[]want{{5, "client_port", `host "vm1": client_port 9223372036854775807 outside 1..65535`}}},
	{"ssh port too high", concat([]string{"[ssh]", "port = 65536"}, host("vm1", "h1")),
		[]want{{2, "port", "ssh.port 65536 outside 1..65535"}}},
	{"host.ssh port 0", concat(host("vm1", "h1"), host("vm2", "h2", "[host.ssh]", "port = 0")),
		[]want{{10, "port", `host "vm2": ssh.port 0 outside 1..65535`}}},
	{"inline host.ssh port 0", concat(host("vm1", "h1", "ssh = { user = \"u\", port = 0 }")),
		[]want{{5, "ssh", `host "vm1": ssh.port 0 outside 1..65535`}}},
	{"port as a string", concat(host("vm1", "h1", `peer_port = "2888"`)),
		[]want{{5, "peer_port", `host "vm1": peer_port: want an integer, got a string`}}},

	// Hosts.
	{"id out of range", concat(host("vm1", "h1", "id = 256")),
		[]want{{5, "id", `host "vm1": id 256 outside 1..255`}}},
	{"missing name", lines("[[host]]", `address = "h1"`, `dir = "/opt/zk"`),
		[]want{{1, "[[host]]", "host #1: missing name"}}},
	{"name with a space", concat(host("vm 1", "h1")),
		[]want{{2, "name", `host "vm 1": name may not contain spaces`}}},
	{"name with a newline", concat(host("vm\n1", "h1")),
		[]want{{2, "name", `host "vm\n1": name may not contain`}}},
	{"address with a newline", concat(host("vm1", "10.0.0.1\nserver.9=evil:1:2")),
		[]want{{3, "address", `host "vm1": address "10.0.0.1\nserver.9=evil:1:2" may not contain spaces or control characters`}}},
	{"address with a space", concat(host("vm1", "10.0.0.1 ")),
		[]want{{3, "address", `host "vm1": address "10.0.0.1 " may not contain spaces`}}},
	{"dir with a newline", lines("[[host]]", `name = "vm1"`, `address = "h1"`, `dir = "/opt/zk\nclientPort=1"`),
		[]want{{4, "dir", `host "vm1": dir "/opt/zk\nclientPort=1" may not contain control characters`}}},
	{"home with a newline", concat([]string{"[zookeeper]", `home = "/usr/share/zookeeper\r"`}, host("vm1", "h1")),
		[]want{{2, "home", `zookeeper.home "/usr/share/zookeeper\r" may not contain control characters`}}},
	{"missing address", lines("[[host]]", `name = "vm1"`, `dir = "/opt/zk"`),
		[]want{{1, "[[host]]", `host "vm1": missing address`}}},
	{"bool of the wrong type", concat([]string{"[ssh]", `sudo = "yes"`}, host("vm1", "h1")),
		[]want{{2, "sudo", "ssh.sudo: want true or false, got a string"}}},

	// Structure and syntax.
	{"host is a table", lines("[host]", `name = "vm1"`),
		[]want{{1, "[host]", "host: incompatible types"}}},
	{"cluster is a number", concat([]string{"cluster = 1"}, host("vm1", "h1")),
		[]want{{1, "cluster", "cluster: expected table but found int64"}}},
	{"unclosed header", lines("[cluster", `tick_time = "1s"`),
		[]want{{1, "[cluster", "expected"}}},
	{"unclosed array header", concat(host("vm1", "h1"), []string{"[[host]", `name = "vm2"`}),
		[]want{{5, "[[host]", "expected end of table array name"}}},
	{"unterminated string", lines("[[host]]", `name = "vm1`, `address = "h1"`),
		[]want{{2, "name", "strings cannot contain newlines"}}},
	{"key twice", lines("[cluster]", `tick_time = "1s"`, `session_timeout = "4s"`, `tick_time = "2s"`),
		[]want{{4, "tick_time", "Key 'cluster.tick_time' has already been defined"}}},
	{"missing value", lines("[cluster]", "tick_time =", `session_timeout = "4s"`),
		[]want{{2, "tick_time", ""}}},
	{"bare word value", concat(host("vm1", "h1", "transport = local")),
		[]want{{5, "transport", ""}}},

	// Lines after multi-line values.
	{"multi-line string holding a header", concat(host("vm1", "h1", "[host.ssh]", `user = """`, "[[host]]", `port = 0"""`, "port = 0")),
		[]want{{9, "port = 0", `host "vm1": ssh.port 0 outside 1..65535`}}},
	{"multi-line array holding a header", concat(host("vm1", "h1", "extra = [", "  [1],", "  [2], # [cluster]", "]", "client_port = 0")),
		[]want{{5, "extra", `unknown key "host.extra"`}, {9, "client_port", `host "vm1": client_port 0 outside 1..65535`}}},

	// Jump hosts and tunnels.
	{"jump with an empty user", concat([]string{"[ssh]", `jump = "@bastion"`}, host("vm1", "h1")),
		[]want{{2, "jump", `ssh.jump: hop "bastion": empty user`}}},
	{"jump with a bad port", concat(host("vm1", "h1", "[host.ssh]", `jump = "admin@bastion:99999"`)),
		[]want{{6, "jump", `host "vm1": ssh.jump: hop "bastion:99999": port "99999"`}}},
	{"jump with an empty hop", concat([]string{"[ssh]", `jump = "a@b,,c"`}, host("vm1", "h1")),
		[]want{{2, "jump", "an empty hop"}}},
	{"jump is not a string", concat([]string{"[ssh]", `jump = ["a@b"]`}, host("vm1", "h1")),
		[]want{{2, "jump", "ssh.jump: want a string"}}},
	{"tunnel = false behind a bastion", concat([]string{"[ssh]", `jump = "admin@bastion"`, "tunnel = false"}, host("vm1", "h1"), host("vm2", "h2")),
		[]want{{3, "tunnel", "ssh.tunnel: tunnel = false with a jump host"}}},
	{"a host turns its tunnel off behind the cluster's bastion", concat([]string{"[ssh]", `jump = "admin@bastion"`}, host("vm1", "h1", "[host.ssh]", "tunnel = false")),
		[]want{{8, "tunnel", `host "vm1": ssh.tunnel: tunnel = false with a jump host`}}},

	// Observers and role-only hosts: what ZooKeeper would refuse.
	{"observer on a role-only host", concat(host("vm1", "h1"), host("vm2", "h2", "zookeeper = false", "observer = true")),
		[]want{{10, "observer", `host "vm2": observer = true on a host with zookeeper = false`}}},
	{"zookeeper_home relative", concat(host("vm1", "h1", `zookeeper_home = "opt/zk"`)),
		[]want{{5, "zookeeper_home", `host "vm1": zookeeper_home "opt/zk" must be an absolute path on the hosts`}}},
	{"zookeeper_home on a role-only host", concat(host("vm1", "h1"), host("vm2", "h2", "zookeeper = false", `zookeeper_home = "/opt/zk"`)),
		[]want{{10, "zookeeper_home", `host "vm2": zookeeper_home on a host with zookeeper = false`}}},
	{"observers only", concat(host("vm1", "h1", "observer = true"), host("vm2", "h2", "observer = true")),
		[]want{{5, "observer", "every server is an observer: ZooKeeper refuses an ensemble without a voting server"}}},
	{"no server at all", concat(host("vm1", "h1", "zookeeper = false"), host("vm2", "h2", "zookeeper = false")),
		[]want{{5, "zookeeper", "every host has zookeeper = false"}}},
	{"observer is not a boolean", concat(host("vm1", "h1", `observer = "yes"`)),
		[]want{{5, "observer", `host "vm1": observer: want true or false, got a string`}}},
	{"zookeeper is not a boolean", concat(host("vm1", "h1"), host("vm2", "h2", "zookeeper = 0")),
		[]want{{9, "zookeeper", `host "vm2": zookeeper: want true or false, got an integer`}}},

	// Every mistake is reported, in the order of the file.
	{"several mistakes", concat([]string{"[cluster]", `tick_time = "x"`, `session_timeout = "y"`}, host("vm1", "h1", "bogus = 1"), host("vm1", "h2", `transport = "x"`)),
		[]want{
			{2, "tick_time", `cluster.tick_time: bad duration "x"`},
			{3, "session_timeout", `cluster.session_timeout: bad duration "y"`},
			{8, "bogus", `unknown key "host.bogus"`},
			{10, "vm1", `host "vm1": duplicate name`},
			{13, "transport", `host "vm1": transport "x"`},
		}},
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range badCases {
		t.Run(tc.name, func(t *testing.T) {
			const path = "/etc/zkctl/inv.toml"
			inv, err := inventory.Parse(path, []byte(tc.toml))
			if err == nil {
				t.Fatalf("accepted:\n%s\nas %+v", tc.toml, inv)
			}
			checkErrors(t, path, tc.toml, err.Error(), tc.want)
		})
	}
}

// checkErrors checks that msg is exactly the wanted errors, one a line, each
// naming path and the line of the offending key.
func checkErrors(t *testing.T, path, source, msg string, wants []want) {
	t.Helper()
	got := strings.Split(msg, "\n")
	src := strings.Split(source, "\n")
	used := make([]bool, len(got))
	for _, w := range wants {
		prefix := path + ": "
		if w.line > 0 {
			prefix = fmt.Sprintf("%s:%d: ", path, w.line)
			// The case itself: the line must be the one of the key.
			if w.line > len(src) || !strings.Contains(src[w.line-1], w.key) {
				t.Errorf("bad case: line %d of the file is not the one of %q", w.line, w.key)
			}
		}
		found := false
		for i, g := range got {
			if !used[i] && strings.HasPrefix(g, prefix) && strings.Contains(g, w.msg) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("no error %q…%q in:\n%s", prefix, w.msg, msg)
		}
	}
	for i, g := range got {
		if !used[i] {
			t.Errorf("unexpected error %q", g)
		}
	}
}

// wantRe is a "# want LINE [KEY]: MESSAGE" comment of a testdata/bad file.
var wantRe = regexp.MustCompile(`(?m)^# want (\d+)(?: (\S+))?: (.*)$`)

// TestTestdata loads the corpus that also seeds FuzzParse: every good file
// loads and keeps the invariants, every bad file is refused with exactly
// the errors its "# want" comments list.
func TestTestdata(t *testing.T) {
	good, _ := filepath.Glob("testdata/good/*.toml")
	bad, _ := filepath.Glob("testdata/bad/*.toml")
	if len(good) < 3 || len(bad) < 10 {
		t.Fatalf("testdata: %d good and %d bad files", len(good), len(bad))
	}
	for _, path := range good {
		t.Run(path, func(t *testing.T) {
			inv, err := inventory.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, inv)
		})
	}
	for _, path := range bad {
		t.Run(path, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var wants []want
			for _, m := range wantRe.FindAllStringSubmatch(string(data), -1) {
				n, _ := strconv.Atoi(m[1])
				wants = append(wants, want{n, m[2], m[3]})
			}
			inv, err := inventory.Load(path)
			if err == nil {
				t.Fatalf("accepted as %+v", inv)
			}
			if len(wants) == 0 {
				// No "# want": any refusal naming the file.
				if !strings.HasPrefix(err.Error(), path+":") {
					t.Errorf("error does not name %s: %v", path, err)
				}
				return
			}
			checkErrors(t, path, string(data), err.Error(), wants)
		})
	}
}

// checkInvariants holds for every inventory Parse accepts.
func checkInvariants(t testing.TB, inv *inventory.Inventory) {
	t.Helper()
	if len(inv.Hosts) == 0 {
		t.Fatal("no hosts")
	}
	c := inv.Cluster
	if c.TickTime < time.Millisecond || c.TickTime%time.Millisecond != 0 {
		t.Errorf("tick_time %v", c.TickTime)
	}
	// Division rather than multiplication: no overflow whatever the tick.
	if n := c.SessionTimeout / c.TickTime; c.TickTime > 0 && (n < 2 || n > 20 || n == 20 && c.SessionTimeout%c.TickTime != 0) {
		t.Errorf("session_timeout %v is not within [2, 20] ticks of %v", c.SessionTimeout, c.TickTime)
	}
	names, ids := map[string]bool{}, map[int]bool{}
	type endpoint struct {
		addr string
		port int
	}
	endpoints := map[endpoint]bool{}
	for _, h := range inv.Hosts {
		if h.Name == "" || strings.ContainsAny(h.Name, " \t\n/:|") {
			t.Errorf("host name %q", h.Name)
		}
		if names[h.Name] {
			t.Errorf("two hosts named %q", h.Name)
		}
		names[h.Name] = true
		if ids[h.ID] || h.ID < 1 || h.ID > 255 {
			t.Errorf("host %q: id %d twice or out of range", h.Name, h.ID)
		}
		ids[h.ID] = true
		if !filepath.IsAbs(h.Dir) || filepath.Clean(h.Dir) == "/" || h.Dir != filepath.Clean(h.Dir) {
			t.Errorf("host %q: dir %q", h.Name, h.Dir)
		}
		if h.Address == "" || strings.ContainsAny(h.Address, " \t\r\n") {
			t.Errorf("host %q: address %q", h.Name, h.Address)
		}
		if strings.ContainsAny(h.Dir, "\r\n\x00") {
			t.Errorf("host %q: dir %q", h.Name, h.Dir)
		}
		if h.Transport != inventory.TransportSSH && h.Transport != inventory.TransportLocal {
			t.Errorf("host %q: transport %q", h.Name, h.Transport)
		}
		for _, p := range []int{h.ClientPort, h.PeerPort, h.ElectionPort, h.SSH.Port} {
			if p < 1 || p > 65535 {
				t.Errorf("host %q: port %d", h.Name, p)
			}
		}
		for _, p := range []int{h.ClientPort, h.PeerPort, h.ElectionPort} {
			ep := endpoint{h.Address, p}
			if endpoints[ep] {
				t.Errorf("host %q: %s:%d used twice", h.Name, h.Address, p)
			}
			endpoints[ep] = true
		}
		if h.SSH.DialTimeout <= 0 {
			t.Errorf("host %q: dial timeout %v", h.Name, h.SSH.DialTimeout)
		}
		for _, p := range []string{h.SSH.IdentityFile, h.SSH.KnownHosts} {
			if p != "" && !filepath.IsAbs(p) {
				t.Errorf("host %q: ssh path %q is not absolute", h.Name, p)
			}
		}
	}
	if n := len(inv.Hosts); (n%2 == 0) != (len(inv.Warnings) > 0) {
		t.Errorf("%d hosts, warnings %q", n, inv.Warnings)
	}
}

func TestRepoInventory(t *testing.T) {
	inv, err := inventory.Load("../../inventory.toml")
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, inv)
	if got := inv.HostNames(); strings.Join(got, ",") != "vm1,vm2,vm3" {
		t.Errorf("hosts %v, want vm1, vm2, vm3", got)
	}
	repo, _ := filepath.Abs("../..")
	ports := map[int]bool{}
	for i, h := range inv.Hosts {
		if !h.IsLocal() || h.Address != "127.0.0.1" || h.ID != i+1 {
			t.Errorf("host %+v: want local on 127.0.0.1 with id %d", h, i+1)
		}
		if want := filepath.Join(repo, ".zkctl", h.Name); h.Dir != want {
			t.Errorf("host %s: dir %s, want %s", h.Name, h.Dir, want)
		}
		for _, p := range []int{h.ClientPort, h.PeerPort, h.ElectionPort} {
			if ports[p] {
				t.Errorf("port %d used twice", p)
			}
			ports[p] = true
		}
	}
	if len(inv.Warnings) != 0 {
		t.Errorf("warnings: %q", inv.Warnings)
	}
	if got := strings.Join(inv.Servers(), ","); got != "127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183" {
		t.Errorf("servers %s", got)
	}
}

func TestDefaults(t *testing.T) {
	inv, err := inventory.Parse("/srv/inv.toml", []byte(lines("[[host]]", `name = "vm1"`, `address = "10.0.0.1"`, `dir = "/opt/zk/"`)))
	if err != nil {
		t.Fatal(err)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	want := inventory.Host{
		Name: "vm1", Address: "10.0.0.1", Dir: "/opt/zk", ID: 1, Transport: inventory.TransportSSH,
		ClientPort: inventory.DefaultClientPort, PeerPort: inventory.DefaultPeerPort, ElectionPort: inventory.DefaultElectionPort,
		SSH:   inventory.SSH{User: "root", Port: 22, KnownHosts: filepath.Join(home, ".ssh/known_hosts"), DialTimeout: inventory.DefaultDialTimeout},
		RunAs: inventory.DefaultRunAs,
	}
	if got := inv.Hosts[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("host\n got %+v\nwant %+v", got, want)
	}
	wantCluster := inventory.Cluster{TickTime: inventory.DefaultTickTime, SessionTimeout: inventory.DefaultSessionTimeout, RunAs: inventory.DefaultRunAs}
	if inv.Cluster != wantCluster || inv.ZooKeeper != (inventory.ZooKeeper{}) || inv.Path != "/srv/inv.toml" {
		t.Errorf("got %+v", inv)
	}
}

// TestOverrides checks which value each host ends up with: its own, else
// the section's default, else zkctl's; paths expanded and resolved.
func TestOverrides(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	dir := t.TempDir()
	path := filepath.Join(dir, "inventory.toml")
	data := lines(
		"[cluster]",
		`tick_time = 0.5`,
		`session_timeout = 4`,
		"client_port = 3181",
		"peer_port = 3889",
		`auth_file = "secret/zk.auth"`,
		"[ssh]",
		`user = "ops"`,
		"port = 2022",
		`identity_file = "~/.ssh/zk"`,
		`known_hosts = "known_hosts"`,
		`dial_timeout = "2.5s"`,
		"[zookeeper]",
		`tarball = "../dist/zk.tar.gz"`,
		`home = "/opt/zookeeper"`,
		`install = "apt"`,
		"[[host]]", // vm1: every default
		`name = "vm1"`,
		`address = "10.0.0.1"`,
		`dir = "/srv/zk"`,
		"[[host]]", // vm2: own ports and ssh
		`name = "vm2"`,
		`address = "10.0.0.2"`,
		`dir = "/opt/zk"`,
		"client_port = 4181",
		"election_port = 4888",
		"id = 7",
		`run_as = "zk2"`,
		"[host.ssh]",
		`user = "root"`,
		"port = 22",
		`identity_file = "keys/vm2"`,
		`known_hosts = ""`,
		"sudo = true",
		"insecure_ignore_host_key = true",
		`dial_timeout = "0"`,
		"[[host]]", // vm3: local, relative dir, dotted and inline overrides
		`name = "vm3"`,
		`transport = "local"`,
		`dir = "state/vm3"`,
		`ssh = { identity_file = "" }`,
	)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, inv)
	if inv.Cluster.TickTime != 500*time.Millisecond || inv.Cluster.SessionTimeout != 4*time.Second {
		t.Errorf("cluster %+v", inv.Cluster)
	}
	if want := filepath.Join(dir, "secret/zk.auth"); inv.Cluster.AuthFile != want {
		t.Errorf("auth_file %q, want %q", inv.Cluster.AuthFile, want)
	}
	wantZK := inventory.ZooKeeper{Home: "/opt/zookeeper", Tarball: filepath.Join(filepath.Dir(dir), "dist/zk.tar.gz"), Install: "apt"}
	if inv.ZooKeeper != wantZK {
		t.Errorf("zookeeper %+v, want %+v", inv.ZooKeeper, wantZK)
	}
	defSSH := inventory.SSH{User: "ops", Port: 2022, IdentityFile: filepath.Join(home, ".ssh/zk"), KnownHosts: filepath.Join(dir, "known_hosts"), DialTimeout: 2500 * time.Millisecond}
	want := []inventory.Host{
		{Name: "vm1", Address: "10.0.0.1", Dir: "/srv/zk", ID: 1, Transport: "ssh", ClientPort: 3181, PeerPort: 3889, ElectionPort: 3888, SSH: defSSH, RunAs: "zookeeper"},
		{Name: "vm2", Address: "10.0.0.2", Dir: "/opt/zk", ID: 7, IDSet: true, RunAs: "zk2", Transport: "ssh", ClientPort: 4181, PeerPort: 3889, ElectionPort: 4888,
			// known_hosts = "" is the default; dial_timeout = 0 keeps [ssh]'s.
			SSH: inventory.SSH{User: "root", Port: 22, IdentityFile: filepath.Join(dir, "keys/vm2"), KnownHosts: filepath.Join(home, ".ssh/known_hosts"),
				Sudo: true, InsecureIgnoreHostKey: true, DialTimeout: 2500 * time.Millisecond}},
		{Name: "vm3", Address: "127.0.0.1", Dir: filepath.Join(dir, "state/vm3"), ID: 3, Transport: "local", ClientPort: 3181, PeerPort: 3889, ElectionPort: 3888,
			// identity_file = "" is the agent.
			SSH: inventory.SSH{User: "ops", Port: 2022, KnownHosts: filepath.Join(dir, "known_hosts"), DialTimeout: 2500 * time.Millisecond}, RunAs: "zookeeper"},
	}
	if len(inv.Hosts) != len(want) {
		t.Fatalf("%d hosts, want %d", len(inv.Hosts), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(inv.Hosts[i], want[i]) {
			t.Errorf("host %d\n got %+v\nwant %+v", i+1, inv.Hosts[i], want[i])
		}
	}
	if len(inv.Warnings) != 0 {
		t.Errorf("warnings: %q", inv.Warnings)
	}
}

func TestLocalDirRelativeToInventory(t *testing.T) {
	for _, tc := range []struct{ path, dir, want string }{
		{"/etc/zkctl/inventory.toml", "vm1", "/etc/zkctl/vm1"},
		{"/etc/zkctl/inventory.toml", "./data/../vm1/", "/etc/zkctl/vm1"},
		{"/etc/zkctl/inventory.toml", "../zk/vm1", "/etc/zk/vm1"},
		{"/etc/zkctl/inventory.toml", "/var/lib/zk", "/var/lib/zk"},
		{"/inventory.toml", "zk", "/zk"},
	} {
		inv, err := inventory.Parse(tc.path, []byte(lines("[[host]]", `name = "a"`, `transport = "local"`, fmt.Sprintf("dir = %q", tc.dir))))
		if err != nil {
			t.Errorf("%s, dir %q: %v", tc.path, tc.dir, err)
			continue
		}
		if got := inv.Hosts[0].Dir; got != tc.want {
			t.Errorf("%s, dir %q: got %q, want %q", tc.path, tc.dir, got, tc.want)
		}
	}
	// Relative to the folder of a relative path: the working directory's.
	wd, _ := os.Getwd()
	inv, err := inventory.Parse("inventory.toml", []byte(lines("[[host]]", `name = "a"`, `transport = "local"`, `dir = "zk"`)))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(wd, "zk"); inv.Hosts[0].Dir != want {
		t.Errorf("dir %q, want %q", inv.Hosts[0].Dir, want)
	}
	// "." next to an inventory in / is / itself.
	_, err = inventory.Parse("/inventory.toml", []byte(lines("[[host]]", `name = "a"`, `transport = "local"`, `dir = "."`)))
	if err == nil || !strings.Contains(err.Error(), `/inventory.toml:4: host "a": dir "." is the root directory`) {
		t.Errorf("dir . in /: %v", err)
	}
}

func TestIDs(t *testing.T) {
	for _, tc := range []struct {
		name string
		ids  []string // "" = no id key
		want []int
	}{
		{"positions", []string{"", "", ""}, []int{1, 2, 3}},
		{"explicit", []string{"10", "20", "30"}, []int{10, 20, 30}},
		{"mixed", []string{"", "5", ""}, []int{1, 5, 3}},
		{"edges", []string{"255", "1"}, []int{255, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var parts [][]string
			for i, id := range tc.ids {
				var extra []string
				if id != "" {
					extra = append(extra, "id = "+id)
				}
				parts = append(parts, host(fmt.Sprintf("vm%d", i+1), fmt.Sprintf("h%d", i+1), extra...))
			}
			inv, err := inventory.Parse("inv.toml", []byte(concat(parts...)))
			if err != nil {
				t.Fatal(err)
			}
			for i, h := range inv.Hosts {
				if h.ID != tc.want[i] {
					t.Errorf("host %s: id %d, want %d", h.Name, h.ID, tc.want[i])
				}
			}
		})
	}
}

func TestEvenIsAWarning(t *testing.T) {
	for n := 1; n <= 6; n++ {
		var parts [][]string
		for i := range n {
			parts = append(parts, host(fmt.Sprintf("vm%d", i+1), fmt.Sprintf("h%d", i+1)))
		}
		inv, err := inventory.Parse("inv.toml", []byte(concat(parts...)))
		if err != nil {
			t.Fatalf("%d hosts: %v", n, err)
		}
		if n%2 == 1 && len(inv.Warnings) != 0 {
			t.Errorf("%d hosts: warnings %q", n, inv.Warnings)
		}
		if n%2 == 0 {
			want := fmt.Sprintf("inv.toml: %d voting servers tolerate no more failures than %d", n, n-1)
			if len(inv.Warnings) != 1 || !strings.HasPrefix(inv.Warnings[0], want) {
				t.Errorf("%d hosts: warnings %q, want %q…", n, inv.Warnings, want)
			}
		}
	}
}

// TestObserversAndRoleOnly: an observer is a server that does not vote; a
// role-only host is no server at all (not in the connection string, its
// ports free for a server on the same address); the even-voters warning
// counts voters only.
func TestObserversAndRoleOnly(t *testing.T) {
	cases := []struct {
		name     string
		hosts    [][]string
		servers  []string
		voters   int
		warnings int
	}{
		{"three voters", [][]string{host("vm1", "h1"), host("vm2", "h2"), host("vm3", "h3")}, []string{"h1:2181", "h2:2181", "h3:2181"}, 3, 0},
		{"three voters and an observer", [][]string{host("vm1", "h1"), host("vm2", "h2"), host("vm3", "h3"), host("vm4", "h4", "observer = true")},
			[]string{"h1:2181", "h2:2181", "h3:2181", "h4:2181"}, 3, 0},
		{"two voters and an observer", [][]string{host("vm1", "h1"), host("vm2", "h2"), host("vm3", "h3", "observer = true")},
			[]string{"h1:2181", "h2:2181", "h3:2181"}, 2, 1},
		{"three voters and a role-only host sharing an address", [][]string{host("vm1", "h1"), host("vm2", "h2"), host("vm3", "h3"), host("vm4", "h1", "zookeeper = false")},
			[]string{"h1:2181", "h2:2181", "h3:2181"}, 3, 0},
		{"zookeeper = true is the default", [][]string{host("vm1", "h1", "zookeeper = true")}, []string{"h1:2181"}, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := inventory.Parse("inv.toml", []byte(concat(tc.hosts...)))
			if err != nil {
				t.Fatal(err)
			}
			if got := inv.Servers(); !reflect.DeepEqual(got, tc.servers) {
				t.Errorf("servers %v, want %v", got, tc.servers)
			}
			if got := inv.Voters(); got != tc.voters {
				t.Errorf("%d voters, want %d", got, tc.voters)
			}
			if len(inv.Warnings) != tc.warnings {
				t.Errorf("warnings %q, want %d", inv.Warnings, tc.warnings)
			}
			for _, h := range inv.Hosts {
				if h.Observer && !h.Serves() || h.Votes() != (h.Serves() && !h.Observer) {
					t.Errorf("host %s: observer %v, serves %v, votes %v", h.Name, h.Observer, h.Serves(), h.Votes())
				}
			}
		})
	}
}

func TestSessionTimeoutBounds(t *testing.T) {
	for _, tc := range []struct {
		tick, session string
		ok            bool
	}{
		{`"500ms"`, `"1s"`, true},     // 2 ticks
		{`"500ms"`, `"10s"`, true},    // 20 ticks
		{`"500ms"`, `"999ms"`, false}, // just under 2
		{`"500ms"`, `"10.001s"`, false},
		{`"1ms"`, `"2ms"`, true},
		{`"1ms"`, `"1ms"`, false},
		{`0.2`, `2`, true}, // plain seconds
		{`"200ms"`, `"4s"`, true},
		{`"200ms"`, `"4.2s"`, false},
		{`"1000000s"`, `"2000000s"`, false}, // beyond the longest duration
	} {
		data := concat([]string{"[cluster]", "tick_time = " + tc.tick, "session_timeout = " + tc.session}, host("vm1", "h1"))
		inv, err := inventory.Parse("inv.toml", []byte(data))
		if (err == nil) != tc.ok {
			t.Errorf("tick %s, session %s: error %v, want ok=%v", tc.tick, tc.session, err, tc.ok)
		}
		if err == nil {
			checkInvariants(t, inv)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string // "" = accepted
	}{
		{"250ms", 250 * time.Millisecond, ""},
		{"1.5s", 1500 * time.Millisecond, ""},
		{"2m30s", 150 * time.Second, ""},
		{"1h", time.Hour, ""},
		{"0.25", 250 * time.Millisecond, ""},
		{"4", 4 * time.Second, ""},
		{"0", 0, ""},
		{"0s", 0, ""},
		{" 3 ", 3 * time.Second, ""},
		{".5", 500 * time.Millisecond, ""},
		{"1e-3", time.Millisecond, ""},
		{"1000000", inventory.MaxDuration, ""},
		{"-1", 0, "out of range"},
		{"-0.25", 0, "out of range"},
		{"-250ms", 0, "negative"},
		{"-1s", 0, "negative"},
		{"", 0, "empty"},
		{"   ", 0, "empty"},
		{"abc", 0, `bad duration "abc"`},
		{"1 s", 0, "bad duration"},
		{"5 seconds", 0, "bad duration"},
		{"ms", 0, "bad duration"},
		{"1.5.s", 0, "bad duration"},
		{"NaN", 0, "out of range"},
		{"nan", 0, "out of range"},
		{"Inf", 0, "out of range"},
		{"-Inf", 0, "out of range"},
		{"1e400", 0, "bad duration"},
		{"1000001", 0, "out of range"},
		{"1000001s", 0, "out of range"},
		{"2562047h", 0, "out of range"},
		{"9999999999h", 0, "bad duration"},
	} {
		got, err := inventory.ParseDuration(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ParseDuration(%q): %v", tc.in, err)
		case tc.err == "" && got != tc.want:
			t.Errorf("ParseDuration(%q) = %v, want %v", tc.in, got, tc.want)
		case tc.err != "" && err == nil:
			t.Errorf("ParseDuration(%q) = %v, want an error", tc.in, got)
		case tc.err != "" && !strings.Contains(err.Error(), tc.err):
			t.Errorf("ParseDuration(%q): error %q, want %q", tc.in, err, tc.err)
		}
	}
}

func TestDurationUnmarshalTOML(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want time.Duration
		ok   bool
	}{
		{"1.5s", 1500 * time.Millisecond, true},
		{int64(3), 3 * time.Second, true},
		{0.25, 250 * time.Millisecond, true},
		{1e300, 0, false},
		{int64(-1), 0, false},
		{true, 0, false},
	} {
		var d inventory.Duration
		err := d.UnmarshalTOML(tc.in)
		if (err == nil) != tc.ok || (tc.ok && d.Duration != tc.want) {
			t.Errorf("UnmarshalTOML(%v) = %v, %v; want %v, ok=%v", tc.in, d.Duration, err, tc.want, tc.ok)
		}
		if err != nil && len(err.Error()) > 200 {
			t.Errorf("UnmarshalTOML(%v): error of %d bytes", tc.in, len(err.Error()))
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.toml")
	_, err := inventory.Load(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Load(%s): %v, want an error naming the file", path, err)
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    inventory.Error
		want string
	}{
		{inventory.Error{File: "a.toml", Line: 3, Msg: "bad"}, "a.toml:3: bad"},
		{inventory.Error{File: "a.toml", Msg: "bad"}, "a.toml: bad"},
		{inventory.Error{File: "a.toml", Line: 1, Msg: "two\nlines\r"}, `a.toml:1: two\nlines\r`},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.e, got, tc.want)
		}
	}
}

func TestJump(t *testing.T) {
	inv, err := inventory.Parse("/srv/inv.toml", []byte(concat(
		[]string{"[ssh]", `user = "ubuntu"`, `jump = "admin@bastion.example:2222, [fd00::1]"`},
		host("vm1", "10.0.0.1"),
		host("vm2", "10.0.0.2", "[host.ssh]", `user = "zk"`),
		host("vm3", "10.0.0.3", "[host.ssh]", `jump = ""`),
		host("vm4", "10.0.0.4", "[host.ssh]", `jump = ""`, "tunnel = true"),
		host("vm5", "10.0.0.5", "[host.ssh]", `jump = ""`, "tunnel = false"),
	)))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		jump   []inventory.Hop
		tunnel inventory.Tunnel
	}{
		{[]inventory.Hop{{User: "admin", Address: "bastion.example", Port: 2222}, {User: "ubuntu", Address: "fd00::1", Port: 22}}, inventory.TunnelAlways},
		// A hop without a user logs in as the host's login user.
		{[]inventory.Hop{{User: "admin", Address: "bastion.example", Port: 2222}, {User: "zk", Address: "fd00::1", Port: 22}}, inventory.TunnelAlways},
		{nil, inventory.TunnelAuto},
		{nil, inventory.TunnelAlways},
		{nil, inventory.TunnelNever},
	}
	for i, w := range want {
		h := inv.Hosts[i]
		if !reflect.DeepEqual(h.SSH.Jump, w.jump) || h.SSH.Tunnel != w.tunnel {
			t.Errorf("%s: jump %+v tunnel %v, want %+v %v", h.Name, h.SSH.Jump, h.SSH.Tunnel, w.jump, w.tunnel)
		}
	}
	if got := inv.Hosts[0].SSH.Jump[1].String(); got != "ubuntu@[fd00::1]:22" {
		t.Errorf("hop string %q", got)
	}
}
