package history

import (
	"encoding/json"
	"testing"

	"zkctl/history/txnlog"
)

// TestObserving: an observer is left out of the quorum. zk1 and zk2 hold
// 0x1_5 and 0x1_6, zk3 and the observer do not: two of three voters
// commit them; were the observer a fourth voter, two of four would not.
func TestObserving(t *testing.T) {
	names := []string{"zk1", "zk2", "zk3", "obs"}
	held := [][]txnlog.Txn{txns(1, 1, 6), txns(1, 1, 6), txns(1, 1, 4), txns(1, 1, 4)}
	files := make([][]json.RawMessage, len(names))
	for i := range names {
		data, err := json.Marshal(&txnlog.File{Name: "log.1", Txns: held[i]})
		if err != nil {
			t.Fatal(err)
		}
		files[i] = []json.RawMessage{data}
	}
	for _, tc := range []struct {
		name      string
		merge     func([]string, [][]json.RawMessage, error) (*History, error)
		committed int
	}{
		{"obs an observer", Observing("obs"), 6},
		{"every server a voter", Merged, 4},
	} {
		h, err := tc.merge(names, files, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(h.Txns) != tc.committed {
			t.Errorf("%s: %d committed, want %d", tc.name, len(h.Txns), tc.committed)
		}
	}
}
