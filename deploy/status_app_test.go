package deploy

import (
	"bytes"
	"strings"
	"testing"
)

func TestPrintAppShowsCapacity(t *testing.T) {
	var b bytes.Buffer
	printApp(&b, ClusterStatus{App: &AppState{Workers: []WorkerState{
		{ID: "w1", Alive: true, Capacity: 4, Assigned: 3},
		{ID: "w2", Alive: false, Assigned: 1},
	}}})
	out := b.String()
	for _, want := range []string{"CAPACITY", "w1", "alive", " 4 ", "w2", "gone", " - "} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
}
