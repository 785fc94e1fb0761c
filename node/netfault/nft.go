package netfault

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

const (
	family       = "inet"
	chainIn      = "input"
	chainOut     = "output"
	chainDegrade = "degrade"
)

// cutSet names the partition set of one direction ("in" or "out") and family (4 or 6).
func cutSet(dir string, fam int) string { return fmt.Sprintf("cut_%s%d", dir, fam) }

func keepSet(fam int) string { return fmt.Sprintf("keep%d", fam) }

// degSet names degradation id's set of one family.
func degSet(id, fam int) string { return fmt.Sprintf("deg%d_%d", id, fam) }

func famOf(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

// ipKeyword is the nft payload protocol of a family: "ip" or "ip6".
func ipKeyword(fam int) string {
	if fam == 4 {
		return "ip"
	}
	return "ip6"
}

func addrType(fam int) string {
	if fam == 4 {
		return "ipv4_addr"
	}
	return "ipv6_addr"
}

// script accumulates nft commands for one `nft -f -` transaction.
type script struct{ b strings.Builder }

func (s *script) add(format string, args ...any) {
	fmt.Fprintf(&s.b, format, args...)
	s.b.WriteByte('\n')
}

func (s *script) String() string { return s.b.String() }

// renderBase writes zkctl's table, its partition and exemption sets, and the
// input and output chains with the exemptions first, then the drops. It is
// idempotent: the chains are flushed and rewritten, the sets and the degrade
// chain keep their contents. The controller's addresses accumulate in
// keep4/6 (until heal); an address that this call names as a peer and not
// as the controller leaves them, so a fault that names the controller cuts it.
func renderBase(s *script, ex Exempt, peers []netip.Addr) {
	s.add("add table %s %s", family, TableName)
	for _, fam := range []int{4, 6} {
		for _, dir := range []string{"in", "out"} {
			s.add("add set %s %s %s { type %s; flags timeout; }", family, TableName, cutSet(dir, fam), addrType(fam))
		}
		s.add("add set %s %s %s { type %s; }", family, TableName, keepSet(fam), addrType(fam))
	}
	c4, c6, _ := addrs("controller address", ex.Controller)
	keep := map[netip.Addr]bool{}
	for _, a := range append(c4, c6...) {
		keep[a] = true
		s.add("add element %s %s %s { %s }", family, TableName, keepSet(famOf(a)), a)
	}
	for _, a := range peers {
		if !keep[a] {
			s.add("add element %s %s %s { %s }", family, TableName, keepSet(famOf(a)), a)
			s.add("delete element %s %s %s { %s }", family, TableName, keepSet(famOf(a)), a)
		}
	}
	s.add("add chain %s %s %s", family, TableName, chainDegrade)
	for _, c := range []struct{ name, hook string }{{chainIn, "input"}, {chainOut, "output"}} {
		s.add("add chain %s %s %s { type filter hook %s priority filter; policy accept; }", family, TableName, c.name, c.hook)
		s.add("flush chain %s %s %s", family, TableName, c.name)
	}
	rule := func(chain, body string) { s.add("add rule %s %s %s %s", family, TableName, chain, body) }
	rule(chainIn, fmt.Sprintf("tcp dport %d accept", ex.port()))
	rule(chainOut, fmt.Sprintf("tcp sport %d accept", ex.port()))
	for _, fam := range []int{4, 6} {
		ip := ipKeyword(fam)
		rule(chainIn, fmt.Sprintf("%s saddr @%s accept", ip, keepSet(fam)))
		rule(chainOut, fmt.Sprintf("%s daddr @%s accept", ip, keepSet(fam)))
	}
	for _, fam := range []int{4, 6} {
		ip := ipKeyword(fam)
		rule(chainIn, fmt.Sprintf("%s saddr @%s drop", ip, cutSet("in", fam)))
		rule(chainOut, fmt.Sprintf("%s daddr @%s drop", ip, cutSet("out", fam)))
	}
	rule(chainOut, "jump "+chainDegrade)
}

// timeoutClause is " timeout 3000ms", or "" for no expiry.
func timeoutClause(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return fmt.Sprintf(" timeout %dms", ms)
}

// renderPartition writes the base and the elements of a partition. An
// element already present is replaced, so its timeout is the new one.
func renderPartition(spec PartitionSpec) (string, error) {
	if err := spec.Validate(); err != nil {
		return "", err
	}
	v4, v6, _ := addrs("peer", spec.Peers)
	var s script
	renderBase(&s, spec.Exempt, append(v4, v6...))
	dirs := []string{"out"}
	if !spec.OneWay {
		dirs = append(dirs, "in")
	}
	tc := timeoutClause(spec.For)
	for _, dir := range dirs {
		for _, a := range append(v4, v6...) {
			set := cutSet(dir, famOf(a))
			s.add("add element %s %s %s { %s }", family, TableName, set, a)
			s.add("delete element %s %s %s { %s }", family, TableName, set, a)
			s.add("add element %s %s %s { %s%s }", family, TableName, set, a, tc)
		}
	}
	return s.String(), nil
}

// degradeRules says which nft parts a degradation needs.
type degradeRules struct {
	ID   int
	Mark bool    // mark packets for tc class 7a6b:<id>
	Loss float64 // percent dropped by numgen; 0 = none
}

// lossComment tags the loss rule; status reads the percentage back from it.
func lossComment(id int, loss float64) string {
	return fmt.Sprintf("zkctl deg %d loss %s", id, formatLoss(loss))
}

func markComment(id int) string { return fmt.Sprintf("zkctl deg %d mark", id) }

// renderDegrade writes the base, degradation r.ID's sets with their
// elements (peers, or every address when peers is empty) and its rules.
func renderDegrade(spec DegradeSpec, r degradeRules) (string, error) {
	if err := spec.Validate(); err != nil {
		return "", err
	}
	if r.ID < 1 || r.ID > MaxID {
		return "", fmt.Errorf("degradation id %d outside 1..%d", r.ID, MaxID)
	}
	v4, v6, _ := addrs("peer", spec.Peers)
	elems := map[int][]string{}
	if len(v4)+len(v6) == 0 {
		elems[4], elems[6] = []string{"0.0.0.0/0"}, []string{"::/0"}
	}
	for _, a := range append(v4, v6...) {
		elems[famOf(a)] = append(elems[famOf(a)], a.String())
	}
	var s script
	renderBase(&s, spec.Exempt, append(v4, v6...))
	tc := timeoutClause(spec.For)
	for _, fam := range []int{4, 6} {
		if len(elems[fam]) == 0 {
			continue
		}
		set := degSet(r.ID, fam)
		s.add("add set %s %s %s { type %s; flags interval, timeout; }", family, TableName, set, addrType(fam))
		list := make([]string, len(elems[fam]))
		for i, e := range elems[fam] {
			list[i] = e + tc
		}
		s.add("add element %s %s %s { %s }", family, TableName, set, strings.Join(list, ", "))
		match := fmt.Sprintf("%s daddr @%s", ipKeyword(fam), set)
		if r.Mark {
			s.add("add rule %s %s %s %s meta mark set 0x%08x comment %q", family, TableName, chainDegrade, match, MarkBase|r.ID, markComment(r.ID))
		}
		if r.Loss > 0 {
			s.add("add rule %s %s %s %s %sdrop comment %q", family, TableName, chainDegrade, match, lossMatch(r.Loss), lossComment(r.ID, r.Loss))
		}
	}
	return s.String(), nil
}

// lossMatch is the numgen match that selects p percent of the packets
// (to 0.01%), or "" for all of them (numgen's values stop at 9999).
func lossMatch(p float64) string {
	bp := int(p*100 + 0.5)
	if bp >= 10000 {
		return ""
	}
	return fmt.Sprintf("numgen random mod 10000 < %d ", bp)
}

// renderHeal deletes zkctl's table, whether or not it exists.
func renderHeal() string {
	var s script
	s.add("add table %s %s", family, TableName)
	s.add("delete table %s %s", family, TableName)
	return s.String()
}

// renderRemoveDegradation deletes degradation id's rules (by handle) and sets.
func renderRemoveDegradation(ruleHandles []int, sets []string) string {
	var s script
	for _, h := range ruleHandles {
		s.add("delete rule %s %s %s handle %d", family, TableName, chainDegrade, h)
	}
	for _, set := range sets {
		s.add("delete set %s %s %s", family, TableName, set)
	}
	return s.String()
}
