package txnlog

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// toolkitClasspath runs ZooKeeper's own log reader (DESIGN.md).
const toolkitClasspath = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/commons-cli.jar"

// envSave names a folder to keep the workload's logs in, trimmed to their
// records, as testdata for this package and package history:
// ZKCTL_TXNLOG_SAVE=$PWD/../history/testdata/ensemble go test -run CrossCheck.
const envSave = "ZKCTL_TXNLOG_SAVE"

// TestCrossCheckWithTxnLogToolkit decodes every log of every server of a
// real ensemble that ran zkctl's roles, and ZooKeeper's TxnLogToolkit
// decodes the same files: every record agrees on zxid, session, cxid, type
// and path (a multi's operations included), and on the details the toolkit
// prints in full.
func TestCrossCheckWithTxnLogToolkit(t *testing.T) {
	if _, err := os.Stat("/usr/share/java/commons-cli.jar"); err != nil {
		t.Skip("ZooKeeper's TxnLogToolkit needs /usr/share/java/commons-cli.jar (apt-get install zookeeper)")
	}
	kinds := map[string]int{}
	for i, dir := range workload(t) {
		files, err := LogFiles(dir)
		if err != nil || len(files) == 0 {
			t.Fatalf("server %d: logs %v: %v", i+1, files, err)
		}
		for _, path := range files {
			f, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if f.Torn != "" {
				t.Errorf("%s: torn: %s", path, f.Torn)
			}
			compareWithToolkit(t, path, f)
			for _, tx := range f.Txns {
				kinds[tx.Type.String()]++
				if tx.Digest != nil {
					kinds["digest"]++
				}
				for _, op := range tx.Ops {
					kinds["multi/"+op.Type.String()]++
					if op.Type == TypeError && op.Path != "" {
						kinds["multi/relabeled error"]++ // see relabeled in decode.go
					}
				}
			}
			save(t, fmt.Sprintf("zk%d", i+1), path, f)
		}
	}
	t.Logf("decoded: %v", kinds)
	for _, k := range []string{"createSession", "closeSession", "create", "delete", "setData", "setACL", "error",
		"multi", "multi/check", "digest", "multi/create", "multi/delete", "multi/setData", "multi/error"} {
		if kinds[k] == 0 {
			t.Errorf("the workload wrote no %s txn", k)
		}
	}
}

// toolkitTxn is one transaction as TxnLogToolkit prints it.
type toolkitTxn struct {
	session, cxid, zxid int64
	op, text            string
}

// toolkitLine starts a transaction in TxnLogToolkit's output: the date,
// then "session 0x… cxid 0x… zxid 0x… <op> <txn>" (the txn may run over
// several lines: it prints data and multi ops raw).
var toolkitLine = regexp.MustCompile(`^\d+/\d+/\d+, .*? session 0x([0-9a-f]+) cxid 0x([0-9a-f]+) zxid 0x([0-9a-f]+) (\S+) ?(.*)$`)

var toolkitEOF = regexp.MustCompile(`^EOF reached after (\d+) txns\.$`)

// runToolkit decodes path with ZooKeeper's TxnLogToolkit.
func runToolkit(t *testing.T, path string) (txns []toolkitTxn, count int) {
	t.Helper()
	out, err := exec.Command("java", "-cp", toolkitClasspath, "org.apache.zookeeper.server.persistence.TxnLogToolkit", path).CombinedOutput()
	if err != nil {
		t.Fatalf("TxnLogToolkit %s: %v\n%s", path, err, out)
	}
	count = -1
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := toolkitEOF.FindStringSubmatch(line); m != nil {
			count, _ = strconv.Atoi(m[1])
			continue
		}
		m := toolkitLine.FindStringSubmatch(line)
		if m == nil {
			if len(txns) > 0 {
				txns[len(txns)-1].text += "\n" + line
			}
			continue
		}
		txns = append(txns, toolkitTxn{session: hexInt(t, m[1]), cxid: hexInt(t, m[2]), zxid: hexInt(t, m[3]), op: m[4], text: m[5]})
	}
	return txns, count
}

func hexInt(t *testing.T, s string) int64 {
	u, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return int64(u)
}

func compareWithToolkit(t *testing.T, path string, f *File) {
	t.Helper()
	want, count := runToolkit(t, path)
	if count != len(f.Txns) || len(want) != len(f.Txns) {
		t.Fatalf("%s: toolkit: %d txns (%d parsed), txnlog: %d", path, count, len(want), len(f.Txns))
	}
	for i, got := range f.Txns {
		w := want[i]
		if got.Zxid != w.zxid || got.Session != w.session || int64(got.Cxid) != w.cxid || got.Type.String() != w.op {
			t.Errorf("%s: txn %d: got zxid %#x session %#x cxid %#x %s, toolkit zxid %#x session %#x cxid %#x %s",
				path, i, got.Zxid, got.Session, got.Cxid, got.Type, w.zxid, w.session, w.cxid, w.op)
			continue
		}
		if why := agrees(got, w.text); why != "" {
			t.Errorf("%s: zxid %s (%s): %s; toolkit printed %q", path, FormatZxid(got.Zxid), got.Type, why, w.text)
		}
	}
}

// agrees compares a txn with the toolkit's text for it: exactly where the
// toolkit prints the fields in full, by path where it prints raw bytes.
func agrees(got Txn, text string) string {
	want := ""
	switch got.Type {
	case TypeCreateSession:
		want = strconv.Itoa(int(got.Timeout))
	case TypeError:
		want = strconv.Itoa(int(got.Err))
	case TypeSetData:
		want = fmt.Sprintf("%s,%s,%d", got.Path, got.Data, got.Version)
	case TypeDelete:
		want = "'" + got.Path
	case TypeCloseSession:
		want = "v{" + strings.Join(quoted(got.Ephemerals), ",") + "}"
	case TypeCreate, TypeCreate2:
		if !strings.HasPrefix(text, fmt.Sprintf("%s,%s,", got.Path, got.Data)) ||
			!strings.HasSuffix(text, fmt.Sprintf(",%t,%d", got.Ephemeral, got.ParentCVersion)) {
			return "create fields differ"
		}
		return ""
	case TypeSetACL:
		if !strings.HasPrefix(text, "'"+got.Path+",") || !strings.HasSuffix(text, fmt.Sprintf(",%d", got.Version)) {
			return "setACL fields differ"
		}
		return ""
	case TypeMulti:
		return opsAgree(got.Ops, text)
	}
	if strings.TrimSpace(text) != want {
		return fmt.Sprintf("want %q", want)
	}
	return ""
}

func quoted(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = "'" + p
	}
	return out
}

// opsAgree finds each op's "<type>:" in order in the toolkit's multi text
// (it prints "type:<raw record>;type:…"), with the op's path after it.
func opsAgree(ops []Txn, text string) string {
	pos := 0
	for i, op := range ops {
		marker := op.Type.String() + ":"
		if i > 0 {
			marker = ";" + marker
		}
		k := strings.Index(text[pos:], marker)
		if k < 0 || i == 0 && k != 0 {
			return fmt.Sprintf("op %d: no %q in order", i, marker)
		}
		pos += k + len(marker)
		if op.Path != "" {
			if j := strings.Index(text[pos:], op.Path); j < 0 || j > 8 {
				return fmt.Sprintf("op %d (%s): path %s not where the toolkit prints it", i, op.Type, op.Path)
			}
		}
	}
	return ""
}

// save keeps a log, trimmed to its records, under $ZKCTL_TXNLOG_SAVE/server.
func save(t *testing.T, server, path string, f *File) {
	dir := os.Getenv(envSave)
	if dir == "" {
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, server, filepath.Base(path))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data[:f.End], 0o644); err != nil {
		t.Fatal(err)
	}
}
