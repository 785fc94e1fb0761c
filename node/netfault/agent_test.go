package netfault_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"zkctl/internal/buildbin"
)

// TestAgentErrors runs the agent's commands with bad input, without
// privileges and without nft: each fails before touching the host, with
// the exit status and the message a caller acts on.
func TestAgentErrors(t *testing.T) {
	bin := buildbin.Path(t)
	dir := t.TempDir()
	net := func(args ...string) []string { return append([]string{bin, "node", "--dir", dir, "net"}, args...) }
	for _, tc := range []struct {
		name string
		argv []string
		env  []string
		code int
		msg  string
	}{
		{"loss over 100%", net("degrade", "--loss", "150%"), nil, 2, `loss "150%": outside [0,100]%`},
		{"rate without a unit", net("degrade", "--rate", "5"), nil, 2, `rate "5": want a positive number and a unit`},
		{"nothing to degrade", net("degrade", "--for", "10s"), nil, 2, "nothing asked"},
		{"partition without peers", net("partition"), nil, 2, "no peer address"},
		{"peer not an address", net("partition", "--peer", "vm2"), nil, 2, `peer "vm2": not an IP address`},
		{"unparsable --for", net("partition", "--peer", "10.0.0.2", "--for", "soon"), nil, 2, `bad duration "soon"`},
		{"bad --at", net("expire", "--id", "1", "--at", "tomorrow"), nil, 2, "want an RFC 3339 time"},
		{"no privileges", append([]string{"setpriv", "--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all"}, net("status")...), nil, 1, "need root or sudo (CAP_NET_ADMIN)"},
		{"no nft", net("heal"), []string{"PATH=/nonexistent"}, 1, "nft not found in PATH: apt-get install nftables"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.argv[0] == "setpriv" {
				if _, err := exec.LookPath("setpriv"); err != nil || os.Geteuid() != 0 {
					t.Skip("needs root and setpriv to drop CAP_NET_ADMIN")
				}
			}
			if tc.env != nil && os.Geteuid() != 0 {
				t.Skip("needs root (without it the privilege check comes first)")
			}
			cmd := exec.Command(tc.argv[0], tc.argv[1:]...)
			cmd.Env = append(os.Environ(), tc.env...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
				t.Fatalf("exit %v, want %d; stdout %q stderr %q", err, tc.code, out, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.msg) || len(out) != 0 {
				t.Errorf("stderr %q, want %q; stdout %q", stderr.String(), tc.msg, out)
			}
		})
	}
}
