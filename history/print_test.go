package history

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"zkctl/txnlog"
)

func TestPrint(t *testing.T) {
	long := strings.Repeat("x", 45)
	h := build(append(base()[:9],
		do(w2, txnlog.Txn{Type: txnlog.TypeCreateSession, Timeout: 2000}),
		do(w2, create("/scratch", long)),
		do(w2, multi(create("/scratch/b", ""), failed(-110))),
		do(w2, failed(-101)),
		do(w2, txnlog.Txn{Type: txnlog.TypeCloseSession, Ephemerals: []string{"/scratch/e"}}))...)
	const (
		election = "0x100000001  2026-12-01 10:00:00.000 0x1000001          master m1    create " + m1Node + " (ephemeral)\n"
		complete = "0x100000009  2026-12-01 10:00:00.080 0x2000001          worker w1    multi\n" +
			"    create /results/c1-1 \"ok w1\"\n    delete /workers/w1/c1-1\n    delete /tasks/c1-1\n"
		foreign = "0x10000000a  2026-12-01 10:00:00.090 0x2000002          -            createSession timeout 2000ms\n" +
			"0x10000000b  2026-12-01 10:00:00.100 0x2000002          -            create /scratch \"" + "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"…\n" +
			"0x10000000c  2026-12-01 10:00:00.110 0x2000002          -            multi (failed: nothing applied)\n" +
			"    create /scratch/b\n    error -110 (node exists)\n" +
			"0x10000000d  2026-12-01 10:00:00.120 0x2000002          -            error -101 (no node)\n" +
			"0x10000000e  2026-12-01 10:00:00.130 0x2000002          -            closeSession deletes /scratch/e\n"
	)
	tests := []struct {
		name   string
		filter Filter
		want   string // the whole output, or its start when prefix
		prefix bool
		lines  int
	}{
		{name: "everything", want: election, prefix: true, lines: 33},
		{name: "since a zxid", filter: Filter{Since: 0x100000009}, want: complete + foreign},
		{name: "a path prefix matches a multi's op", filter: Filter{PathPrefix: "/results"}, want: complete},
		{name: "a path prefix matches closeSession's ephemerals", filter: Filter{PathPrefix: "/scratch/e"},
			want: "0x10000000e  2026-12-01 10:00:00.130 0x2000002          -            closeSession deletes /scratch/e\n"},
		{name: "a session", filter: Filter{Session: w2}, want: foreign},
		{name: "a session and a path", filter: Filter{Session: w1, PathPrefix: "/election"}, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := h.Print(&b, tc.filter); err != nil {
				t.Fatal(err)
			}
			got := b.String()
			if tc.prefix && !strings.HasPrefix(got, tc.want) || !tc.prefix && got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if tc.lines > 0 && strings.Count(got, "\n") != tc.lines {
				t.Errorf("%d lines, want %d:\n%s", strings.Count(got, "\n"), tc.lines, got)
			}
		})
	}
}

func TestPrintJSON(t *testing.T) {
	h := build(base()...)
	var b strings.Builder
	if err := h.PrintJSON(&b, Filter{PathPrefix: "/tasks/c1-2"}); err != nil {
		t.Fatal(err)
	}
	var got []jsonLine
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		var l jsonLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: %v", sc.Bytes(), err)
		}
		got = append(got, l)
	}
	// submit, assign, complete of c1-2
	if len(got) != 3 || got[0].Instance != "client c1" || got[1].Instance != "master m1" || got[2].Instance != "worker w1" {
		t.Fatalf("lines %+v", got)
	}
	if got[1].Ops[2].Type != txnlog.TypeSetData || string(got[1].Ops[2].Data) != "w1" || len(got[1].HeldBy) != 3 {
		t.Errorf("assignment decoded as %+v", got[1])
	}
	if !strings.Contains(b.String(), `"type":"multi"`) {
		t.Errorf("types are not by name: %s", b.String())
	}
}

func TestSessionsNameRoleInstances(t *testing.T) {
	h := build(
		do(m1, ephemeral("/election/plain_0000000003")),
		do(w1, multi(create("/workers/w9", ""), ephemeral("/workers_eph/w9"))),
		do(c1, multi(create("/data/job", "1"), create("/tasks/job", ""))),
		do(w2, multi(create("/data/c7-1", "1"), create("/tasks/c7-1", ""))),
		do(m2, ephemeral("/election/_c_0123456789abcdef0123456789abcdef-m2_0000000004")),
		do(0x99, create("/elsewhere", "")),
		do(0x98, multi(ephemeral("/election/x_0000000009"), failed(-110))),
	)
	want := map[int64]string{m1: "master plain", w1: "worker w9", c1: "client 0x3000001", w2: "client c7", m2: "master m2"}
	for s, name := range want {
		if got := h.Sessions[s].String(); got != name {
			t.Errorf("session %#x: %q, want %q", s, got, name)
		}
	}
	if len(h.Sessions) != len(want) {
		t.Errorf("sessions %v: a session that named no role (or only in a failed multi) got one", h.Sessions)
	}
}
