package deploy

import (
	"context"
	"fmt"

	"zkctl/controller"
	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node"
)

// ownerStep gives the host's dir to the user that runs ZooKeeper and the
// roles (serviceUser): it creates that user as a system user where it is
// missing (Debian's zookeeper package has already made "zookeeper" where it
// is installed, and that one is reused), then hands it everything under
// dir but bin/, which stays root's: root runs that agent for `node net`.
// With a plain login there is nothing to do: what the login writes is
// its own.
type ownerStep struct{}

func (ownerStep) Title() string { return "run_as user" }

// noUserStatus is the exit status of ownerScript when useradd failed.
const noUserStatus = 65

func (ownerStep) Run(ctx context.Context, c *cluster, h inventory.Host, t transport.Transport) error {
	u := controller.ServiceUser(h)
	if u == "" {
		return nil
	}
	out, err := transport.Output(ctx, t, ownerScript(u, h.Dir))
	if status, ok := transport.ExitStatus(err); ok && status == noUserStatus {
		return fmt.Errorf("cannot create the system user %q (%w): create it by hand, or set run_as to an existing user in the inventory", u, err)
	}
	if err != nil {
		return fmt.Errorf("chown %s to %s: %w", h.Dir, u, err)
	}
	if len(out) > 0 {
		c.UI.Host(h.Name, "%s", trimNL(out))
	}
	return nil
}

// ownerScript creates user u where missing and chowns dir to it.
func ownerScript(u, dir string) string {
	q, bin := transport.Quote(u), transport.Quote(node.Layout{Dir: dir}.Bin())
	return "if ! id -u " + q + " >/dev/null 2>&1; then " +
		"useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin " + q +
		" >&2 || exit " + fmt.Sprint(noUserStatus) + "; echo " + transport.Quote("created system user "+u) + "; fi; " +
		"chown -R " + q + ": " + transport.Quote(dir) + " && chown -R 0:0 " + bin
}

func trimNL(b []byte) string {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return string(b)
}
