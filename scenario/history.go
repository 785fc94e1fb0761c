package scenario

import (
	"context"
	"fmt"
	"time"

	"zkctl/history"
	"zkctl/txnlog"
)

// HistoryInfo says what the history judges read: the ensemble's committed
// transactions, merged from every server's transaction log.
type HistoryInfo struct {
	Txns       int      // committed transactions judged
	Start, End int64    // the first and last zxid held
	Notes      []string // where the history starts, dropped proposals, torn files
	Err        error    // the logs could not be read or merged
	// Offsets are the servers' clock offsets to this machine, as the
	// agents measured them; Timings the intervals measured on the history.
	Offsets map[string]time.Duration
	Timings []HistoryTiming
}

// Summary is one line for the report.
func (h *HistoryInfo) Summary() string {
	if h.Err != nil {
		return "the history could not be read: " + h.Err.Error()
	}
	return fmt.Sprintf("%d committed transactions, zxid %s to %s, merged from every server's transaction log",
		h.Txns, txnlog.FormatZxid(h.Start), txnlog.FormatZxid(h.End))
}

// historyChecks judges the run on the ensemble's own record of every write
// (package history): operation by operation, whatever program made them.
// These checks stand beside the ones judged from the role logs, so a run
// where the two disagree fails, showing both. They run on every scenario
// that started, whatever stopped it.
func (rn *Runner) historyChecks(ctx context.Context, res *Result) []Check {
	servers, err := rn.Cluster.Hosts(res.Servers...)
	info := &HistoryInfo{Err: err}
	res.History = info
	var h *history.History
	if err == nil {
		h, err = history.Merged(rn.Cluster.TxnLogs(ctx, servers))
		info.Err = err
	}
	if err != nil {
		return []Check{{Name: "history: the servers' transaction logs merge into one history", Detail: err.Error(), reads: reads()}}
	}
	info.Txns, info.Start, info.End, info.Notes = len(h.Txns), h.Start, h.End, h.Notes
	info.Offsets = map[string]time.Duration{}
	for _, s := range servers {
		if off, _, err := rn.Cluster.ClockOffset(ctx, s); err == nil {
			info.Offsets[s.Name] = off
		}
	}
	info.Timings = historyTimings(h, res, info.Offsets)
	// A run that stopped early left tasks open: the judges take the
	// history up to the stop, open tasks allowed.
	opts := history.Options{OpenTasks: res.Err != nil}
	var out []Check
	for _, v := range history.Judge(h, opts) {
		c := Check{Name: "history: " + v.Name, OK: v.OK, Detail: fmt.Sprintf("%s (%d transactions judged)", v.Detail, v.Judged), reads: reads()}
		if opts.OpenTasks {
			c.Detail += ", the history up to the run's stop"
		}
		if v.NotJudged != "" {
			c.OK, c.Skipped = false, v.NotJudged
		}
		out = append(out, c)
	}
	return out
}
