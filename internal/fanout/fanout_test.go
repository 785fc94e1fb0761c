package fanout

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

func TestEachKeepsOrderAndGoesOn(t *testing.T) {
	items := []int{3, 1, 2, 0}
	var ran atomic.Int32
	errs := Each(items, func(i, n int) error {
		time.Sleep(time.Duration(n) * time.Millisecond)
		ran.Add(1)
		if n%2 == 1 {
			return fmt.Errorf("item %d (%d)", i, n)
		}
		return nil
	})
	if ran.Load() != 4 {
		t.Fatalf("%d items ran, want 4: a failure must not stop the others", ran.Load())
	}
	want := []string{"item 0 (3)", "item 1 (1)", "", ""}
	for i, err := range errs {
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != want[i] {
			t.Errorf("error %d = %q, want %q", i, got, want[i])
		}
	}
	if err := All(items, func(int, int) error { return nil }); err != nil {
		t.Errorf("All with no failure: %v", err)
	}
	boom := errors.New("boom")
	if err := All(items, func(i, _ int) error {
		if i == 2 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Errorf("All = %v, want it to carry the failure", err)
	}
}

func TestLimit(t *testing.T) {
	var now, peak atomic.Int32
	Limit(make([]struct{}, 12), 3, func(int, struct{}) error {
		n := now.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		now.Add(-1)
		return nil
	})
	if p := peak.Load(); p < 1 || p > 3 {
		t.Errorf("%d calls at once, want at most 3", p)
	}
	if errs := Each([]int(nil), func(int, int) error { return errors.New("never") }); len(errs) != 0 {
		t.Errorf("no items: %v", errs)
	}
}
