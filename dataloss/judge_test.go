package dataloss

import (
	"slices"
	"testing"
	"time"

	"zkctl/history"
	"zkctl/txnlog"
)

// logOf is a server's log of the given txns, one file.
func logOf(server string, txns ...txnlog.Txn) history.ServerLog {
	return history.ServerLog{Server: server, Files: []*txnlog.File{{Name: server + "/log", Txns: txns}}}
}

func create(zxid int64, path string) txnlog.Txn {
	return txnlog.Txn{Zxid: zxid, Type: txnlog.TypeCreate, Path: path}
}

func del(zxid int64, path string) txnlog.Txn {
	return txnlog.Txn{Zxid: zxid, Type: txnlog.TypeDelete, Path: path}
}

// evidence is three servers' logs merged, the writes and final states.
func evidence(t *testing.T, writes []Write, final []FinalState, logs ...history.ServerLog) Evidence {
	t.Helper()
	h, err := history.Merge(logs, len(logs))
	return Evidence{Root: "/r", Writes: writes, Logs: logs, History: h, HistoryErr: err, Final: final}
}

func acked(op, path string) Write {
	at := time.Unix(1000, 0)
	return Write{Op: op, Path: path, Sent: at, Acked: at}
}

func state(server string, paths ...string) FinalState {
	m := map[string]bool{}
	for _, p := range paths {
		m[p] = true
	}
	return FinalState{Server: server, Paths: m}
}

// A run without a loss passes every check; a delete that got no answer
// (it may have taken effect) does not make its znode expected.
func TestJudgePasses(t *testing.T) {
	z := int64(1) << 32
	txns := []txnlog.Txn{create(z+1, "/r/a"), create(z+2, "/r/b"), del(z+3, "/r/a"), del(z+4, "/r/b")}
	unanswered := Write{Op: "delete", Path: "/r/b", Sent: time.Unix(1001, 0), Err: "zk: connection closed"}
	writes := []Write{acked("create", "/r/a"), acked("create", "/r/b"), acked("delete", "/r/a"), unanswered}
	ev := evidence(t, writes, []FinalState{state("s1"), state("s2"), state("s3")},
		logOf("s1", txns...), logOf("s2", txns...), logOf("s3", txns...))
	j := Judge(ev)
	if !j.Passed() || len(j.Lost) != 0 {
		t.Errorf("judge: %+v", j)
	}
}

// A write held by one server only (a majority lost it) fails the history
// check and the final state, and is named with its zxid and holders.
func TestJudgeNamesLostWrite(t *testing.T) {
	z := int64(1) << 32
	ev := evidence(t, []Write{acked("create", "/r/a"), acked("create", "/r/b"), acked("delete", "/r/c")},
		[]FinalState{state("s1", "/r/a", "/r/c"), state("s2", "/r/a", "/r/c"), state("s3", "/r/a", "/r/b")},
		logOf("s1", create(z+1, "/r/a")), logOf("s2", create(z+1, "/r/a")), logOf("s3", create(z+1, "/r/a"), create(z+2, "/r/b")))
	j := Judge(ev)
	if j.Passed() {
		t.Fatalf("judge passed: %+v", j)
	}
	var got []string
	for _, l := range j.Lost {
		got = append(got, l.Op+" "+l.Path)
		if l.Path == "/r/b" && (l.Zxid != z+2 || !slices.Equal(l.HeldBy, []string{"s3"}) || !slices.Equal(l.NotHeldBy, []string{"s1", "s2"}) ||
			!slices.Equal(l.MissingOn, []string{"s1", "s2"})) {
			t.Errorf("lost /r/b: %+v", l)
		}
	}
	if want := []string{"create /r/b", "delete /r/c"}; !slices.Equal(got, want) {
		t.Errorf("lost %v, want %v", got, want)
	}
}

// The logs of earlier runs are trimmed away: a gap before the run's start
// (what autopurge leaves of an old epoch) does not fail this run.
func TestTrimBefore(t *testing.T) {
	z := int64(2) << 32
	logs := []history.ServerLog{
		logOf("s1", create(z+0x239, "/old"), create(z+0x23a, "/r/a")),
		logOf("s2", create(z+0x23a, "/r/a")),
		logOf("s3", create(z-5, "/older"), create(z+0x23a, "/r/a")),
	}
	trimBefore(logs, z+0x239)
	for _, l := range logs {
		if len(l.Files) != 1 || len(l.Files[0].Txns) != 1 || l.Files[0].Txns[0].Path != "/r/a" {
			t.Errorf("%s after the trim: %+v", l.Server, l.Files)
		}
	}
	if _, err := history.Merge(logs, 3); err != nil {
		t.Errorf("merge of the trimmed logs: %v", err)
	}
}
