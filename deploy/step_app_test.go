package deploy

import "testing"

func TestHasCandidate(t *testing.T) {
	cases := []struct {
		policy string
		want   bool
	}{
		{"python3-kazoo:\n  Installed: (none)\n  Candidate: 2.8.0-2\n  Version table:\n", true},
		{"foo:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\n", false},
		{"", false}, // apt never heard of it
	}
	for _, tc := range cases {
		if got := hasCandidate(tc.policy); got != tc.want {
			t.Errorf("hasCandidate(%q) = %v, want %v", tc.policy, got, tc.want)
		}
	}
}
