package protocol

import (
	"slices"
	"testing"
)

func TestParseCandidate(t *testing.T) {
	tests := []struct {
		node string
		name string
		seq  int64
		bad  bool
	}{
		{node: "m1_0000000003", name: "m1", seq: 3},
		{node: "_c_0123456789abcdef0123456789abcdef-m2_0000000010", name: "m2", seq: 10},
		{node: "_c_12345678-1234-1234-1234-123456789abc-m3_0000000011", name: "m3", seq: 11},
		{node: "with_under_score_0000000007", name: "with_under_score", seq: 7},
		{node: "_c_notaguid-x_0000000001", name: "_c_notaguid-x", seq: 1},
		{node: "_0000000005", name: "", seq: 5},
		{node: "m1_000000003", bad: true},
		{node: "m10000000003", bad: true},
		{node: "m1_00000000a3", bad: true},
		{node: "junk", bad: true},
		{node: "", bad: true},
	}
	for _, tt := range tests {
		c, err := ParseCandidate(tt.node)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseCandidate(%q) = %+v, want error", tt.node, c)
			}
			continue
		}
		if err != nil || c.Name != tt.name || c.Seq != tt.seq || c.Node != tt.node {
			t.Errorf("ParseCandidate(%q) = %+v, %v; want name %q seq %d", tt.node, c, err, tt.name, tt.seq)
		}
	}
}

func TestSortCandidatesBySequenceAlone(t *testing.T) {
	nodes := []string{
		"zeta_0000000002",
		"_c_ffffffffffffffffffffffffffffffff-alpha_0000000009",
		"junk",
		"_c_00000000000000000000000000000000-omega_0000000001",
		"alpha_0000000004",
		"beta_0000000010",
	}
	sorted, invalid := SortCandidates(nodes)
	var got []string
	for _, c := range sorted {
		got = append(got, c.Name)
	}
	want := []string{"omega", "zeta", "alpha", "alpha", "beta"}
	if !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	if !slices.Equal(invalid, []string{"junk"}) {
		t.Errorf("invalid = %v", invalid)
	}

	i, pred := Position(sorted, "beta_0000000010")
	if i != 4 || pred.Seq != 9 {
		t.Errorf("Position(beta) = %d %+v, want 4 and seq 9", i, pred)
	}
	if i, pred := Position(sorted, sorted[0].Node); i != 0 || pred != (Candidate{}) {
		t.Errorf("Position(leader) = %d %+v", i, pred)
	}
	if i, _ := Position(sorted, "gone_0000000099"); i != -1 {
		t.Errorf("Position(absent) = %d", i)
	}
}
