// Package rolelog is the format of the roles' log lines, for those who
// write them and those who read them: one slog TextHandler line per record
// (time, level, msg, then key=value attributes), where a line that marks a
// moment a judge relies on carries event=<name> (roles/protocol's Event
// constants). It imports only the standard library and roles/protocol.
package rolelog

import (
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"zkctl/roles/protocol"
)

// NewLogger returns the logger a role process logs with: slog text lines
// on w at level and above.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// Line is one parsed log line.
type Line struct {
	Time  time.Time
	Level string
	Msg   string
	Event protocol.Event // "" when the line marks no event
	Attrs map[string]string
}

// Parse parses one line; ok is false for a line that is not a slog text
// line with a time (a panic, an error printed on exit).
func Parse(line string) (l Line, ok bool) {
	attrs := ParseLogfmt(line)
	at, err := time.Parse(time.RFC3339Nano, attrs["time"])
	if err != nil {
		return Line{}, false
	}
	return Line{Time: at, Level: attrs["level"], Msg: attrs["msg"], Event: protocol.Event(attrs[protocol.EventAttr]), Attrs: attrs}, true
}

// ParseLogfmt splits a slog TextHandler line into its key=value pairs;
// quoted values are unquoted.
func ParseLogfmt(line string) map[string]string {
	out := map[string]string{}
	for i := 0; i < len(line); {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		eq := strings.IndexByte(line[i:], '=')
		if eq < 0 {
			break
		}
		key := line[i : i+eq]
		i += eq + 1
		var val string
		if i < len(line) && line[i] == '"' {
			end := closingQuote(line, i)
			val = line[i:end]
			if u, err := strconv.Unquote(val); err == nil {
				val = u
			}
			i = end
		} else {
			end := strings.IndexByte(line[i:], ' ')
			if end < 0 {
				end = len(line) - i
			}
			val = line[i : i+end]
			i += end
		}
		if strings.ContainsAny(key, " \"") {
			break // not logfmt after all
		}
		out[key] = val
	}
	return out
}

// closingQuote returns the index just past the quoted string starting at i.
func closingQuote(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(s)
}
