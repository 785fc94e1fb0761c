package inventory

import (
	"regexp"
	"strings"
)

// keyLines remembers on which line each key of a TOML file stands, so that
// validation errors can name it. BurntSushi/toml keeps positions private.
type keyLines struct {
	entries []keyEntry
}

type keyEntry struct {
	table string // "cluster", "host", "host.ssh", "" for the root
	index int    // position of the [[host]] block, -1 outside one
	key   string // "" for a table header
	line  int
}

var (
	headerRe = regexp.MustCompile(`^\s*\[(\[)?\s*([A-Za-z0-9_.\-"' ]+?)\s*\]`)
	keyRe    = regexp.MustCompile(`^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*=`)
)

func scanKeyLines(data string) *keyLines {
	kl := &keyLines{}
	table, index := "", -1
	arrays := map[string]int{}
	for i, line := range strings.Split(data, "\n") {
		n := i + 1
		if m := headerRe.FindStringSubmatch(line); m != nil {
			table = strings.ReplaceAll(m[2], " ", "")
			if m[1] == "[" {
				arrays[table]++
				index = arrays[table] - 1
			} else if !strings.HasPrefix(table, "host.") {
				index = -1
			}
			kl.entries = append(kl.entries, keyEntry{table: table, index: index, line: n})
			continue
		}
		if m := keyRe.FindStringSubmatch(line); m != nil {
			key := strings.Trim(m[1], `"'`)
			kl.entries = append(kl.entries, keyEntry{table: table, index: index, key: key, line: n})
		}
	}
	return kl
}

// line returns the line of key in table (index selects a [[host]] block, -1
// any), else the line of the table's header, else 0.
func (kl *keyLines) line(table string, index int, key string) int {
	header := 0
	for _, e := range kl.entries {
		if e.table != table || (index >= 0 && e.index != index) {
			continue
		}
		if e.key == key {
			return e.line
		}
		if e.key == "" && header == 0 {
			header = e.line
		}
	}
	return header
}
