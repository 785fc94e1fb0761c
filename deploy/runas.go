package deploy

import (
	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node/wire"
)

// Who runs what (DESIGN.md "Hosts"). There are three kinds of login: root,
// a user with passwordless sudo, and a plain user. With the first two the
// controller's commands run as root on the host, and the agent is started
// as the host's run_as user with runuser(1) (util-linux, on every Debian
// and Ubuntu host), so that everything it writes and every process it
// spawns (ZooKeeper, the roles) belongs to that user without the agent
// handling credentials itself. With a plain login, and on local hosts,
// everything runs as the login user.
//
// The agent still runs as root for what needs root: `node net` (nftables
// and tc) and `node info` (it only looks for Java and ZooKeeper, and runs
// before deploy has created the user).

// serviceUser is the user ZooKeeper and the roles run as on h, "" when
// that is whoever the commands run as (a plain login, a local host, or
// run_as = "root").
func serviceUser(h inventory.Host) string {
	if h.IsLocal() || h.RunAs == "" || h.RunAs == "root" {
		return ""
	}
	if h.SSH.User != "root" && !h.SSH.Sudo {
		return ""
	}
	return h.RunAs
}

// agentCommand is the command line of `zkctl node ARGS…` on h: through
// runuser for the service user unless the subcommand needs root
// (wire.AsRoot).
func agentCommand(h inventory.Host, args []string) string {
	return agentCommandAs(h, len(args) == 0 || wire.AsRoot(args[0]), args)
}

// agentCommandAs is the command line of `zkctl node ARGS…` on h, through
// runuser for the service user unless asRoot.
func agentCommandAs(h inventory.Host, asRoot bool, args []string) string {
	// --dir first: role arguments may follow a "--" at the end of args.
	argv := append([]string{AgentPath(h), "node", "--dir", h.Dir}, args...)
	if u := serviceUser(h); u != "" && !asRoot {
		argv = append([]string{"runuser", "-u", u, "--"}, argv...)
	}
	return transport.Join(argv...)
}
