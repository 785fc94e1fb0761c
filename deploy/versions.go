package deploy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// serverVersions groups the servers that answered srvr by the version
// they report; mixed when there is more than one (a roll between two
// versions under way, or stopped half-way).
func serverVersions(rows []ServerRow) (map[string][]string, bool) {
	var vs map[string][]string
	for _, r := range rows {
		if r.Version == "" {
			continue
		}
		if vs == nil {
			vs = map[string][]string{}
		}
		vs[r.Version] = append(vs[r.Version], r.Host)
	}
	return vs, len(vs) > 1
}

// versionsLine is status's line under the servers: the one version, or
// every version with its hosts when the ensemble is mixed.
func versionsLine(vs map[string][]string, mixed bool) string {
	keys := make([]string, 0, len(vs))
	for v := range vs {
		keys = append(keys, v)
	}
	slices.SortFunc(keys, compareReleases)
	switch {
	case len(keys) == 0:
		return ""
	case !mixed:
		return "ZooKeeper " + keys[0] + " on every server that answers"
	}
	parts := make([]string, len(keys))
	for i, v := range keys {
		parts[i] = fmt.Sprintf("%s on %s", v, strings.Join(vs[v], ", "))
	}
	return "MIXED ensemble: ZooKeeper " + strings.Join(parts, "; ") + " (a roll between versions is under way or stopped: `zkctl deploy` finishes it)"
}

// compareReleases orders "3.8.0" before "3.9.3" before "3.10.0": numeric
// parts by number, any other part by text.
func compareReleases(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range min(len(pa), len(pb)) {
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		switch {
		case ea == nil && eb == nil && na != nb:
			return na - nb
		case (ea != nil || eb != nil) && pa[i] != pb[i]:
			return strings.Compare(pa[i], pb[i])
		}
	}
	return len(pa) - len(pb)
}
