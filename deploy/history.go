package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"zkctl/deploy/inventory"
	"zkctl/history"
	"zkctl/history/txnlog"
	"zkctl/node/wire"
)

// TxnLogs asks the agent on h for its server's transaction logs, decoded
// on the host (`zkctl node zk txnlog`), in zxid order.
func (c *Cluster) TxnLogs(ctx context.Context, h inventory.Host) ([]*txnlog.File, error) {
	t, err := c.Transport(ctx, h)
	if err != nil {
		return nil, err
	}
	out, err := call(ctx, c, h, t, wire.TxnLogs{})
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
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, h := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			logs[i].Server = h.Name
			logs[i].Files, errs[i] = c.TxnLogs(ctx, h)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	h, err := history.Merge(logs, len(servers))
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return h, nil
}
