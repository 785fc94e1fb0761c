package txnlog

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/adler32"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// realLogs are logs written by a real ensemble running zkctl's roles (see
// envSave in crosscheck_test.go), trimmed to their records.
func realLogs(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("../history/testdata/ensemble/zk*/log.*")
	if err != nil || len(files) < 3 {
		t.Fatalf("testdata logs: %v %v", files, err)
	}
	return files
}

func realLog(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("../history/testdata/ensemble/zk1/log.100000001")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestReadRealLogs(t *testing.T) {
	for _, path := range realLogs(t) {
		f, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if f.Torn != "" || len(f.Txns) == 0 || f.End != fileSize(t, path) {
			t.Fatalf("%s: %d txns, torn %q, end %d", path, len(f.Txns), f.Torn, f.End)
		}
		if got, want := FormatZxid(f.Txns[0].Zxid), "0x"+strings.TrimPrefix(filepath.Base(path), "log."); got != want {
			t.Errorf("%s: first zxid %s, want the file's name %s", path, got, want)
		}
		for i := 1; i < len(f.Txns); i++ {
			if f.Txns[i].Zxid <= f.Txns[i-1].Zxid {
				t.Errorf("%s: zxid %s after %s", path, FormatZxid(f.Txns[i].Zxid), FormatZxid(f.Txns[i-1].Zxid))
			}
		}
		// The preallocated zeros after the records end the file cleanly.
		data, _ := os.ReadFile(path)
		padded, err := Read(bytes.NewReader(append(data, make([]byte, 1<<20)...)), path)
		if err != nil || !reflect.DeepEqual(padded, f) {
			t.Errorf("%s with zero padding: %v", path, err)
		}
	}
}

// One server of the testdata logged a failed multi relabeled (see
// relabeled): its first op an error with the op's own record.
func TestRealRelabeledOp(t *testing.T) {
	var relabeled []string
	for _, path := range realLogs(t) {
		f, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range f.Txns {
			for _, op := range tx.Ops {
				if op.Type == TypeError && op.Path != "" {
					relabeled = append(relabeled, path+" "+FormatZxid(tx.Zxid)+" "+op.Path)
				}
			}
		}
	}
	if len(relabeled) != 1 || !strings.HasSuffix(relabeled[0], " /scratch/b") {
		t.Errorf("relabeled ops %q, want the one of /scratch/b", relabeled)
	}
}

func fileSize(t testing.TB, path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// Txns travel from the node agent to the controller as JSON lines.
func TestTxnJSONRoundTrip(t *testing.T) {
	for _, path := range realLogs(t) {
		f, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range f.Txns {
			b, err := json.Marshal(tx)
			if err != nil {
				t.Fatal(err)
			}
			var back Txn
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, tx) {
				t.Fatalf("round trip of %s:\n got %+v\nwant %+v", b, back, tx)
			}
		}
	}
	b, _ := json.Marshal(Txn{Session: 5, Zxid: 0x100000002, Type: TypeCreate, Path: "/a", Data: []byte("x"), Ephemeral: true,
		Time: time.UnixMilli(1000).UTC()})
	want := `{"session":5,"zxid":4294967298,"time":"1970-01-01T00:00:01Z","type":"create","path":"/a","data":"eA==","ephemeral":true}`
	if string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
}

func TestTypeNames(t *testing.T) {
	for _, ty := range append(knownTypes(), 99) {
		b, _ := ty.MarshalText()
		var back Type
		if err := back.UnmarshalText(b); err != nil || back != ty {
			t.Errorf("%d: %q back to %d, %v", ty, b, back, err)
		}
	}
	if TypeCreate2.String() != "create2" || TypeCloseSession.String() != "closeSession" || Type(99).String() != "99" {
		t.Error("names differ from ZooKeeper's")
	}
	var ty Type
	if err := ty.UnmarshalText([]byte("bogus")); err == nil {
		t.Error("bogus type name accepted")
	}
}

func TestLogFilesInZxidOrder(t *testing.T) {
	dir := t.TempDir()
	v2 := filepath.Join(dir, "version-2")
	if err := os.MkdirAll(v2, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"log.200000001", "log.f", "log.100000001", "snapshot.0", "log.100000001.fixed", "acceptedEpoch"} {
		if err := os.WriteFile(filepath.Join(v2, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := LogFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got {
		names = append(names, filepath.Base(p))
	}
	if want := []string{"log.f", "log.100000001", "log.200000001"}; !reflect.DeepEqual(names, want) {
		t.Errorf("LogFiles %v, want %v", names, want)
	}
	if _, err := LogFiles(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing data dir gave no error")
	}
}

// records splits a log into the file header and its records' bytes.
func records(t testing.TB, data []byte) (header []byte, recs [][]byte) {
	t.Helper()
	off := headerLen
	for off+12 <= len(data) {
		n := int(binary.BigEndian.Uint32(data[off+8 : off+12]))
		if n == 0 {
			break
		}
		recs = append(recs, data[off:off+12+n+1])
		off += 12 + n + 1
	}
	return data[:headerLen], recs
}

// jute writes jute records for hand-made logs.
type jute struct{ bytes.Buffer }

func (j *jute) int(v int32) *jute  { _ = binary.Write(j, binary.BigEndian, v); return j }
func (j *jute) long(v int64) *jute { _ = binary.Write(j, binary.BigEndian, v); return j }
func (j *jute) str(s string) *jute { j.int(int32(len(s))); j.WriteString(s); return j }
func (j *jute) buf(b []byte) *jute { j.int(int32(len(b))); j.Write(b); return j }
func (j *jute) worldACL() *jute {
	return j.int(1).int(31).str("world").str("anyone")
}

// record frames a txn header and body as FileTxnLog does.
func record(session int64, zxid int64, ty Type, body []byte) []byte {
	var txn jute
	txn.long(session).int(1).long(zxid).long(1000).int(int32(ty))
	txn.Write(body)
	var r jute
	r.long(int64(adler32.Checksum(txn.Bytes()))).buf(txn.Bytes())
	r.WriteByte('B')
	return r.Bytes()
}

func fileHeader(version int32) []byte {
	var h jute
	h.int(Magic).int(version).long(0)
	return h.Bytes()
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestDamagedFiles(t *testing.T) {
	header, recs := records(t, realLog(t))
	good := concat(append([][]byte{header}, recs...)...)
	n := len(recs)
	last := len(good) - len(recs[n-1]) // offset of the last record
	mid := len(header) + len(recs[0])  // offset of the second record
	flip := func(data []byte, at int) []byte {
		out := bytes.Clone(data)
		out[at] ^= 0x40
		return out
	}
	zeros := make([]byte, 4096)
	var bigLen jute
	bigLen.long(1).int(0x7fffffff)
	tests := []struct {
		name string
		data []byte
		txns int    // txns read, when no error
		torn string // substring of File.Torn; "" for none
		err  error  // errors.Is target
		off  int64  // the *CorruptError's offset, when > 0
	}{
		{name: "whole", data: good, txns: n},
		{name: "zero padding", data: concat(good, zeros), txns: n},
		{name: "ends at a record boundary", data: good[:last], txns: n - 1},
		{name: "ends inside the last record's header", data: good[:last+5], txns: n - 1, torn: "inside the header of the record at offset"},
		{name: "ends inside the last record", data: good[:len(good)-10], txns: n - 1, torn: "inside the record at offset"},
		{name: "ends before the end-of-record byte", data: good[:len(good)-1], txns: n - 1, torn: "before the end of the record"},
		{name: "last record half written into zeros", data: concat(good[:len(good)-20], zeros), txns: n - 1, torn: "checksum"},
		{name: "last record's checksum fails", data: flip(good, len(good)-5), txns: n - 1, torn: "torn: checksum"},
		{name: "last record's end byte is wrong", data: concat(good[:len(good)-1], []byte{'X'}, zeros), txns: n - 1, torn: "end-of-record"},
		{name: "huge length at the end", data: concat(good, bigLen.Bytes(), zeros), txns: n, torn: "length 2147483647"},
		{name: "huge length with data after it", data: concat(good[:last], bigLen.Bytes(), recs[n-1]), off: int64(last)},
		{name: "a middle record's checksum fails", data: flip(good, mid+30), off: int64(mid)},
		{name: "a middle record's end byte is wrong", data: flip(good, mid+len(recs[1])-1), off: int64(mid)},
		{name: "zero length with a checksum", data: concat(good[:mid], []byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}, recs[1]), off: int64(mid)},
		{name: "empty file", data: nil, torn: "inside its header"},
		{name: "short header", data: good[:7], torn: "inside its header"},
		{name: "wrong magic", data: concat([]byte("PK\x03\x04"), good[4:]), err: ErrNotTxnLog},
		{name: "a snapshot is not a log", data: concat([]byte("ZKSN"), good[4:]), err: ErrNotTxnLog},
		{name: "version 3", data: concat(fileHeader(3), recs[0]), err: ErrUnsupportedVersion},
		{name: "unsupported txn type", data: concat(fileHeader(2), recs[0], record(1, 2, 99, nil)), err: ErrUnsupportedTxn, off: int64(headerLen + len(recs[0]))},
		{name: "body shorter than its type", data: concat(fileHeader(2), record(1, 2, TypeSetData, new(jute).str("/a").Bytes())), off: headerLen},
		{name: "bytes after the txn", data: concat(fileHeader(2), record(1, 2, TypeDelete, new(jute).str("/a").int(7).Bytes())), off: headerLen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Read(bytes.NewReader(tc.data), "log.test")
			if tc.err != nil || tc.off > 0 {
				if err == nil {
					t.Fatalf("no error; torn %q, %d txns", f.Torn, len(f.Txns))
				}
				if tc.err != nil && !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				var ce *CorruptError
				if tc.off > 0 && (!errors.As(err, &ce) || ce.Offset != tc.off || ce.File != "log.test") {
					t.Fatalf("error %v, want a *CorruptError of log.test at offset %d", err, tc.off)
				}
				if !strings.Contains(err.Error(), "log.test") {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Txns) != tc.txns || !strings.Contains(f.Torn, tc.torn) || (tc.torn == "") != (f.Torn == "") {
				t.Fatalf("%d txns, torn %q; want %d txns, torn ~%q", len(f.Txns), f.Torn, tc.txns, tc.torn)
			}
		})
	}
}

// Hand-made records for what the workload does not always produce.
func TestDecodeRecords(t *testing.T) {
	var create, relabeled, ttl, container, check, multi jute
	create.str("/a").buf([]byte("x")).worldACL().WriteByte(1)
	create.int(3)
	relabeled.str("/scratch/b").buf([]byte("1")).worldACL().WriteByte(0)
	relabeled.int(1)
	ttl.str("/t").buf(nil).worldACL().int(4).long(60000)
	container.str("/c").buf(nil).worldACL().int(5)
	check.str("/election/m_0000000001").int(0)
	multi.int(3).int(int32(TypeError)).buf(relabeled.Bytes()).
		int(int32(TypeError)).buf(new(jute).int(-110).Bytes()).
		int(int32(TypeCheck)).buf(check.Bytes())
	var digest jute
	digest.int(2).long(12345)
	tests := []struct {
		name string
		ty   Type
		body []byte
		want Txn
	}{
		{"create2 ephemeral", TypeCreate2, create.Bytes(),
			Txn{Type: TypeCreate2, Path: "/a", Data: []byte("x"), ACLs: 1, Ephemeral: true, ParentCVersion: 3}},
		{"createTTL", TypeCreateTTL, ttl.Bytes(), Txn{Type: TypeCreateTTL, Path: "/t", ACLs: 1, ParentCVersion: 4, TTL: 60000}},
		{"createContainer", TypeCreateContainer, container.Bytes(), Txn{Type: TypeCreateContainer, Path: "/c", ACLs: 1, ParentCVersion: 5}},
		{"deleteContainer with a digest", TypeDeleteContainer, concat(new(jute).str("/c").Bytes(), digest.Bytes()),
			Txn{Type: TypeDeleteContainer, Path: "/c", Digest: &Digest{Version: 2, Tree: 12345}}},
		{"closeSession without a body", TypeCloseSession, nil, Txn{Type: TypeCloseSession}},
		{"closeSession with only a digest", TypeCloseSession, digest.Bytes(), Txn{Type: TypeCloseSession, Digest: &Digest{Version: 2, Tree: 12345}}},
		{"closeSession with its ephemerals", TypeCloseSession, new(jute).int(2).str("/e1").str("/e2").Bytes(),
			Txn{Type: TypeCloseSession, Ephemerals: []string{"/e1", "/e2"}}},
		{"a failed multi relabeled by DataTree", TypeMulti, multi.Bytes(), Txn{Type: TypeMulti, Ops: []Txn{
			{Type: TypeError, Path: "/scratch/b"}, {Type: TypeError, Err: -110}, {Type: TypeCheck, Path: "/election/m_0000000001"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Read(bytes.NewReader(concat(fileHeader(2), record(7, 0x100000002, tc.ty, tc.body))), "log.test")
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			want.Session, want.Cxid, want.Zxid, want.Time = 7, 1, 0x100000002, time.UnixMilli(1000).UTC()
			if len(f.Txns) != 1 || !reflect.DeepEqual(f.Txns[0], want) {
				t.Fatalf("got %+v\nwant %+v", f.Txns, want)
			}
			if tc.ty == TypeMulti && !f.Txns[0].Failed() {
				t.Error("a multi with error ops is not Failed")
			}
		})
	}
	var nested jute
	nested.int(1).int(int32(TypeMulti)).buf(new(jute).int(0).Bytes())
	if _, err := Read(bytes.NewReader(concat(fileHeader(2), record(7, 2, TypeMulti, nested.Bytes()))), "log.test"); err == nil {
		t.Error("a multi inside a multi decoded")
	}
}

// A length that claims far more than the input holds allocates only what
// arrives.
func TestHugeLengthAllocatesLittle(t *testing.T) {
	var r jute
	r.long(1).int(MaxRecord)
	r.Write(make([]byte, 100))
	data := concat(fileHeader(2), r.Bytes())
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f, err := Read(bytes.NewReader(data), "log.test")
	runtime.ReadMemStats(&after)
	if err != nil || f.Torn == "" {
		t.Fatalf("torn %q, err %v", f.Torn, err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("reading %d bytes allocated %d", len(data), got)
	}
}

func FuzzRead(f *testing.F) {
	// A real log's first records (with a multi, a createSession, creates
	// and errors), kept short so that the fuzzer minimizes quickly.
	header, recs := records(f, realLog(f))
	data := concat(append([][]byte{header}, recs[:12]...)...)
	f.Add(data)
	for _, cut := range []int{0, 3, headerLen, headerLen + 5, headerLen + len(recs[0]) - 1, len(data) / 2, len(data) - 1} {
		f.Add(data[:cut])
	}
	f.Add(concat(fileHeader(2), record(1, 2, TypeMulti, new(jute).int(0x7fffffff).Bytes())))
	f.Fuzz(func(t *testing.T, in []byte) {
		file, err := Read(bytes.NewReader(in), "fuzz")
		if err != nil {
			if file != nil && file.Torn != "" {
				t.Fatalf("an error and a torn note: %v", err)
			}
			return
		}
		for _, tx := range file.Txns {
			b, err := json.Marshal(tx)
			if err != nil {
				t.Fatal(err)
			}
			var back Txn
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
		}
	})
}
