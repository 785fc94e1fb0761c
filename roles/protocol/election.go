package protocol

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// SeqDigits is the width of ZooKeeper's sequential suffix.
const SeqDigits = 10

// ProtectedPrefix starts the names that a protected create gives
// (go-zookeeper "_c_<32 hex>-", Curator "_c_<uuid>-").
const ProtectedPrefix = "_c_"

// Candidate is one child of /election.
type Candidate struct {
	Node string // the child's name, as listed
	Name string // the candidate's name, without a protected-create prefix
	Seq  int64  // ZooKeeper's sequence number: the only ordering key
}

// ParseCandidate reads an election child named [protected prefix]<name>_<seq>.
func ParseCandidate(node string) (Candidate, error) {
	i := len(node) - SeqDigits
	if i < 1 || node[i-1] != '_' {
		return Candidate{}, fmt.Errorf("election node %q: want <name>_<%d-digit seq>", node, SeqDigits)
	}
	digits := node[i:]
	for _, r := range digits {
		if r < '0' || r > '9' {
			return Candidate{}, fmt.Errorf("election node %q: sequence %q is not %d digits", node, digits, SeqDigits)
		}
	}
	seq, _ := strconv.ParseInt(digits, 10, 64) // ten digits always fit
	return Candidate{Node: node, Name: stripProtected(node[:i-1]), Seq: seq}, nil
}

// stripProtected removes a protected-create prefix from name.
func stripProtected(name string) string {
	rest, ok := strings.CutPrefix(name, ProtectedPrefix)
	if !ok {
		return name
	}
	for _, n := range []int{32, 36} { // hex GUID (go-zookeeper), UUID (Curator)
		if len(rest) > n && rest[n] == '-' && isGUID(rest[:n]) {
			return rest[n+1:]
		}
	}
	return name
}

func isGUID(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF-", r) {
			return false
		}
	}
	return true
}

// SortCandidates parses and orders election children by sequence number
// alone, lowest (the leader) first. Children that do not follow the protocol
// are returned apart, in listing order.
func SortCandidates(nodes []string) (sorted []Candidate, invalid []string) {
	for _, n := range nodes {
		c, err := ParseCandidate(n)
		if err != nil {
			invalid = append(invalid, n)
			continue
		}
		sorted = append(sorted, c)
	}
	slices.SortFunc(sorted, func(a, b Candidate) int {
		if a.Seq != b.Seq {
			return compareInt(a.Seq, b.Seq)
		}
		return strings.Compare(a.Node, b.Node)
	})
	return sorted, invalid
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Position finds node among sorted candidates: its index (-1 when absent)
// and, when it does not lead, the candidate just before it, the one it
// watches.
func Position(sorted []Candidate, node string) (index int, pred Candidate) {
	for i, c := range sorted {
		if c.Node == node {
			if i > 0 {
				pred = sorted[i-1]
			}
			return i, pred
		}
	}
	return -1, Candidate{}
}
