package history

import (
	"encoding/json"
	"fmt"
	"slices"

	"zkctl/txnlog"
)

// Merged decodes the servers' transaction log files as their agents sent
// them (one txnlog.File in JSON each; files[i] are names[i]'s) and merges
// them into the ensemble's committed history (Merge, every server a voter).
// A non-nil err, the fetch's, is returned as it is, so that a fetch's
// results can be passed straight in: Merged(c.TxnLogs(ctx, servers)).
func Merged(names []string, files [][]json.RawMessage, err error) (*History, error) {
	return Observing()(names, files, err)
}

// Observing is Merged for an ensemble in which the servers named are
// observers: they acknowledge nothing, so the quorum counts the others
// only. Observing(obs...)(c.TxnLogs(ctx, servers)).
func Observing(observers ...string) func(names []string, files [][]json.RawMessage, err error) (*History, error) {
	return func(names []string, files [][]json.RawMessage, err error) (*History, error) {
		return merged(names, files, err, observers)
	}
}

func merged(names []string, files [][]json.RawMessage, err error, observers []string) (*History, error) {
	if err != nil {
		return nil, err
	}
	logs, err := DecodeLogs(names, files, observers...)
	if err != nil {
		return nil, err
	}
	voters := 0
	for _, l := range logs {
		if !l.Observer {
			voters++
		}
	}
	h, err := Merge(logs, voters)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return h, nil
}

// DecodeLogs decodes the servers' transaction log files as their agents
// sent them (files[i] are names[i]'s), the servers named in observers
// marked as observers: what Merge reads, for callers that also look at
// each server's own log.
func DecodeLogs(names []string, files [][]json.RawMessage, observers ...string) ([]ServerLog, error) {
	logs := make([]ServerLog, len(names))
	for i, name := range names {
		logs[i].Server, logs[i].Observer = name, slices.Contains(observers, name)
		for _, raw := range files[i] {
			var f txnlog.File
			if err := json.Unmarshal(raw, &f); err != nil {
				return nil, fmt.Errorf("%s: read transaction logs: bad answer: %w", name, err)
			}
			logs[i].Files = append(logs[i].Files, &f)
		}
	}
	return logs, nil
}
