package controller

import (
	"strings"
	"testing"

	"zkctl/deploy/inventory"
)

func TestServiceUserAndAgentCommand(t *testing.T) {
	host := func(user string, sudo bool, transport, runAs string) inventory.Host {
		return inventory.Host{Name: "vm1", Dir: "/opt/zkctl", Transport: transport, RunAs: runAs,
			SSH: inventory.SSH{User: user, Sudo: sudo}}
	}
	for _, tc := range []struct {
		name string
		h    inventory.Host
		want string // service user, "" = whoever the commands run as
	}{
		{"root login", host("root", false, "ssh", "zookeeper"), "zookeeper"},
		{"sudo login", host("ubuntu", true, "ssh", "zookeeper"), "zookeeper"},
		{"sudo login, own run_as", host("ubuntu", true, "ssh", "svc"), "svc"},
		{"run_as root", host("ubuntu", true, "ssh", "root"), ""},
		{"plain login", host("zk", false, "ssh", "zookeeper"), ""},
		{"local host", host("root", false, "local", "zookeeper"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ServiceUser(tc.h); got != tc.want {
				t.Fatalf("serviceUser = %q, want %q", got, tc.want)
			}
			cmd := agentCommand(tc.h, []string{"zk", "start"})
			if wrapped := strings.HasPrefix(cmd, "runuser -u "+tc.want+" -- "); wrapped != (tc.want != "") {
				t.Errorf("agent command %q (service user %q)", cmd, tc.want)
			}
			for _, root := range []string{"net", "info"} {
				if cmd := agentCommand(tc.h, []string{root}); strings.HasPrefix(cmd, "runuser") {
					t.Errorf("%s must keep root's rights: %q", root, cmd)
				}
			}
		})
	}
}
