package inventory

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxDuration is the longest duration ParseDuration accepts (1e6 seconds,
// about 11.6 days), in either form.
const MaxDuration = 1e6 * time.Second

// ParseDuration accepts Go duration syntax ("250ms", "1.5s") and plain
// seconds ("0.25", "4"), the two forms zkctl takes everywhere. Negative
// durations, NaN and durations above MaxDuration are refused.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		// Written so that NaN fails too.
		if !(secs >= 0 && secs <= MaxDuration.Seconds()) {
			return 0, fmt.Errorf("duration %q out of range: want 0 to %v", s, MaxDuration)
		}
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q (want e.g. \"500ms\", \"1.5s\" or plain seconds)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	if d > MaxDuration {
		return 0, fmt.Errorf("duration %q out of range: want 0 to %v", s, MaxDuration)
	}
	return d, nil
}

// Duration is a time.Duration that decodes from a TOML string or number.
type Duration struct{ time.Duration }

// UnmarshalTOML implements toml.Unmarshaler.
func (d *Duration) UnmarshalTOML(v any) error {
	var err error
	d.Duration, err = durationOf(v)
	return err
}

// durationOf converts a decoded TOML value: a string in either syntax or a
// number of seconds.
func durationOf(v any) (time.Duration, error) {
	switch x := v.(type) {
	case string:
		return ParseDuration(x)
	case int64:
		return ParseDuration(strconv.FormatInt(x, 10))
	case float64:
		return ParseDuration(strconv.FormatFloat(x, 'g', -1, 64))
	}
	return 0, fmt.Errorf("want a duration such as \"500ms\" or 0.5, got %s", tomlType(v))
}

// tomlType names the TOML type of a decoded value.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date-time"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%T", v)
}
