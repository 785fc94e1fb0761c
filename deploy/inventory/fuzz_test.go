package inventory_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"zkctl/deploy/inventory"
)

// FuzzParse feeds Parse broken inventories: it must never panic, a refusal
// names the file on every line, and what it accepts keeps the invariants.
// Seeds: the testdata files and the cases of TestParseRefuses.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.toml")
	files = append(files, "../../inventory.toml")
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, tc := range badCases {
		f.Add([]byte(tc.toml))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := inventory.Parse("fuzz.toml", data)
		if err != nil {
			if inv != nil {
				t.Errorf("an inventory and an error: %v", err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.toml") {
					t.Fatalf("error line %q does not name the file in:\n%v", line, err)
				}
			}
			return
		}
		checkInvariants(t, inv)
	})
}
