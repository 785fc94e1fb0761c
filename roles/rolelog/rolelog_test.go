package rolelog

import (
	"bytes"
	"log/slog"
	"testing"

	"zkctl/roles/protocol"
)

func TestParseLogfmtQuotes(t *testing.T) {
	a := ParseLogfmt(`time=2025-01-02T03:04:05.678Z level=INFO msg="result of c1-3: ok vm2-w1" task=c1-3 result="ok vm2-w1" err="x \"y\" z"`)
	if a["msg"] != "result of c1-3: ok vm2-w1" || a["result"] != "ok vm2-w1" || a["err"] != `x "y" z` || a["task"] != "c1-3" {
		t.Fatalf("%q", a)
	}
}

// TestParseReadsWhatNewLoggerWrites: the event comes from the attribute,
// whatever the message says; a line without one marks no event; a line
// that is not slog's is refused.
func TestParseReadsWhatNewLoggerWrites(t *testing.T) {
	var b bytes.Buffer
	log := NewLogger(&b, slog.LevelInfo)
	log.Info("any wording at all", protocol.EventAttr, protocol.EventCompleted, "task", "c1-1")
	log.Info("completed task c1-2") // prose alone is no event
	for i, want := range []protocol.Event{protocol.EventCompleted, ""} {
		line, err := b.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		l, ok := Parse(line[:len(line)-1])
		if !ok || l.Event != want || l.Level != "INFO" || l.Time.IsZero() {
			t.Errorf("line %d: %+v ok=%v, want event %q", i, l, ok, want)
		}
	}
	if _, ok := Parse("panic: something"); ok {
		t.Error("a foreign line parsed")
	}
}
