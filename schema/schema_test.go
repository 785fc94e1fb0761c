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
