package lincheck

import (
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// Builders of hand-made operations; times in milliseconds.

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func write(client int, data string, call, ret int, version int32) Op {
	return Op{Client: client, Session: int64(client + 1), Kind: Write, Data: data, Call: ms(call), Return: ms(ret),
		Outcome: OK, Out: Value{Data: data, Version: version}}
}

func writeLost(client int, data string, call int) Op {
	return Op{Client: client, Kind: Write, Data: data, Call: ms(call), Return: ms(call + 3000),
		Outcome: Indeterminate, Err: "zk: connection closed"}
}

func cas(client int, expect int32, data string, call, ret int, version int32) Op {
	op := write(client, data, call, ret, version)
	op.Kind, op.Expect = CAS, expect
	return op
}

func casRefused(client int, expect int32, data string, call, ret int) Op {
	return Op{Client: client, Session: int64(client + 1), Kind: CAS, Expect: expect, Data: data,
		Call: ms(call), Return: ms(ret), Outcome: Failed, Err: "zk: version conflict"}
}

func casLost(client int, expect int32, data string, call int) Op {
	op := writeLost(client, data, call)
	op.Kind, op.Expect = CAS, expect
	return op
}

func read(client int, session int64, data string, version int32, call, ret int) Op {
	return Op{Client: client, Session: session, Kind: Read, Call: ms(call), Return: ms(ret),
		Outcome: OK, Out: Value{Data: data, Version: version}}
}

func history(ops ...Op) *History {
	return &History{Path: "/r", Initial: Value{Data: initialData}, Start: time.Now(), Ops: ops}
}

func TestWritesAndCASLinearizability(t *testing.T) {
	cases := []struct {
		name string
		ops  []Op
		want porcupine.CheckResult
	}{
		{"sequential writes and cas", []Op{write(0, "a", 0, 10, 1), cas(1, 1, "b", 20, 30, 2), write(2, "c", 40, 50, 3)}, porcupine.Ok},
		{"concurrent writes, second call first applied", []Op{write(0, "a", 0, 30, 2), write(1, "b", 10, 20, 1)}, porcupine.Ok},
		{"concurrent writes, first call first applied", []Op{write(0, "a", 0, 30, 1), write(1, "b", 10, 20, 2)}, porcupine.Ok},
		{"indeterminate write that applied", []Op{writeLost(0, "a", 0), write(1, "b", 20, 30, 2)}, porcupine.Ok},
		{"indeterminate write that did not apply", []Op{writeLost(0, "a", 0), write(1, "b", 20, 30, 1)}, porcupine.Ok},
		{"indeterminate write applied late", []Op{writeLost(0, "a", 0), write(1, "b", 20, 30, 1), cas(2, 2, "c", 40, 50, 3)}, porcupine.Ok},
		{"indeterminate cas that applied", []Op{write(0, "a", 0, 10, 1), casLost(1, 1, "b", 20), cas(2, 2, "c", 40, 50, 3)}, porcupine.Ok},
		{"cas refused by a concurrent write", []Op{write(0, "a", 0, 30, 1), casRefused(1, 0, "b", 10, 20)}, porcupine.Ok},
		{"cas refused on a wrong version", []Op{write(0, "a", 0, 10, 1), casRefused(1, 5, "b", 20, 30)}, porcupine.Ok},

		{"indeterminate write read, then lost", []Op{writeLost(0, "a", 0), read(1, 9, "a", 1, 20, 30), write(2, "b", 40, 50, 1)}, porcupine.Illegal},
		{"indeterminate write read at its version", []Op{writeLost(0, "a", 0), read(1, 9, "a", 1, 20, 30), write(2, "b", 40, 50, 2)}, porcupine.Ok},
		{"cas succeeded on a stale version", []Op{write(0, "a", 0, 10, 1), cas(1, 0, "b", 20, 30, 1)}, porcupine.Illegal},
		{"lost acknowledged write: later cas on the version before it",
			[]Op{write(0, "a", 0, 10, 1), write(1, "b", 20, 30, 2), cas(2, 1, "c", 40, 50, 2)}, porcupine.Illegal},
		{"lost acknowledged write: next write at the same version",
			[]Op{write(0, "a", 0, 10, 1), write(1, "b", 20, 30, 1)}, porcupine.Illegal},
		{"cas refused although the version matched", []Op{write(0, "a", 0, 10, 1), casRefused(1, 1, "b", 20, 30)}, porcupine.Illegal},
		{"write acknowledged at a version skipped", []Op{write(0, "a", 0, 10, 2)}, porcupine.Illegal},
		{"indeterminate cas cannot explain a skipped version",
			[]Op{write(0, "a", 0, 10, 1), casLost(1, 0, "b", 20), write(2, "c", 40, 50, 3)}, porcupine.Illegal},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := linearizable(history(tc.ops...), 10*time.Second)
			if got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestReadChecks(t *testing.T) {
	cases := []struct {
		name string
		ops  []Op
		bad  bool
	}{
		{"fresh reads", []Op{write(0, "a", 0, 10, 1), read(0, 1, "a", 1, 20, 30), read(1, 9, "a", 1, 20, 30)}, false},
		{"stale read by another session is allowed",
			[]Op{write(0, "a", 0, 10, 1), write(0, "b", 20, 30, 2), read(1, 9, "a", 1, 40, 50), read(1, 9, initialData, 0, 0, 5)}, false},
		{"a new session may see older versions",
			[]Op{write(0, "a", 0, 10, 1), write(0, "b", 20, 30, 2), read(1, 9, "b", 2, 40, 50), read(1, 10, "a", 1, 60, 70)}, false},
		{"an unknown session starts afresh",
			[]Op{write(0, "a", 0, 10, 1), write(1, "b", 20, 30, 2), read(1, 0, "a", 1, 60, 70)}, false},
		{"value of an indeterminate write", []Op{writeLost(0, "a", 0), read(1, 9, "a", 1, 20, 30), read(2, 8, "a", 1, 20, 30)}, false},
		{"read concurrent with its write", []Op{write(0, "a", 10, 30, 1), read(1, 9, "a", 1, 0, 20)}, false},

		{"version went backwards in one session",
			[]Op{write(0, "a", 0, 10, 1), write(0, "b", 20, 30, 2), read(1, 9, "b", 2, 40, 50), read(1, 9, "a", 1, 60, 70)}, true},
		{"own acknowledged write missed", []Op{write(0, "a", 0, 10, 1), write(0, "b", 20, 30, 2), read(0, 1, "a", 1, 40, 50)}, true},
		{"invented value", []Op{write(0, "a", 0, 10, 1), read(1, 9, "zz", 1, 20, 30)}, true},
		{"value of a refused cas", []Op{casRefused(0, 3, "a", 0, 10), read(1, 9, "a", 1, 20, 30)}, true},
		{"value at another version than written", []Op{write(0, "a", 0, 10, 1), read(1, 9, "a", 2, 20, 30)}, true},
		{"value read before it was written", []Op{read(1, 9, "a", 1, 0, 10), write(0, "a", 20, 30, 1)}, true},
		{"two values at one version", []Op{writeLost(0, "a", 0), writeLost(1, "b", 0), read(2, 9, "a", 1, 20, 30), read(3, 8, "b", 1, 20, 30)}, true},
		{"initial value at a later version", []Op{read(1, 9, initialData, 1, 0, 10)}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := readViolations(history(tc.ops...))
			if bad := len(got) > 0; bad != tc.bad {
				t.Fatalf("violations %q, want bad=%v", got, tc.bad)
			}
		})
	}
}
