package txnlog

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// CutTail on a copy of a real log: the file then reads as the records
// before the cut, keeps its size, and the cut records are returned.
func TestCutTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.100000001")
	data := realLog(t)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	whole, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := len(whole.Txns)
	cut, err := CutTail(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cut, whole.Txns[n-3:]) {
		t.Errorf("cut %d txns, want the last 3 of %d", len(cut), n)
	}
	after, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after.Txns, whole.Txns[:n-3]) || after.Torn != "" {
		t.Errorf("after the cut: %d txns (torn %q), want the first %d", len(after.Txns), after.Torn, n-3)
	}
	if fileSize(t, path) != int64(len(data)) {
		t.Errorf("the cut changed the file's size")
	}
	if _, err := CutTail(path, n); err == nil {
		t.Errorf("cutting %d records of a file of %d: no error", n, n-3)
	}
}
