package lincheck

import (
	"context"
	"sort"
	"testing"
	"time"
)

// pulse logs one fault of its name when its context ends.
type pulse string

func (p pulse) Name() string { return string(p) }

func (p pulse) Run(ctx context.Context, log func(Fault)) {
	start := time.Now()
	<-ctx.Done()
	log(Fault{Name: string(p), Start: start, End: time.Now()})
}

func TestCombineRunsEveryNemesis(t *testing.T) {
	n := Combine(pulse("kill-leader"), pulse("partition"))
	if n.Name() != "kill-leader+partition" {
		t.Fatalf("name %q", n.Name())
	}
	rec := &recorder{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	n.Run(ctx, rec.fault)
	var names []string
	for _, f := range rec.faults {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	if len(names) != 2 || names[0] != "kill-leader" || names[1] != "partition" {
		t.Fatalf("faults %v", names)
	}
}
