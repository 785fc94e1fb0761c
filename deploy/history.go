package deploy

import (
	"context"
	"encoding/json"
	"fmt"

	"zkctl/deploy/inventory"
	"zkctl/history"
	"zkctl/history/txnlog"
	"zkctl/internal/fanout"
	"zkctl/node/agent"
)

// TxnLogs asks the agent on h for its server's transaction logs, decoded
// on the host (`zkctl node zk txnlog`), in zxid order.
func (c *Cluster) TxnLogs(ctx context.Context, h inventory.Host) ([]*txnlog.File, error) {
	t, err := c.Transport(ctx, h)
	if err != nil {
		return nil, err
	}
	out, err := call(ctx, c, h, t, agent.TxnLogs{})
	if err != nil {
		return nil, stepError(h, "read transaction logs", err)
	}
	var files []*txnlog.File
	for _, raw := range out.Files {
		var f txnlog.File
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, stepError(h, "read transaction logs", fmt.Errorf("bad answer: %w", err))
		}
		files = append(files, &f)
	}
	return files, nil
}

// History reads the transaction logs of every server in servers, in
// parallel, and merges them into the ensemble's committed history.
func (c *Cluster) History(ctx context.Context, servers []inventory.Host) (*history.History, error) {
	logs := make([]history.ServerLog, len(servers))
	errs := fanout.Each(servers, func(i int, h inventory.Host) error {
		var err error
		logs[i].Server, logs[i].Observer = h.Name, h.Observer
		logs[i].Files, err = c.TxnLogs(ctx, h)
		return err
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	voters := 0
	for _, h := range servers {
		if h.Votes() {
			voters++
		}
	}
	h, err := history.Merge(logs, voters)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return h, nil
}
