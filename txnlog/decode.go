package txnlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// digestLen is the size of a TxnDigest: int version, long treeDigest.
const digestLen = 12

// decoder reads jute's binary encoding (big-endian ints and longs, buffers
// and strings as a length then bytes, -1 for null, vectors as a count then
// elements) from a record; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.fail("%s: %d bytes wanted, %d left", what, n, len(d.b))
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) int(what string) int32 {
	b := d.take(4, what)
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

func (d *decoder) long(what string) int64 {
	b := d.take(8, what)
	if b == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

func (d *decoder) bool(what string) bool {
	b := d.take(1, what)
	return b != nil && b[0] != 0
}

// buffer reads a jute buffer; null and empty are both nil.
func (d *decoder) buffer(what string) []byte {
	n := d.int(what + " length")
	if n == -1 || n == 0 {
		return nil
	}
	b := d.take(int(n), what)
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

func (d *decoder) string(what string) string {
	n := d.int(what + " length")
	if n == -1 {
		return ""
	}
	return string(d.take(int(n), what))
}

// vector reads a jute vector's count and calls elem that many times,
// stopping at the first error (so a huge count costs nothing).
func (d *decoder) vector(what string, elem func(i int)) int {
	n := d.int(what + " count")
	if n == -1 {
		return 0
	}
	if n < 0 {
		d.fail("%s count %d", what, n)
		return 0
	}
	i := 0
	for ; i < int(n) && d.err == nil; i++ {
		elem(i)
	}
	return i
}

// acls reads a vector of ACL {int perms; Id {ustring scheme; ustring id}}
// and returns its length.
func (d *decoder) acls() int {
	return d.vector("acl", func(int) {
		d.int("acl perms")
		d.string("acl scheme")
		d.string("acl id")
	})
}

// decodeRecord decodes one record's bytes: the txn header, the body its
// type names, then an optional digest.
func decodeRecord(b []byte) (Txn, error) {
	d := &decoder{b: b}
	t := Txn{
		Session: d.long("txn header clientId"),
		Cxid:    d.int("txn header cxid"),
		Zxid:    d.long("txn header zxid"),
		Time:    time.UnixMilli(d.long("txn header time")).UTC(),
		Type:    Type(d.int("txn header type")),
	}
	if d.err != nil {
		return t, d.err
	}
	if t.Type == TypeCloseSession {
		closeSession(d, &t)
	} else if err := body(d, &t, true); err != nil {
		return t, fmt.Errorf("zxid %s: %w", FormatZxid(t.Zxid), err)
	}
	if d.err == nil && len(d.b) == digestLen {
		t.Digest = &Digest{Version: d.int("digest version"), Tree: d.long("digest")}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d bytes after the txn", len(d.b))
	}
	if d.err != nil {
		return t, fmt.Errorf("zxid %s (%s): %w", FormatZxid(t.Zxid), t.Type, d.err)
	}
	return t, nil
}

// closeSession reads a CloseSessionTxn {vector<ustring> paths2Delete}
// (3.6+, zookeeper.closeSessionTxn.enabled) when the record holds one, and
// nothing when what follows the header is only a digest or nothing.
func closeSession(d *decoder, t *Txn) {
	if len(d.b) == 0 {
		return
	}
	try := &decoder{b: d.b}
	var paths []string
	try.vector("paths2Delete", func(int) { paths = append(paths, try.string("path")) })
	if try.err == nil && (len(try.b) == 0 || len(try.b) == digestLen) {
		d.b, t.Ephemerals = try.b, paths
		return
	}
	if len(d.b) != digestLen {
		d.fail("closeSession: %v", try.err)
	}
}

// body reads the record a txn of t.Type carries (top: a txn of its own,
// not an operation of a multi).
func body(d *decoder, t *Txn, top bool) error {
	switch t.Type {
	case TypeCreate, TypeCreate2:
		t.Path, t.Data, t.ACLs = d.string("path"), d.buffer("data"), d.acls()
		t.Ephemeral, t.ParentCVersion = d.bool("ephemeral"), d.int("parentCVersion")
	case TypeCreateContainer:
		t.Path, t.Data, t.ACLs, t.ParentCVersion = d.string("path"), d.buffer("data"), d.acls(), d.int("parentCVersion")
	case TypeCreateTTL:
		t.Path, t.Data, t.ACLs = d.string("path"), d.buffer("data"), d.acls()
		t.ParentCVersion, t.TTL = d.int("parentCVersion"), d.long("ttl")
	case TypeDelete, TypeDeleteContainer:
		t.Path = d.string("path")
	case TypeSetData, TypeReconfig:
		t.Path, t.Data, t.Version = d.string("path"), d.buffer("data"), d.int("version")
	case TypeSetACL:
		t.Path, t.ACLs, t.Version = d.string("path"), d.acls(), d.int("version")
	case TypeCheck:
		t.Path, t.Version = d.string("path"), d.int("version")
	case TypeCreateSession:
		t.Timeout = d.int("timeOut")
	case TypeError:
		t.Err = d.int("err")
	case TypeMulti:
		if !top {
			return errors.New("a multi inside a multi")
		}
		d.vector("multi txns", func(i int) { t.Ops = append(t.Ops, subTxn(d, i)) })
	default:
		return fmt.Errorf("type %d: %w", int32(t.Type), ErrUnsupportedTxn)
	}
	return nil
}

// subTxn reads one Txn {int type; buffer data} of a multi and decodes its
// data, which must hold exactly the record of its type.
func subTxn(d *decoder, i int) Txn {
	op := Txn{Type: Type(d.int("multi txn type"))}
	raw := d.buffer("multi txn data")
	if d.err != nil {
		return op
	}
	sub := &decoder{b: raw}
	if err := body(sub, &op, false); err != nil {
		d.err = fmt.Errorf("multi op %d: %w", i, err)
		return op
	}
	switch {
	case sub.err != nil:
		d.fail("multi op %d (%s): %v", i, op.Type, sub.err)
	case len(sub.b) != 0 && op.Type == TypeError:
		relabeled(raw, &op)
	case len(sub.b) != 0:
		d.fail("multi op %d (%s): %d bytes after it", i, op.Type, len(sub.b))
	}
	return op
}

// relabeled handles an error op of a failed multi whose data is not an
// ErrorTxn but the record of the op it was: ZooKeeper's DataTree, applying
// a failed multi, relabels in memory the ops before the failing one as
// errors (result Code.OK), and a server that writes the txn to its log after
// applying it (the commit can overtake its own log write) logs that label
// with the op's original data. ZooKeeper itself reads such an op as an
// ErrorTxn and ignores the rest; so does this, with Err 0 (what DataTree
// says of those ops) and the op's path, which every such record starts with.
func relabeled(raw []byte, op *Txn) {
	op.Err = 0
	d := &decoder{b: raw}
	if p := d.string("path"); d.err == nil && strings.HasPrefix(p, "/") {
		op.Path = p
	}
}
