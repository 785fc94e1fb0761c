package history

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestMerged: the agents' files, as JSON, merge like the decoded ones; a
// fetch error passes through; an undecodable answer names its server.
func TestMerged(t *testing.T) {
	logs := []ServerLog{server("zk1", txns(1, 1, 3)), server("zk2", txns(1, 1, 2)), server("zk3", txns(1, 1, 3))}
	var names []string
	var files [][]json.RawMessage
	for _, l := range logs {
		names = append(names, l.Server)
		var raw []json.RawMessage
		for _, f := range l.Files {
			data, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			raw = append(raw, data)
		}
		files = append(files, raw)
	}
	want, err := Merge(logs, 3)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Merged(names, files, nil)
	if err != nil || len(got.Txns) != len(want.Txns) || len(got.Txns) != 3 {
		t.Fatalf("Merged: %v, %v; want the %d transactions Merge finds", got, err, len(want.Txns))
	}
	fetch := errors.New("vm2: read transaction logs: connection refused")
	if _, err := Merged(nil, nil, fetch); err != fetch {
		t.Errorf("a fetch error: %v, want it as it is", err)
	}
	files[1] = []json.RawMessage{json.RawMessage(`{"name":7}`)}
	if _, err := Merged(names, files, nil); err == nil || !strings.HasPrefix(err.Error(), "zk2: read transaction logs: bad answer") {
		t.Errorf("an undecodable answer: %v, want it named by its server", err)
	}
}
