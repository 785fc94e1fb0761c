package roles

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRegistryLookup(t *testing.T) {
	if got := Names(); !slices.Equal(got, []string{"master", "worker", "client"}) {
		t.Fatalf("Names() = %v", got)
	}
	for _, n := range Names() {
		r, err := Lookup(n)
		if err != nil || r.Name != n || r.Run == nil || r.Short == "" {
			t.Errorf("Lookup(%q) = %+v, %v", n, r, err)
		}
	}
	_, err := Lookup("zookeeper")
	if err == nil || !strings.Contains(err.Error(), "master, worker, client") {
		t.Errorf("Lookup(zookeeper): %v, want an error listing the roles", err)
	}
}

// TestRoleArgs: a role gets only the options it reads, and only those set.
func TestRoleArgs(t *testing.T) {
	o := Options{Concurrency: 4, Tasks: 5, Duration: 250 * time.Millisecond}
	cases := map[string][]string{
		"master": nil,
		"worker": {"--concurrency=4"},
		"client": {"--tasks=5", "--duration=250ms"},
	}
	for name, want := range cases {
		r, _ := Lookup(name)
		if got := r.Args(o); !slices.Equal(got, want) {
			t.Errorf("%s: Args = %q, want %q", name, got, want)
		}
	}
	w, _ := Lookup("worker")
	if got := w.Args(Options{}); len(got) != 0 {
		t.Errorf("zero options: %q, want none", got)
	}
}

// TestOptionFlagsPointIntoOptions: every flag fills its own field.
func TestOptionFlagsPointIntoOptions(t *testing.T) {
	var o Options
	for i, f := range o.Flags() {
		if (f.Int == nil) == (f.Duration == nil) {
			t.Fatalf("flag %s: want exactly one of Int and Duration", f.Name)
		}
		if f.Int != nil {
			*f.Int = i + 1
		} else {
			*f.Duration = time.Duration(i+1) * time.Second
		}
	}
	if o != (Options{Concurrency: 1, Tasks: 2, Duration: 3 * time.Second, Timeout: 4 * time.Second}) {
		t.Errorf("filled %+v", o)
	}
}
