package deploy

import (
	"context"
	"encoding/json"

	"zkctl/deploy/inventory"
	"zkctl/internal/fanout"
	"zkctl/node/agent"
)

// TxnLogs asks the agent of every server in servers, in parallel, for its
// transaction logs, decoded on the host (`zkctl node zk txnlog`), in zxid
// order, each file a history/txnlog.File in JSON: names[i] and files[i]
// are servers[i]'s. The first failure, in servers' order, is err. The
// history side merges them (history.Merged(c.TxnLogs(…))); the controller
// does not depend on it.
func (c *Cluster) TxnLogs(ctx context.Context, servers []inventory.Host) (names []string, files [][]json.RawMessage, err error) {
	names = make([]string, len(servers))
	files = make([][]json.RawMessage, len(servers))
	errs := fanout.Each(servers, func(i int, h inventory.Host) error {
		names[i] = h.Name
		out, err := Call(ctx, c, h, "read transaction logs", agent.TxnLogs{})
		files[i] = out.Files
		return err
	})
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	return names, files, nil
}
