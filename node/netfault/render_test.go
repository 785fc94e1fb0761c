package netfault

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseLoss(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		bad  bool
	}{
		{"20%", 20, false}, {"20", 20, false}, {"0.5%", 0.5, false}, {"0", 0, false}, {"100%", 100, false},
		{"150%", 0, true}, {"-1", 0, true}, {"x%", 0, true}, {"", 0, true},
	} {
		got, err := ParseLoss(tc.in)
		if tc.bad {
			if !errors.Is(err, ErrBadSpec) {
				t.Errorf("ParseLoss(%q) = %v, %v; want ErrBadSpec", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseLoss(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		bad  bool
	}{
		{"1mbit", 1e6, false}, {"500kbit", 5e5, false}, {"1.5Mbit", 15e5, false}, {"2mbps", 16e6, false},
		{"100bit", 100, false}, {"1gbit", 1e9, false},
		{"5", 0, true}, {"mbit", 0, true}, {"-1mbit", 0, true}, {"1 furlong", 0, true}, {"0kbit", 0, true},
	} {
		got, err := ParseRate(tc.in)
		if tc.bad {
			if !errors.Is(err, ErrBadSpec) {
				t.Errorf("ParseRate(%q) = %v, %v; want ErrBadSpec", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for bits, want := range map[uint64]string{1e6: "1mbit", 15e5: "1500kbit", 7: "7bit", 2e9: "2gbit"} {
		if got := FormatRate(bits); got != want {
			t.Errorf("FormatRate(%d) = %q, want %q", bits, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := PartitionSpec{Peers: []string{"10.0.0.2"}, For: time.Minute}
	for name, spec := range map[string]PartitionSpec{
		"no peer":        {},
		"not an address": {Peers: []string{"vm2"}},
		"negative for":   {Peers: ok.Peers, For: -time.Second},
		"bad controller": {Peers: ok.Peers, Exempt: Exempt{Controller: []string{"x"}}},
		"bad ssh port":   {Peers: ok.Peers, Exempt: Exempt{SSHPort: 70000}},
	} {
		if err := spec.Validate(); !errors.Is(err, ErrBadSpec) {
			t.Errorf("partition %s: Validate = %v, want ErrBadSpec", name, err)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid partition: %v", err)
	}
	for name, spec := range map[string]DegradeSpec{
		"nothing":        {},
		"loss over 100":  {Loss: 150},
		"negative loss":  {Loss: -1},
		"negative delay": {Delay: -time.Millisecond},
		"tiny rate":      {Rate: 3},
		"bad peer":       {Loss: 5, Peers: []string{"10.0.0"}},
	} {
		if err := spec.Validate(); !errors.Is(err, ErrBadSpec) {
			t.Errorf("degrade %s: Validate = %v, want ErrBadSpec", name, err)
		}
	}
}

// lines splits a script into its commands.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		out = append(out, l)
	}
	return out
}

func has(ls []string, l string) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}

func TestRenderBase(t *testing.T) {
	var s script
	renderBase(&s, Exempt{SSHPort: 2222, Controller: []string{"10.0.0.1"}}, nil)
	want := `add table inet zkctl
add set inet zkctl cut_in4 { type ipv4_addr; flags timeout; }
add set inet zkctl cut_out4 { type ipv4_addr; flags timeout; }
add set inet zkctl keep4 { type ipv4_addr; }
add set inet zkctl cut_in6 { type ipv6_addr; flags timeout; }
add set inet zkctl cut_out6 { type ipv6_addr; flags timeout; }
add set inet zkctl keep6 { type ipv6_addr; }
add element inet zkctl keep4 { 10.0.0.1 }
add chain inet zkctl degrade
add chain inet zkctl input { type filter hook input priority filter; policy accept; }
flush chain inet zkctl input
add chain inet zkctl output { type filter hook output priority filter; policy accept; }
flush chain inet zkctl output
add rule inet zkctl input tcp dport 2222 accept
add rule inet zkctl output tcp sport 2222 accept
add rule inet zkctl input ip saddr @keep4 accept
add rule inet zkctl output ip daddr @keep4 accept
add rule inet zkctl input ip6 saddr @keep6 accept
add rule inet zkctl output ip6 daddr @keep6 accept
add rule inet zkctl input ip saddr @cut_in4 drop
add rule inet zkctl output ip daddr @cut_out4 drop
add rule inet zkctl input ip6 saddr @cut_in6 drop
add rule inet zkctl output ip6 daddr @cut_out6 drop
add rule inet zkctl output jump degrade
`
	if s.String() != want {
		t.Errorf("base script:\n%s\nwant:\n%s", s.String(), want)
	}
	for _, l := range lines(s.String()) {
		if strings.Contains(l, "flush ruleset") || strings.Contains(l, "flush table") || (strings.Contains(l, " table ") && !strings.Contains(l, " zkctl")) {
			t.Errorf("base touches more than zkctl's table: %q", l)
		}
	}
}

func TestRenderPartition(t *testing.T) {
	for _, tc := range []struct {
		name      string
		spec      PartitionSpec
		want, not []string
	}{
		{
			name: "both ways with expiry",
			spec: PartitionSpec{Peers: []string{"10.0.0.2", "10.0.0.2", "fd00::2"}, For: 3 * time.Second},
			want: []string{
				"add element inet zkctl cut_out4 { 10.0.0.2 }",
				"delete element inet zkctl cut_out4 { 10.0.0.2 }",
				"add element inet zkctl cut_out4 { 10.0.0.2 timeout 3000ms }",
				"add element inet zkctl cut_in4 { 10.0.0.2 timeout 3000ms }",
				"add element inet zkctl cut_in6 { fd00::2 timeout 3000ms }",
				"add element inet zkctl cut_out6 { fd00::2 timeout 3000ms }",
				"add rule inet zkctl input tcp dport 22 accept",
			},
		},
		{
			name: "one way, until healed",
			spec: PartitionSpec{Peers: []string{"10.0.0.2"}, OneWay: true},
			want: []string{"add element inet zkctl cut_out4 { 10.0.0.2 }"},
			not:  []string{"add element inet zkctl cut_in4 { 10.0.0.2 }", "add element inet zkctl cut_out4 { 10.0.0.2 timeout 0ms }"},
		},
		{
			name: "controller exempt",
			spec: PartitionSpec{Peers: []string{"10.0.0.2", "10.0.0.1"}, Exempt: Exempt{Controller: []string{"10.0.0.1"}}},
			want: []string{"add element inet zkctl keep4 { 10.0.0.1 }"},
			not:  []string{"delete element inet zkctl keep4 { 10.0.0.1 }"},
		},
		{
			name: "controller named as a peer is cut",
			spec: PartitionSpec{Peers: []string{"10.0.0.1"}},
			want: []string{"delete element inet zkctl keep4 { 10.0.0.1 }"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := renderPartition(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			ls := lines(got)
			for _, w := range tc.want {
				if !has(ls, w) {
					t.Errorf("missing %q in\n%s", w, got)
				}
			}
			for _, n := range tc.not {
				if has(ls, n) {
					t.Errorf("unexpected %q in\n%s", n, got)
				}
			}
			if strings.Count(got, "cut_out4 { 10.0.0.2") > 3 {
				t.Errorf("duplicate peer rendered twice:\n%s", got)
			}
		})
	}
	if _, err := renderPartition(PartitionSpec{}); !errors.Is(err, ErrBadSpec) {
		t.Errorf("empty partition rendered: %v", err)
	}
}

func TestRenderDegrade(t *testing.T) {
	for _, tc := range []struct {
		name      string
		spec      DegradeSpec
		r         degradeRules
		want, not []string
	}{
		{
			name: "loss to a peer",
			spec: DegradeSpec{Peers: []string{"10.0.0.2"}, Loss: 12.5, For: 4 * time.Second},
			r:    degradeRules{ID: 3, Loss: 12.5},
			want: []string{
				"add set inet zkctl deg3_4 { type ipv4_addr; flags interval, timeout; }",
				"add element inet zkctl deg3_4 { 10.0.0.2 timeout 4000ms }",
				`add rule inet zkctl degrade ip daddr @deg3_4 numgen random mod 10000 < 1250 drop comment "zkctl deg 3 loss 12.5%"`,
			},
			not: []string{"add set inet zkctl deg3_6 { type ipv6_addr; flags interval, timeout; }"},
		},
		{
			name: "all lost",
			spec: DegradeSpec{Peers: []string{"fd00::2"}, Loss: 100},
			r:    degradeRules{ID: 1, Loss: 100},
			want: []string{`add rule inet zkctl degrade ip6 daddr @deg1_6 drop comment "zkctl deg 1 loss 100%"`},
		},
		{
			name: "rate to everything",
			spec: DegradeSpec{Rate: 1e6},
			r:    degradeRules{ID: 0x1f, Mark: true},
			want: []string{
				"add element inet zkctl deg31_4 { 0.0.0.0/0 }",
				"add element inet zkctl deg31_6 { ::/0 }",
				`add rule inet zkctl degrade ip daddr @deg31_4 meta mark set 0x7a6b001f comment "zkctl deg 31 mark"`,
				`add rule inet zkctl degrade ip6 daddr @deg31_6 meta mark set 0x7a6b001f comment "zkctl deg 31 mark"`,
			},
			not: []string{`add rule inet zkctl degrade ip daddr @deg31_4 numgen random mod 10000 < 0 drop comment "zkctl deg 31 loss 0%"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := renderDegrade(tc.spec, tc.r)
			if err != nil {
				t.Fatal(err)
			}
			ls := lines(got)
			for _, w := range tc.want {
				if !has(ls, w) {
					t.Errorf("missing %q in\n%s", w, got)
				}
			}
			for _, n := range tc.not {
				if has(ls, n) {
					t.Errorf("unexpected %q in\n%s", n, got)
				}
			}
		})
	}
	if _, err := renderDegrade(DegradeSpec{Loss: 5}, degradeRules{ID: 0}); err == nil {
		t.Error("id 0 accepted")
	}
	if got, want := renderHeal(), "add table inet zkctl\ndelete table inet zkctl\n"; got != want {
		t.Errorf("heal script %q, want %q", got, want)
	}
	if got, want := renderRemoveDegradation([]int{7, 9}, []string{"deg1_4"}), "delete rule inet zkctl degrade handle 7\ndelete rule inet zkctl degrade handle 9\ndelete set inet zkctl deg1_4\n"; got != want {
		t.Errorf("remove script %q, want %q", got, want)
	}
}

func TestTCArgs(t *testing.T) {
	for _, tc := range []struct{ got, want []string }{
		{tcClassArgs("eth0", 0x1f, 1e6), strings.Fields("class add dev eth0 parent 7a6b: classid 7a6b:1f htb rate 1000000bit ceil 1000000bit")},
		{tcFilterArgs("eth0", 2), strings.Fields("filter add dev eth0 parent 7a6b: protocol all prio 2 u32 match mark 0x7a6b0002 0xffffffff classid 7a6b:2")},
		{tcNetemArgs("eth0", 2, 100*time.Millisecond, 20), strings.Fields("qdisc add dev eth0 parent 7a6b:2 handle 2: netem delay 100000us loss 20%")},
		{tcNetemArgs("eth0", 2, time.Millisecond, 0), strings.Fields("qdisc add dev eth0 parent 7a6b:2 handle 2: netem delay 1000us")},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("tc args %q, want %q", tc.got, tc.want)
		}
	}
}

// TestReadBack parses a table and classes that nft 1.0.6 and tc printed
// for: a 300 s cut of 10.239.0.2 both ways, one-way cuts of 10.239.0.3 and
// fd00::3 and a both-ways cut of 10.239.0.4 until healed, degradation 1
// (12.5% loss and 2mbit to 10.239.0.2) and 2 (10% loss to all), controller
// 10.239.0.9.
func TestReadBack(t *testing.T) {
	data, err := os.ReadFile("testdata/table.json")
	if err != nil {
		t.Fatal(err)
	}
	tab, err := parseTable(data)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	wantCuts := []Cut{
		{Peer: "10.239.0.2", Direction: DirBoth, ExpiresAt: now.Add(299 * time.Second)},
		{Peer: "10.239.0.3", Direction: DirOut, UntilHealed: true},
		{Peer: "10.239.0.4", Direction: DirBoth, UntilHealed: true},
		{Peer: "fd00::3", Direction: DirOut, UntilHealed: true},
	}
	if got := cuts(tab, now); !reflect.DeepEqual(got, wantCuts) {
		t.Errorf("cuts:\n%+v\nwant\n%+v", got, wantCuts)
	}
	degs := degradations(tab, now)
	if len(degs) != 2 {
		t.Fatalf("degradations %+v, want ids 1 and 2", degs)
	}
	d1, d2 := degs[1], degs[2]
	if !reflect.DeepEqual(d1.Peers, []string{"10.239.0.2"}) || d1.All || !d1.UntilHealed || len(d1.rules) != 2 || len(d1.sets) != 1 {
		t.Errorf("degradation 1: %+v", d1)
	}
	if len(d1.Knobs) != 1 || d1.Knobs[0].String() != "loss 12.5% via nft numgen" {
		t.Errorf("degradation 1 knobs: %v", d1.Knobs)
	}
	if !d2.All || len(d2.Peers) != 0 || len(d2.sets) != 2 || len(d2.rules) != 2 || d2.expired {
		t.Errorf("degradation 2: %+v", d2)
	}
	classes, err := os.ReadFile("testdata/classes.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := parseClasses(string(classes)), []tcClass{{ID: 1, Rate: "2Mbit"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("classes %+v, want %+v", got, want)
	}
}

// TestCutsMerge shows a peer's in and out entries stay apart when their
// expiries differ, and that a table without zkctl's sets has no cuts.
func TestCutsMerge(t *testing.T) {
	now := time.Unix(1000, 0)
	tab := nftTable{Sets: []nftSet{
		{Name: "cut_in4", Elems: []element{{Val: "10.0.0.2", Expires: 10 * time.Second}}},
		{Name: "cut_out4", Elems: []element{{Val: "10.0.0.2", Expires: 50 * time.Second}, {Val: "10.0.0.3", Permanent: true}}},
		{Name: "other", Elems: []element{{Val: "10.0.0.9", Permanent: true}}},
	}}
	want := []Cut{
		{Peer: "10.0.0.2", Direction: DirIn, ExpiresAt: now.Add(10 * time.Second)},
		{Peer: "10.0.0.2", Direction: DirOut, ExpiresAt: now.Add(50 * time.Second)},
		{Peer: "10.0.0.3", Direction: DirOut, UntilHealed: true},
	}
	if got := cuts(tab, now); !reflect.DeepEqual(got, want) {
		t.Errorf("cuts %+v, want %+v", got, want)
	}
	if got := cuts(nftTable{}, now); len(got) != 0 {
		t.Errorf("empty table: cuts %+v", got)
	}
}

func TestKnobString(t *testing.T) {
	for _, tc := range []struct {
		k    Knob
		want string
	}{
		{Knob{Knob: "loss", Value: "20%", Applied: true, Via: "nft numgen"}, "loss 20% via nft numgen"},
		{Knob{Knob: "rate", Value: "1mbit", Applied: true, Via: "htb on eth0"}, "rate 1mbit via htb on eth0"},
		{Knob{Knob: "delay", Value: "100ms", Reason: "no sch_netem in this kernel"}, "delay 100ms: not applied, no sch_netem in this kernel"},
	} {
		if got := tc.k.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.k, got, tc.want)
		}
	}
}
