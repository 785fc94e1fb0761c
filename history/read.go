package history

import (
	"encoding/json"
	"fmt"

	"zkctl/history/txnlog"
)

// Merged decodes the servers' transaction log files as their agents sent
// them (one txnlog.File in JSON each; files[i] are names[i]'s) and merges
// them into the ensemble's committed history (Merge, every server a voter).
// A non-nil err, the fetch's, is returned as it is, so that a fetch's
// results can be passed straight in: Merged(c.TxnLogs(ctx, servers)).
func Merged(names []string, files [][]json.RawMessage, err error) (*History, error) {
	if err != nil {
		return nil, err
	}
	logs := make([]ServerLog, len(names))
	for i, name := range names {
		logs[i].Server = name
		for _, raw := range files[i] {
			var f txnlog.File
			if err := json.Unmarshal(raw, &f); err != nil {
				return nil, fmt.Errorf("%s: read transaction logs: bad answer: %w", name, err)
			}
			logs[i].Files = append(logs[i].Files, &f)
		}
	}
	h, err := Merge(logs, len(names))
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return h, nil
}
