package inventory

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDuration accepts Go duration syntax ("250ms", "1.5s") and plain
// seconds ("0.25", "4"), the two forms zkctl takes everywhere.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if secs < 0 || secs > 1e6 {
			return 0, fmt.Errorf("duration %q out of range", s)
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
	return d, nil
}

// Duration is a time.Duration that decodes from a TOML string or number.
type Duration struct{ time.Duration }

// UnmarshalTOML implements toml.Unmarshaler.
func (d *Duration) UnmarshalTOML(v any) error {
	var err error
	switch x := v.(type) {
	case string:
		d.Duration, err = ParseDuration(x)
	case int64:
		d.Duration, err = ParseDuration(strconv.FormatInt(x, 10))
	case float64:
		d.Duration, err = ParseDuration(strconv.FormatFloat(x, 'f', -1, 64))
	default:
		err = fmt.Errorf("want a duration such as \"500ms\", got %T", v)
	}
	return err
}
