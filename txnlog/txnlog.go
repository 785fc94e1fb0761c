// Package txnlog decodes ZooKeeper's transaction log files
// (<dataDir>/version-2/log.<zxid in hex>), the server's own record of every
// write: the file header, then one record per transaction — its Adler-32
// checksum, its length, the jute-serialized txn header and body (and, from
// ZooKeeper 3.6 on, the digest of the tree after it), and an end-of-record
// byte. It owns that format and nothing else: merging the logs of several
// servers is package history's job. It imports only the standard library.
//
// The format is ZooKeeper 3.8's: FileTxnLog (file header, record framing,
// preallocation with zeros), SerializeUtils.deserializeTxn (which body
// follows which header type, the optional digest) and zookeeper.jute (the
// records), as read by org.apache.zookeeper.server.persistence.TxnLogToolkit.
package txnlog

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Magic is the first four bytes of a txn log: "ZKLG".
const Magic = 0x5A4B4C47

// Version is the only txn log format version ZooKeeper writes (2).
const Version = 2

// MaxRecord bounds the length of one record. ZooKeeper refuses requests
// above jute.maxbuffer (1 MiB by default); a longer length is damage, and
// no length makes the reader allocate more than the input holds.
const MaxRecord = 64 << 20

// headerLen is the file header's size: magic, version, dbid.
const headerLen = 16

// Errors that Read returns wrapped; match them with errors.Is.
var (
	// ErrNotTxnLog: the file does not start with ZooKeeper's magic.
	ErrNotTxnLog = errors.New("not a ZooKeeper transaction log")
	// ErrUnsupportedVersion: the file header names a format version other than 2.
	ErrUnsupportedVersion = errors.New("unsupported transaction log version")
	// ErrUnsupportedTxn: a record whose checksum holds carries a type this
	// package does not decode (it comes wrapped in a *CorruptError).
	ErrUnsupportedTxn = errors.New("unsupported transaction type")
)

// CorruptError is damage that is not a torn last record: a record that
// fails its checksum or cannot be decoded, with more data after it.
type CorruptError struct {
	File   string // the file's name as given to Read
	Offset int64  // byte offset of the damaged record in the file
	Reason string
	Err    error // an underlying sentinel such as ErrUnsupportedTxn, or nil
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("txnlog: %s: offset %d: %s", e.File, e.Offset, e.Reason)
}

// Unwrap returns the underlying error, if any.
func (e *CorruptError) Unwrap() error { return e.Err }

// Txn is one transaction, or one operation of a multi. The fields a type
// does not carry are zero. Operations of a multi (Ops) carry only Type and
// their own fields: their session, cxid, zxid and time are the multi's.
// It round-trips through encoding/json.
type Txn struct {
	Session int64     `json:"session,omitempty"` // the client session (clientId), in every txn header
	Cxid    int32     `json:"cxid,omitempty"`    // the client's request number
	Zxid    int64     `json:"zxid,omitempty"`
	Time    time.Time `json:"time,omitzero"` // the leader's clock when it proposed the txn (ms)
	Type    Type      `json:"type"`

	Path           string   `json:"path,omitempty"`            // every znode operation
	Data           []byte   `json:"data,omitempty"`            // create*, setData, reconfig
	ACLs           int      `json:"acls,omitempty"`            // create*, setACL: number of ACL entries
	Ephemeral      bool     `json:"ephemeral,omitempty"`       // create, create2 (its owner is Session)
	ParentCVersion int32    `json:"parent_cversion,omitempty"` // create*
	TTL            int64    `json:"ttl,omitempty"`             // createTTL, ms
	Version        int32    `json:"version,omitempty"`         // setData (the new version), setACL, check
	Timeout        int32    `json:"timeout,omitempty"`         // createSession, ms
	Err            int32    `json:"err,omitempty"`             // error: ZooKeeper's error code
	Ephemerals     []string `json:"ephemerals,omitempty"`      // closeSession: the session's ephemerals it deletes
	Ops            []Txn    `json:"ops,omitempty"`             // multi
	Digest         *Digest  `json:"digest,omitempty"`          // the tree's digest after this txn, when logged
}

// Digest is ZooKeeper's TxnDigest (3.6+, zookeeper.digest.enabled): the
// digest of the whole tree after the transaction.
type Digest struct {
	Version int32 `json:"version"`
	Tree    int64 `json:"tree"`
}

// Failed tells whether the transaction changed nothing: an error txn (a
// failed request that was still given a zxid) or a multi one of whose
// operations failed (ZooKeeper then applies none of them).
func (t *Txn) Failed() bool {
	if t.Type == TypeError {
		return true
	}
	for _, op := range t.Ops {
		if op.Type == TypeError {
			return true
		}
	}
	return false
}

// File is one decoded log file.
type File struct {
	Name string `json:"name"` // as given to Read
	DBID int64  `json:"dbid"`
	Txns []Txn  `json:"txns"`
	// End is the offset just after the last whole record: what the file
	// holds before its preallocated zeros or its torn tail.
	End int64 `json:"end"`
	// Torn is empty, or says where the file ended inside a record or with a
	// damaged record followed by nothing but zeros (a crash mid-write).
	Torn string `json:"torn,omitempty"`

	starts []int64 // the offset of each record of Txns, for CutTail
}

// FormatZxid writes a zxid as ZooKeeper does, in hex: "0x100000005".
func FormatZxid(z int64) string { return "0x" + strconv.FormatInt(z, 16) }

// ReadFile decodes the log file at path.
func ReadFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("txnlog: open: %w", err)
	}
	defer f.Close()
	return Read(f, path)
}

// LogFiles lists the txn log files of a ZooKeeper data directory
// (<dataDir>/version-2/log.<hex>), in zxid order.
func LogFiles(dataDir string) ([]string, error) {
	dir := filepath.Join(dataDir, "version-2")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("txnlog: list logs: %w", err)
	}
	type logFile struct {
		path string
		zxid uint64
	}
	var logs []logFile
	for _, e := range entries {
		hex, ok := strings.CutPrefix(e.Name(), "log.")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		z, err := strconv.ParseUint(hex, 16, 64)
		if err != nil {
			continue // log.<zxid>.fixed and other files of the operator
		}
		logs = append(logs, logFile{filepath.Join(dir, e.Name()), z})
	}
	slices.SortFunc(logs, func(a, b logFile) int {
		switch {
		case a.zxid < b.zxid:
			return -1
		case a.zxid > b.zxid:
			return 1
		}
		return 0
	})
	out := make([]string, len(logs))
	for i, l := range logs {
		out[i] = l.path
	}
	return out, nil
}

// Read decodes a txn log named name (used in errors and File.Name). It
// stops at the first all-zero record (ZooKeeper preallocates its files with
// zeros) or at the end of r. A torn last record ends the file with a note
// in File.Torn; other damage is a *CorruptError.
func Read(r io.Reader, name string) (*File, error) {
	rd := &reader{r: bufio.NewReaderSize(r, 64<<10), name: name}
	f := &File{Name: name}
	if err := rd.header(f); err != nil {
		return nil, err
	}
	if f.Torn != "" {
		return f, nil
	}
	for {
		more, err := rd.record(f)
		if err != nil {
			return nil, err
		}
		if !more {
			return f, nil
		}
	}
}

// reader reads one file, counting its offset.
type reader struct {
	r    *bufio.Reader
	name string
	off  int64
}

func (rd *reader) full(b []byte) (int, error) {
	n, err := io.ReadFull(rd.r, b)
	rd.off += int64(n)
	return n, err
}

// header reads the file header into f; a file that ends inside it is torn.
func (rd *reader) header(f *File) error {
	var h [headerLen]byte
	n, err := rd.full(h[:])
	magic := []byte{'Z', 'K', 'L', 'G'}
	if !bytes.HasPrefix(h[:n], magic[:min(n, 4)]) {
		return fmt.Errorf("txnlog: %s: magic %q: %w", rd.name, h[:min(n, 4)], ErrNotTxnLog)
	}
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		f.Torn = fmt.Sprintf("the file ends inside its header (%d of %d bytes)", n, headerLen)
		return nil
	case err != nil:
		return fmt.Errorf("txnlog: %s: read header: %w", rd.name, err)
	}
	if v := int32(binary.BigEndian.Uint32(h[4:8])); v != Version {
		return fmt.Errorf("txnlog: %s: version %d, want %d: %w", rd.name, v, Version, ErrUnsupportedVersion)
	}
	f.DBID = int64(binary.BigEndian.Uint64(h[8:16]))
	f.End = headerLen
	return nil
}

// record reads the next record into f. more is false at the end: the end
// of the input, a zero record, or a torn last record (noted in f.Torn).
func (rd *reader) record(f *File) (more bool, err error) {
	start := rd.off
	var h [12]byte
	_, err = rd.full(h[:])
	switch {
	case errors.Is(err, io.EOF):
		return false, nil
	case errors.Is(err, io.ErrUnexpectedEOF):
		f.Torn = fmt.Sprintf("the file ends inside the header of the record at offset %d", start)
		return false, nil
	case err != nil:
		return false, fmt.Errorf("txnlog: %s: read at offset %d: %w", rd.name, start, err)
	}
	sum := binary.BigEndian.Uint64(h[:8])
	length := int32(binary.BigEndian.Uint32(h[8:12]))
	if length == 0 && sum == 0 {
		return false, nil
	}
	if length <= 0 || length > MaxRecord {
		return false, rd.damaged(f, start, fmt.Sprintf("record length %d outside [1, %d]", length, MaxRecord))
	}
	body, eor, torn, err := rd.payload(int64(length))
	if err != nil || torn != "" {
		f.Torn = torn
		return false, err
	}
	if got := uint64(adler32.Checksum(body)); got != sum {
		return false, rd.damaged(f, start, fmt.Sprintf("checksum %#x, want %#x", got, sum))
	}
	if eor != 'B' {
		return false, rd.damaged(f, start, fmt.Sprintf("end-of-record byte %#x, want 'B'", eor))
	}
	t, err := decodeRecord(body)
	if err != nil {
		return false, &CorruptError{File: rd.name, Offset: start, Reason: err.Error(), Err: err}
	}
	f.Txns = append(f.Txns, t)
	f.starts = append(f.starts, start)
	f.End = rd.off
	return true, nil
}

// payload reads a record's bytes and its end-of-record byte; torn says
// where the input ended inside them.
func (rd *reader) payload(length int64) (body []byte, eor byte, torn string, err error) {
	start := rd.off - 12
	body, err = rd.read(length)
	if err != nil {
		rd.off += int64(len(body))
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, 0, fmt.Sprintf("the file ends inside the record at offset %d (%d of %d bytes)", start, len(body), length), nil
		}
		return nil, 0, "", fmt.Errorf("txnlog: %s: read at offset %d: %w", rd.name, rd.off, err)
	}
	rd.off += length
	eor, err = rd.r.ReadByte()
	switch {
	case errors.Is(err, io.EOF):
		return nil, 0, fmt.Sprintf("the file ends before the end of the record at offset %d", start), nil
	case err != nil:
		return nil, 0, "", fmt.Errorf("txnlog: %s: read at offset %d: %w", rd.name, rd.off, err)
	}
	rd.off++
	return body, eor, "", nil
}

// exactUpTo is the longest claimed length read into a buffer of that size
// at once; a longer claim (a damaged length field, most likely) is read
// into a buffer that grows with what arrives.
const exactUpTo = 64 << 10

// read reads length bytes, or what arrives before an error.
func (rd *reader) read(length int64) ([]byte, error) {
	if length <= exactUpTo {
		b := make([]byte, length)
		n, err := io.ReadFull(rd.r, b)
		return b[:n], err
	}
	var buf bytes.Buffer
	_, err := io.CopyN(&buf, rd.r, length)
	return buf.Bytes(), err
}

// damaged handles a record at start that fails its checks: torn when
// nothing but zeros follows it, else a *CorruptError.
func (rd *reader) damaged(f *File, start int64, reason string) error {
	zero, err := rd.zeroRest()
	if err != nil {
		return fmt.Errorf("txnlog: %s: read after offset %d: %w", rd.name, start, err)
	}
	if !zero {
		return &CorruptError{File: rd.name, Offset: start, Reason: reason + ", and data follows"}
	}
	f.Torn = fmt.Sprintf("the last record, at offset %d, is torn: %s; only zeros follow", start, reason)
	return nil
}

// zeroRest reads the rest of the input and tells whether it is all zeros.
func (rd *reader) zeroRest() (bool, error) {
	buf := make([]byte, 32<<10)
	for {
		n, err := rd.r.Read(buf)
		for _, b := range buf[:n] {
			if b != 0 {
				return false, nil
			}
		}
		switch {
		case errors.Is(err, io.EOF):
			return true, nil
		case err != nil:
			return false, err
		}
	}
}
