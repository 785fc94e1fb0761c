package txnlog

import (
	"fmt"
	"os"
)

// CutTail zeroes the last n records of the log file at path, from the
// first of them to the end of the last, so that the file reads as if they
// had never reached the disk (ZooKeeper stops at a zero record, as in its
// preallocated files), and returns the transactions it removed. It plants
// a loss for tests of a judge; the server must not be running.
func CutTail(path string, n int) ([]Txn, error) {
	f, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > len(f.Txns) {
		return nil, fmt.Errorf("txnlog: cut %d records of %s: it holds %d", n, path, len(f.Txns))
	}
	from := f.starts[len(f.Txns)-n]
	out, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("txnlog: cut: %w", err)
	}
	_, werr := out.WriteAt(make([]byte, f.End-from), from)
	if err := out.Close(); werr == nil {
		werr = err
	}
	if werr != nil {
		return nil, fmt.Errorf("txnlog: cut %s: %w", path, werr)
	}
	return f.Txns[len(f.Txns)-n:], nil
}
