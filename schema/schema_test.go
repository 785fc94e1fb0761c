package schema

import "testing"

func TestCheckRole(t *testing.T) {
	for _, r := range Roles() {
		if err := CheckRole(r); err != nil {
			t.Errorf("CheckRole(%q): %v", r, err)
		}
	}
	for _, bad := range []string{"", "zookeeper", "Master", "manager"} {
		if err := CheckRole(bad); err == nil {
			t.Errorf("CheckRole(%q) accepted it", bad)
		}
	}
	if err := CheckRole("boss"); err.Error() != `unknown role "boss": want master, worker, client` {
		t.Errorf("message %q", err)
	}
	if len(BasePaths()) != 6 {
		t.Errorf("base paths %v: want every top-level znode but /master", BasePaths())
	}
}

func TestParseCapacity(t *testing.T) {
	for in, want := range map[string]int{
		`{"capacity": 4}`:         4,
		`{"capacity":4}`:          4,
		``:                        1,
		`{"capacity": 0}`:         1,
		`{"capacity": -3}`:        1,
		`{"capacity": 2.5}`:       1,
		`{"capacity": "4"}`:       1,
		`{"capacity": 1e12}`:      MaxCapacity,
		`not json`:                1,
		`{"other": 3}`:            1,
		`{"capacity": 3, "x": 1}`: 3,
	} {
		if got := ParseCapacity([]byte(in)); got != want {
			t.Errorf("ParseCapacity(%q) = %d, want %d", in, got, want)
		}
	}
	for _, c := range []int{1, 4, MaxCapacity} {
		if got := ParseCapacity(FormatCapacity(c)); got != c {
			t.Errorf("ParseCapacity(FormatCapacity(%d)) = %d", c, got)
		}
	}
}
