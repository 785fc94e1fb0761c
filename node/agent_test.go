package node_test

import (
	"strings"
	"syscall"
	"testing"

	"zkctl/node"
)

// TestParseSignalForms checks every form `zkctl kill -s` documents: the six
// names, with or without the SIG prefix, in any case.
func TestParseSignalForms(t *testing.T) {
	signals := []struct {
		name string
		sig  syscall.Signal
	}{
		{"TERM", syscall.SIGTERM}, {"KILL", syscall.SIGKILL}, {"STOP", syscall.SIGSTOP},
		{"CONT", syscall.SIGCONT}, {"INT", syscall.SIGINT}, {"HUP", syscall.SIGHUP},
	}
	for _, s := range signals {
		lower := strings.ToLower(s.name)
		mixed := strings.ToUpper(lower[:1]) + lower[1:]
		for _, in := range []string{s.name, "SIG" + s.name, lower, "sig" + lower, mixed, "Sig" + mixed, " " + s.name + "\n"} {
			got, err := node.ParseSignal(in)
			if err != nil || got != s.sig {
				t.Errorf("ParseSignal(%q) = %v, %v; want %v", in, got, err, s.sig)
			}
		}
		if got := node.SignalName(s.sig); got != s.name {
			t.Errorf("SignalName(%v) = %q, want %q", s.sig, got, s.name)
		}
	}
}

func TestParseSignalRefuses(t *testing.T) {
	for _, in := range []string{"", "SIG", "sig", "FOO", "SIGFOO", "SIGSIGTERM", "TERMINATE", "9", "-9", "15", "USR1", "SIGUSR1", "QUIT", "T ERM"} {
		_, err := node.ParseSignal(in)
		if err == nil {
			t.Errorf("ParseSignal(%q) accepted", in)
			continue
		}
		// The refusal says what is accepted.
		for _, want := range []string{"unknown signal", "TERM, KILL, STOP, CONT, INT or HUP", "SIG prefix optional"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("ParseSignal(%q): %q does not say %q", in, err, want)
			}
		}
	}
}
