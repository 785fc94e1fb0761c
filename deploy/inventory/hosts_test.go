package inventory

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	inv := &Inventory{Path: "inv.toml", Hosts: []Host{{Name: "vm1"}, {Name: "vm2"}, {Name: "vm3"}}}
	hs, err := inv.Lookup("vm3", "vm1")
	if err != nil || len(hs) != 2 || hs[0].Name != "vm3" || hs[1].Name != "vm1" {
		t.Errorf("Lookup(vm3, vm1) = %v, %v", hs, err)
	}
	if hs, err := inv.Lookup(); err != nil || len(hs) != 3 {
		t.Errorf("Lookup() = %v, %v; want every host", hs, err)
	}
	_, err = inv.Lookup("vm1", "vm9")
	if !errors.Is(err, ErrUnknownHost) || err.Error() != `unknown host "vm9": the inventory inv.toml has vm1, vm2, vm3` {
		t.Errorf("Lookup(vm9): %v, want ErrUnknownHost naming the inventory and its hosts", err)
	}
}

func TestCheckNetFaults(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		address  string
		loopback bool
	}{
		{"10.0.0.11", false},
		{"fd00::2", false},
		{"127.0.0.1", true},
		{"127.0.1.1", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"localhost", true}, // resolved: a name on loopback is refused like a literal
	} {
		err := Host{Name: "vm1", Address: tc.address}.CheckNetFaults(ctx)
		if errors.Is(err, ErrLoopback) != tc.loopback || (!tc.loopback && err != nil) {
			t.Errorf("%s: %v, want loopback %v", tc.address, err, tc.loopback)
		}
	}
	err := Host{Name: "vm1", Address: "no-such-host.invalid"}.CheckNetFaults(ctx)
	if err == nil || errors.Is(err, ErrLoopback) || !strings.Contains(err.Error(), `vm1: resolve address "no-such-host.invalid"`) {
		t.Errorf("an unresolvable name: %v, want the resolver's error naming the host", err)
	}
}
