package node

import (
	"bufio"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// ConfMismatches compares the reply of the conf 4lw with what c renders:
// the tick, the client port, the server's id, its peer type and the
// ensemble's members. It returns one "key: got X, want Y" a difference;
// none when the server runs c's configuration.
func ConfMismatches(conf string, c *Config) []string {
	got := parseConf(conf)
	want := map[string]string{
		"tickTime":   strconv.FormatInt(c.TickTime.Milliseconds(), 10),
		"clientPort": strconv.Itoa(c.ClientPort),
	}
	if self, ok := c.Self(); ok && len(c.Servers) > 1 {
		want["serverId"] = strconv.Itoa(c.MyID)
		want["quorumPort"] = strconv.Itoa(self.PeerPort)
		want["electionPort"] = strconv.Itoa(self.ElectionPort)
		want["peerType"] = "0"
		if self.Observer {
			want["peerType"] = "1"
		}
		for _, s := range c.Servers {
			kind := "participant"
			if s.Observer {
				kind = "observer"
			}
			want[fmt.Sprintf("server.%d", s.ID)] = fmt.Sprintf("%s:%d:%d:%s", s.Address, s.PeerPort, s.ElectionPort, kind)
		}
	}
	var out []string
	for _, k := range sortedKeys(want) {
		if got[k] != want[k] {
			out = append(out, fmt.Sprintf("%s: got %q, want %q", k, got[k], want[k]))
		}
	}
	for _, k := range sortedKeys(got) {
		if strings.HasPrefix(k, "server.") && want[k] == "" {
			out = append(out, fmt.Sprintf("%s: got %q, want none", k, got[k]))
		}
	}
	return out
}

// parseConf reads the key=value lines of a conf reply; a member's line
// "server.N=addr:peer:election:type;client" keeps its part before ";".
func parseConf(conf string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(conf))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		if strings.HasPrefix(k, "server.") {
			v, _, _ = strings.Cut(v, ";")
		}
		out[k] = v
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
