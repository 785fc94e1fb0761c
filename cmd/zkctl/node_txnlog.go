package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"

	"zkctl/history/txnlog"
	"zkctl/node"
)

// writeTxnLogs decodes every transaction log of the host's ZooKeeper
// (<dir>/data/version-2/log.*) and writes each file to w as one JSON line
// (txnlog.File), in zxid order: `zkctl node zk txnlog`. A host whose server
// never wrote a log writes nothing. (It lives here, not in package node,
// because txnlog's tests run servers through node.)
func writeTxnLogs(l node.Layout, w io.Writer) error {
	files, err := txnlog.LogFiles(l.Data())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	for _, path := range files {
		f, err := txnlog.ReadFile(path)
		if err != nil {
			return err
		}
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return nil
}
