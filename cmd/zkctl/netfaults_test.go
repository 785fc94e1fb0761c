package main

import (
	"strings"
	"testing"
)

// TestNetFaultRefusals: partition, heal and degrade refuse bad input with
// exit status 2 and the reason, before any host is touched. The repo's
// inventory is the embedded default's layout (every host on 127.0.0.1),
// where partitions cannot be made.
func TestNetFaultRefusals(t *testing.T) {
	inv, calls := fakeHosts(t)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"partition of an unknown host", []string{"partition", "vm9"}, []string{`unknown host "vm9"`, "vm1, vm2, vm3"}},
		{"partition from an unknown host", []string{"partition", "vm1", "--from", "vm7"}, []string{`unknown host "vm7"`}},
		{"partition of every host", []string{"partition", "vm1", "vm2", "vm3"}, []string{"partition of every host", "nothing is left on the other side"}},
		{"host on both sides", []string{"partition", "vm1", "--from", "vm1,vm2"}, []string{"vm1 is on both sides"}},
		{"partition on loopback", []string{"partition", "vm1"},
			[]string{"partitions need hosts with their own addresses", "127.0.0.0/8", "the kernel gives every connection the source 127.0.0.1"}},
		{"one-way partition on loopback", []string{"partition", "vm2", "--from", "vm3", "--oneway", "--for", "0"},
			[]string{"the kernel gives every connection the source 127.0.0.1"}},
		{"partition without a host", []string{"partition"}, []string{"partition: want HOST…"}},
		{"bad --for", []string{"partition", "vm1", "--for", "soon"}, []string{`invalid argument "soon"`, "--for"}},
		{"negative --for", []string{"partition", "vm1", "--for", "-5s"}, []string{`negative duration "-5s"`}},
		{"heal of an unknown host", []string{"heal", "vm4"}, []string{`unknown host "vm4"`}},
		{"degrade loss over 100%", []string{"degrade", "vm1", "--loss", "150%"}, []string{`loss "150%"`, "outside [0,100]%"}},
		{"degrade loss not a number", []string{"degrade", "vm1", "--loss", "lots"}, []string{`loss "lots"`, "want a percentage"}},
		{"degrade bad rate", []string{"degrade", "vm1", "--rate", "fast"}, []string{`rate "fast"`, "e.g. 1mbit"}},
		{"degrade nothing", []string{"degrade", "vm1"}, []string{"nothing asked"}},
		{"degrade bad --for", []string{"degrade", "vm1", "--loss", "5%", "--for", "1x"}, []string{`invalid argument "1x"`}},
		{"degrade on loopback", []string{"degrade", "vm1", "--loss", "5%"}, []string{"127.0.0.0/8"}},
		{"degrade clear with knobs", []string{"degrade", "vm1", "--clear", "--loss", "5%"}, []string{"--clear takes no"}},
		{"degrade unknown host", []string{"degrade", "vm8", "--loss", "5%"}, []string{`unknown host "vm8"`}},
		{"a partition scenario on loopback", []string{"scenario", "c1w1m1", "master-partition"},
			[]string{"scenario master-partition cannot run on this inventory", "the kernel gives every connection the source 127.0.0.1"}},
		{"degrade two hosts", []string{"degrade", "vm1", "vm2"}, []string{"degrade: want one HOST"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg, out := runZkctl(t, append([]string{"-i", inv}, tc.args...)...)
			if code != 2 {
				t.Errorf("zkctl %s: exit status %d, want 2 (error %q, output %q)", strings.Join(tc.args, " "), code, msg, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("zkctl %s: error %q does not say %q", strings.Join(tc.args, " "), msg, w)
				}
			}
			if c := calls(); len(c) > 0 {
				t.Errorf("zkctl %s: hosts touched before the refusal: %q", strings.Join(tc.args, " "), c)
			}
		})
	}
}

// TestHealLoopback: heal on loopback hosts says there is nothing to heal,
// host by host, exits 0 and asks no agent.
func TestHealLoopback(t *testing.T) {
	inv, calls := fakeHosts(t)
	code, msg, out := runZkctl(t, "-i", inv, "heal")
	if code != 0 {
		t.Fatalf("heal: exit %d: %s", code, msg)
	}
	for _, h := range []string{"vm1", "vm2", "vm3"} {
		if !strings.Contains(out, h) || !strings.Contains(out, "nothing to heal: loopback host") {
			t.Errorf("heal output %q does not say %s has nothing to heal", out, h)
		}
	}
	if c := calls(); len(c) > 0 {
		t.Errorf("heal asked agents on loopback hosts: %q", c)
	}
}
