package history

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"zkctl/txnlog"
)

// Filter selects the transactions Print shows; its zero value selects all.
type Filter struct {
	Since      int64  // zxids from this one on
	PathPrefix string // transactions touching a path with this prefix (an op of a multi will do)
	Session    int64  // this session's transactions only; 0: every session
}

// Match tells whether the filter selects t.
func (f Filter) Match(t *txnlog.Txn) bool {
	if t.Zxid < f.Since || f.Session != 0 && t.Session != f.Session {
		return false
	}
	if f.PathPrefix == "" {
		return true
	}
	for _, op := range ops(t) {
		if strings.HasPrefix(op.Path, f.PathPrefix) {
			return true
		}
	}
	for _, p := range t.Ephemerals {
		if strings.HasPrefix(p, f.PathPrefix) {
			return true
		}
	}
	return false
}

// timeLayout is how Print writes a transaction's time (UTC).
const timeLayout = "2006-01-02 15:04:05.000"

// dataMax is how much of a znode's data Print shows.
const dataMax = 40

// Print writes the selected transactions like the ensemble's `git log`,
// one line each: zxid, time, session and its role instance, operation,
// path and data (shortened); a multi's operations follow it, indented.
func (h *History) Print(w io.Writer, f Filter) error {
	bw := bufio.NewWriter(w)
	for i := range h.Txns {
		t := &h.Txns[i].Txn
		if !f.Match(t) {
			continue
		}
		fmt.Fprintf(bw, "%-12s %s %-18s %-12s %s\n", txnlog.FormatZxid(t.Zxid), t.Time.UTC().Format(timeLayout),
			fmt.Sprintf("%#x", t.Session), h.Sessions[t.Session], opText(t))
		if t.Type == txnlog.TypeMulti {
			for j := range t.Ops {
				fmt.Fprintf(bw, "    %s\n", opText(&t.Ops[j]))
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("history: print: %w", err)
	}
	return nil
}

// jsonLine is one line of PrintJSON.
type jsonLine struct {
	Entry
	Instance string `json:"instance,omitempty"`
}

// PrintJSON writes the selected transactions as JSON lines, one Entry
// each (the txnlog.Txn fields, held_by) with its session's role instance.
func (h *History) PrintJSON(w io.Writer, f Filter) error {
	enc := json.NewEncoder(w)
	for i := range h.Txns {
		e := h.Txns[i]
		if !f.Match(&e.Txn) {
			continue
		}
		line := jsonLine{Entry: e}
		if in, ok := h.Sessions[e.Session]; ok {
			line.Instance = in.String()
		}
		if err := enc.Encode(line); err != nil {
			return fmt.Errorf("history: print: %w", err)
		}
	}
	return nil
}

// opText describes one transaction or operation: its type, path and the
// details that matter.
func opText(t *txnlog.Txn) string {
	s := t.Type.String()
	if t.Path != "" {
		s += " " + t.Path
	}
	switch {
	case t.Type.IsCreate() || t.Type == txnlog.TypeSetData:
		if len(t.Data) > 0 {
			s += " " + short(t.Data)
		}
		if t.Ephemeral {
			s += " (ephemeral)"
		}
	case t.Type == txnlog.TypeCreateSession:
		s += fmt.Sprintf(" timeout %dms", t.Timeout)
	case t.Type == txnlog.TypeCloseSession && len(t.Ephemerals) > 0:
		s += " deletes " + strings.Join(t.Ephemerals, " ")
	case t.Type == txnlog.TypeError && (t.Err != 0 || t.Path == ""):
		s += " " + ErrName(t.Err)
	case t.Type == txnlog.TypeMulti && t.Failed():
		s += " (failed: nothing applied)"
	}
	return s
}

// short quotes data, cut to dataMax bytes (at a rune boundary).
func short(data []byte) string {
	if len(data) <= dataMax {
		return strconv.Quote(string(data))
	}
	cut := dataMax
	for cut > 0 && !utf8.RuneStart(data[cut]) {
		cut--
	}
	return strconv.Quote(string(data[:cut])) + "…"
}

// ErrName names a ZooKeeper error code (KeeperException.Code) as an
// error txn carries it.
func ErrName(code int32) string {
	name := ""
	switch code {
	case 0:
		name = "ok"
	case -2:
		name = "runtime inconsistency"
	case -101:
		name = "no node"
	case -102:
		name = "no auth"
	case -103:
		name = "bad version"
	case -108:
		name = "no children for ephemerals"
	case -110:
		name = "node exists"
	case -111:
		name = "not empty"
	case -112:
		name = "session expired"
	case -114:
		name = "invalid ACL"
	}
	if name == "" {
		return strconv.Itoa(int(code))
	}
	return fmt.Sprintf("%d (%s)", code, name)
}
