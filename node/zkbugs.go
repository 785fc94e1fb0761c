package node

import (
	"strconv"
	"strings"
)

// KnownBug is a bug of ZooKeeper that loses committed data, and the first
// release that has its fix. KnownBugs is the one table of them: `zkctl
// check` warns of those a host's version has, and whoever judges a run
// on such a version may cite them.
type KnownBug struct {
	ID      string // "ZOOKEEPER-4643"
	Summary string
	FixedIn string // the first release with the fix
	Since   string // the first release with the bug; "": every release before FixedIn
}

// KnownBugs are the data-loss bugs zkctl knows, by issue. The fix
// releases are those the issues' "Fix Version" fields name; Debian 12's
// 3.8.0 has all three, and one chaos run of this project has hit them
// (a server killed right after its sync lost committed transactions).
//
// ZOOKEEPER-4925 came with the fix of ZOOKEEPER-4394 and is in 3.9.3 only
// (its fix's commit: "fails on master and 3.9.3, and passes on 3.9.2");
// `zkctl dataloss stale-diff-sync` reproduces it there.
var KnownBugs = []KnownBug{
	{"ZOOKEEPER-4643", "committed txns may be truncated when a follower crashes after updating currentEpoch, before persisting them", "3.9.3", ""},
	{"ZOOKEEPER-4646", "committed txns may be lost when followers crash after ACKing NEWLEADER, before writing them to disk", "3.9.3", ""},
	{"ZOOKEEPER-4785", "txn loss by a race in Learner.syncWithLeader() during a DIFF sync", "3.9.2", ""},
	{"ZOOKEEPER-4925", "a stale follower synced by DIFF keeps a hole in its committedLog and, once it leads, DIFF-syncs staler followers without the hole's txns", "3.9.4", "3.9.3"},
}

// BugsOf lists the known bugs of ZooKeeper version v ("3.8.0"); none for
// a version it cannot read.
func BugsOf(v string) []KnownBug {
	have, ok := parseVersion(v)
	if !ok {
		return nil
	}
	var out []KnownBug
	for _, b := range KnownBugs {
		since, ok := parseVersion(b.Since)
		if fixed, _ := parseVersion(b.FixedIn); less(have, fixed) && (!ok || !less(have, since)) {
			out = append(out, b)
		}
	}
	return out
}

// parseVersion reads "major.minor.patch", ignoring a suffix after '-'.
func parseVersion(v string) ([3]int, bool) {
	var out [3]int
	v, _, _ = strings.Cut(v, "-")
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return out, false
		}
		out[i] = n
	}
	return out, true
}

func less(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// NewestFix is the latest of the releases that fix bugs: the version to
// move to.
func NewestFix(bugs []KnownBug) string {
	newest, best := "", [3]int{}
	for _, b := range bugs {
		if v, ok := parseVersion(b.FixedIn); ok && (newest == "" || less(best, v)) {
			newest, best = b.FixedIn, v
		}
	}
	return newest
}
