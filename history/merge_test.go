package history

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"zkctl/txnlog"
)

// txns makes transactions at zxids of epoch e, counters from..to, each a
// create of /n/<zxid> by session 1.
func txns(e, from, to int64) []txnlog.Txn {
	var out []txnlog.Txn
	for c := from; c <= to; c++ {
		z := e<<32 | c
		out = append(out, txnlog.Txn{Session: 1, Zxid: z, Type: txnlog.TypeCreate, Path: "/n/" + txnlog.FormatZxid(z),
			Time: time.UnixMilli(z).UTC()})
	}
	return out
}

func server(name string, parts ...[]txnlog.Txn) ServerLog {
	var all []txnlog.Txn
	for _, p := range parts {
		all = append(all, p...)
	}
	return ServerLog{Server: name, Files: []*txnlog.File{{Name: "log.1", Txns: all}}}
}

func zxids(es []Entry) []int64 {
	var out []int64
	for _, e := range es {
		out = append(out, e.Zxid)
	}
	return out
}

func zspan(e, from, to int64) []int64 {
	var out []int64
	for _, t := range txns(e, from, to) {
		out = append(out, t.Zxid)
	}
	return out
}

func cat(parts ...[]int64) []int64 {
	var out []int64
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestMerge(t *testing.T) {
	other := txns(1, 3, 3)
	other[0].Path = "/other"
	relabeled := []txnlog.Txn{{Session: 1, Zxid: 1<<32 | 6, Type: txnlog.TypeMulti, Time: time.UnixMilli(6).UTC(),
		Ops: []txnlog.Txn{{Type: txnlog.TypeCreate, Path: "/b"}, {Type: txnlog.TypeError, Err: -110}}}}
	relabeled2 := []txnlog.Txn{relabeled[0]}
	relabeled2[0].Ops = []txnlog.Txn{{Type: txnlog.TypeError, Path: "/b"}, {Type: txnlog.TypeError, Err: -110}}
	tests := []struct {
		name      string
		logs      []ServerLog
		voters    int
		committed []int64
		dropped   []int64
		start     int64
		err       string // substring of the error
	}{
		{name: "every server holds everything", voters: 3,
			logs:      []ServerLog{server("zk1", txns(1, 1, 5)), server("zk2", txns(1, 1, 5)), server("zk3", txns(1, 1, 5))},
			committed: zspan(1, 1, 5)},
		{name: "a follower that was down holds less", voters: 3,
			logs:      []ServerLog{server("zk1", txns(1, 1, 5)), server("zk2", txns(1, 1, 5)), server("zk3", txns(1, 1, 2))},
			committed: zspan(1, 1, 5)},
		{name: "an old leader's proposal logged by it alone is dropped", voters: 3,
			logs:      []ServerLog{server("zk1", txns(1, 1, 6)), server("zk2", txns(1, 1, 5), txns(2, 1, 2)), server("zk3", txns(1, 1, 5), txns(2, 1, 2))},
			committed: cat(zspan(1, 1, 5), zspan(2, 1, 2)), dropped: zspan(1, 6, 6)},
		{name: "the last proposal of the running epoch, not yet acknowledged", voters: 3,
			logs:      []ServerLog{server("zk1", txns(1, 1, 6)), server("zk2", txns(1, 1, 5)), server("zk3", txns(1, 1, 5))},
			committed: zspan(1, 1, 5), dropped: zspan(1, 6, 6)},
		{name: "a later zxid of the epoch committed commits the earlier ones", voters: 3,
			logs:      []ServerLog{server("zk1", txns(1, 1, 6)), server("zk2", txns(1, 1, 2), txns(1, 5, 6)), server("zk3", txns(1, 1, 2))},
			committed: zspan(1, 1, 6)},
		{name: "the new leader's log carries a proposal on into its epoch", voters: 3,
			logs:      []ServerLog{server("zk1", txns(1, 1, 6), txns(2, 1, 3)), server("zk2", txns(1, 1, 5), txns(2, 1, 3)), server("zk3", txns(1, 1, 5))},
			committed: cat(zspan(1, 1, 6), zspan(2, 1, 3))},
		{name: "a server synchronized by a snapshot proves nothing of its old log", voters: 3,
			logs: []ServerLog{server("zk1", txns(1, 1, 5), txns(2, 1, 4), txns(3, 1, 2)), server("zk2", txns(1, 1, 5), txns(2, 1, 4), txns(3, 1, 2)),
				server("zk3", txns(1, 1, 6), txns(3, 1, 2))},
			committed: cat(zspan(1, 1, 5), zspan(2, 1, 4), zspan(3, 1, 2)), dropped: zspan(1, 6, 6)},
		{name: "older logs purged", voters: 3,
			logs:      []ServerLog{server("zk1", txns(1, 50, 60)), server("zk2", txns(1, 40, 60)), server("zk3", txns(1, 55, 60))},
			committed: zspan(1, 40, 60), start: 1<<32 | 40},
		{name: "a failed multi relabeled on one server is one txn", voters: 3,
			logs:      []ServerLog{server("zk1", txns(1, 1, 5), relabeled), server("zk2", txns(1, 1, 5), relabeled2), server("zk3", txns(1, 1, 5))},
			committed: zspan(1, 1, 6)},
		{name: "standalone", voters: 1, logs: []ServerLog{server("zk1", txns(1, 1, 3), txns(2, 1, 1))},
			committed: cat(zspan(1, 1, 3), zspan(2, 1, 1))},
		{name: "an observer's copy is no acknowledgement", voters: 3,
			logs: []ServerLog{server("zk1", txns(1, 1, 6)), server("zk2", txns(1, 1, 5)), server("zk3", txns(1, 1, 4)),
				{Server: "obs", Observer: true, Files: []*txnlog.File{{Name: "log.1", Txns: txns(1, 1, 6)}}}},
			committed: zspan(1, 1, 5), dropped: zspan(1, 6, 6)},
		{name: "two txns at one zxid", voters: 3,
			logs: []ServerLog{server("zk1", txns(1, 1, 5)), server("zk2", txns(1, 1, 2), other, txns(1, 4, 5)), server("zk3", txns(1, 1, 5))},
			err:  "zxid 0x100000003: zk1 holds create by session 0x1 on /n/0x100000003, zk2 holds create by session 0x1 on /other"},
		{name: "a gap no server fills", voters: 3,
			logs: []ServerLog{server("zk1", txns(1, 1, 4), txns(1, 10, 12)), server("zk2", txns(1, 1, 4), txns(1, 10, 12)), server("zk3", txns(1, 1, 4))},
			err:  "committed zxids that no server's log holds: 0x100000005..0x100000009"},
		{name: "a gap at the start of an epoch", voters: 3,
			logs: []ServerLog{server("zk1", txns(1, 1, 4), txns(2, 3, 4)), server("zk2", txns(1, 1, 4), txns(2, 3, 4)), server("zk3")},
			err:  "0x200000001..0x200000002"},
		{name: "logs that do not overlap", voters: 3,
			logs: []ServerLog{server("zk1", txns(1, 1, 5)), server("zk2", txns(3, 7, 9)), server("zk3", txns(3, 7, 9))},
			err:  "the servers' logs do not overlap: zk1 holds up to 0x100000005, zk2 holds from 0x300000007"},
		{name: "no quorum anywhere", voters: 3, logs: []ServerLog{server("zk1", txns(1, 1, 5)), server("zk2"), server("zk3")},
			err: "no transaction is held by a quorum of 2 of 3 servers"},
		{name: "no transaction", voters: 3, logs: []ServerLog{server("zk1"), server("zk2")}, err: "no server's log holds a transaction"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := Merge(tc.logs, tc.voters)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := zxids(h.Txns); !reflect.DeepEqual(got, tc.committed) {
				t.Errorf("committed %x, want %x", got, tc.committed)
			}
			if got := zxids(h.Dropped); !reflect.DeepEqual(got, tc.dropped) {
				t.Errorf("dropped %x, want %x", got, tc.dropped)
			}
			start := tc.start
			if start == 0 {
				start = 1<<32 | 1
			}
			if h.Start != start || h.End != tc.committed[len(tc.committed)-1] {
				t.Errorf("start %x end %x", h.Start, h.End)
			}
			if !strings.Contains(strings.Join(h.Notes, "\n"), "starts at "+txnlog.FormatZxid(start)) {
				t.Errorf("notes %q do not say where the history starts", h.Notes)
			}
		})
	}
}

func TestMergeHeldByAndNotes(t *testing.T) {
	zk1 := server("zk1", txns(1, 1, 3))
	zk1.Files[0].Torn = "the file ends inside the record at offset 900"
	h, err := Merge([]ServerLog{server("zk3", txns(1, 1, 3)), zk1, server("zk2", txns(1, 1, 2))}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Txns[2].HeldBy; !reflect.DeepEqual(got, []string{"zk1", "zk3"}) {
		t.Errorf("held by %v", got)
	}
	if !strings.Contains(strings.Join(h.Notes, "\n"), "zk1: log.1: the file ends inside the record at offset 900") {
		t.Errorf("notes %q lack the torn file", h.Notes)
	}
	h, err = Merge([]ServerLog{server("zk1", txns(1, 1, 6)), server("zk2", txns(1, 1, 5), txns(2, 1, 2)),
		server("zk3", txns(1, 1, 5), txns(2, 1, 1))}, 3)
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(h.Notes, "\n")
	for _, want := range []string{"dropped 0x200000002 (create, held by zk2 only): not held by a quorum yet",
		"dropped 0x100000006 (create, held by zk1 only): a proposal of an old epoch"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
	if _, err := Merge(nil, 0); err == nil {
		t.Error("0 voters accepted")
	}
}

// realHistory merges the logs of a real ensemble that ran zkctl's roles
// (written by txnlog's cross-check test; see its envSave).
func realHistory(t *testing.T) *History {
	t.Helper()
	var logs []ServerLog
	for _, s := range []string{"zk1", "zk2", "zk3"} {
		files, err := filepath.Glob("testdata/ensemble/" + s + "/log.*")
		if err != nil || len(files) == 0 {
			t.Fatalf("testdata of %s: %v", s, err)
		}
		l := ServerLog{Server: s}
		for _, p := range files {
			f, err := txnlog.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			l.Files = append(l.Files, f)
		}
		logs = append(logs, l)
	}
	h, err := Merge(logs, 3)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// The real history: two epochs (the ZooKeeper leader was killed and
// rejoined), every role instance named, every judge passes.
func TestRealHistory(t *testing.T) {
	h := realHistory(t)
	if len(h.Dropped) != 0 || Epoch(h.Start) != 1 || Epoch(h.End) != 2 {
		t.Errorf("start %s end %s, %d dropped", txnlog.FormatZxid(h.Start), txnlog.FormatZxid(h.End), len(h.Dropped))
	}
	names := map[string]bool{}
	for _, in := range h.Sessions {
		names[in.String()] = true
	}
	for _, want := range []string{"master m1", "master m2", "worker w1", "worker w2", "client c1", "client c2"} {
		if !names[want] {
			t.Errorf("no session is %s: %v", want, h.Sessions)
		}
	}
	// The testdata's failed multi (foreign writes under /scratch) was logged
	// relabeled by one server (see txnlog's relabeled): still one txn.
	failedMultis := 0
	for _, e := range h.Txns {
		if e.Type == txnlog.TypeMulti && e.Failed() {
			failedMultis++
			if len(e.HeldBy) != 3 {
				t.Errorf("the failed multi %s is held by %v", txnlog.FormatZxid(e.Zxid), e.HeldBy)
			}
		}
	}
	if failedMultis != 1 {
		t.Errorf("%d failed multis, want 1", failedMultis)
	}
	for _, v := range Judge(h, Options{}) {
		if !v.OK || v.Judged != len(h.Txns) {
			t.Errorf("%s: %s (%d judged)", v.Name, v.Detail, v.Judged)
		}
		t.Logf("%s: %s", v.Name, v.Detail)
	}
}
