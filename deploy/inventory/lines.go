package inventory

import (
	"regexp"
	"strings"
)

// keyLines remembers on which line each key of a TOML file stands, so that
// validation errors can name it. BurntSushi/toml keeps positions private
// (and one per key path, not per [[host]] block). The file is valid TOML
// when it is scanned: the scan only has to tell keys and headers apart
// from the inside of multi-line strings and arrays.
type keyLines struct {
	// lines of each (table, [[host]] block, key) in the order of the file;
	// an entry in a block is also listed under block -1, "any block". The
	// key of a table's header is "".
	spots map[spot][]int
}

type spot struct {
	table string // "cluster", "host", "host.ssh", "" for the root
	index int    // position of the [[host]] block, -1 outside one or for any
	key   string
}

func (kl *keyLines) add(table string, index int, key string, line int) {
	s := spot{table, index, key}
	kl.spots[s] = append(kl.spots[s], line)
	if index >= 0 {
		s.index = -1
		kl.spots[s] = append(kl.spots[s], line)
	}
}

var (
	headerRe = regexp.MustCompile(`^\s*\[(\[)?\s*([^\[\]#]+?)\s*\]`)
	// keyRe matches a key, dotted or not, and its '='.
	keyRe  = regexp.MustCompile(`^\s*((?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_\-]+)(?:\s*\.\s*(?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*=`)
	partRe = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_\-]+`)
)

// keyParts splits a (dotted) key into its parts, without quotes.
func keyParts(s string) []string {
	parts := partRe.FindAllString(s, -1)
	for i, p := range parts {
		parts[i] = strings.Trim(p, `"'`)
	}
	return parts
}

func scanKeyLines(data string) *keyLines {
	kl := &keyLines{spots: map[spot][]int{}}
	table, index := "", -1
	hosts := 0           // [[host]] blocks so far
	var value valueState // a value that goes on over several lines
	for i, line := range strings.Split(data, "\n") {
		n := i + 1
		if value.open() {
			value.feed(line)
			continue
		}
		if m := headerRe.FindStringSubmatch(line); m != nil {
			table = strings.Join(keyParts(m[2]), ".")
			switch {
			case m[1] == "[" && table == "host":
				hosts++
				index = hosts - 1
			case strings.HasPrefix(table, "host."):
				// a table of the current [[host]]
			default:
				index = -1
			}
			kl.add(table, index, "", n)
			continue
		}
		if m := keyRe.FindStringSubmatch(line); m != nil {
			// a.b.c = 1 defines a in table, b in table.a and c in table.a.b.
			t := table
			for _, k := range keyParts(m[1]) {
				kl.add(t, index, k, n)
				t = join(t, k)
			}
			value.feed(line[len(m[0]):])
		}
	}
	return kl
}

// line returns the line of key in table (index selects a [[host]] block, -1
// any); see nth.
func (kl *keyLines) line(table string, index int, key string) int {
	return kl.nth(table, index, key, 0)
}

// nth returns the line of the n-th (from 0) occurrence of key in table, or
// of a [table.key] header, else the line that opens the table (its header
// or the key holding it, going up), else 0.
func (kl *keyLines) nth(table string, index int, key string, n int) int {
	if l := kl.find(table, index, key, n); l > 0 {
		return l
	}
	if l := kl.find(join(table, key), index, "", n); l > 0 {
		return l
	}
	for table != "" {
		if l := kl.find(table, index, "", 0); l > 0 {
			return l
		}
		parent, last := "", table
		if i := strings.LastIndexByte(table, '.'); i >= 0 {
			parent, last = table[:i], table[i+1:]
		}
		if l := kl.find(parent, index, last, 0); l > 0 {
			return l
		}
		table = parent
	}
	return 0
}

func (kl *keyLines) find(table string, index int, key string, n int) int {
	if lines := kl.spots[spot{table, index, key}]; n < len(lines) {
		return lines[n]
	}
	return 0
}

func join(table, key string) string {
	if table == "" {
		return key
	}
	return table + "." + key
}

// valueState follows a value over lines: an open multi-line string or
// open brackets of arrays and inline tables.
type valueState struct {
	quote string // `"""` or `'''` while inside a multi-line string
	depth int    // open '[' and '{'
}

func (s *valueState) open() bool { return s.quote != "" || s.depth > 0 }

// feed reads one line (or the rest of one) of a value.
func (s *valueState) feed(line string) {
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case s.quote != "":
			if c == '\\' && s.quote == `"""` {
				i++
			} else if strings.HasPrefix(line[i:], s.quote) {
				// Up to two more quotes may end the string's content.
				i += 2
				for k := 0; k < 2 && i+1 < len(line) && line[i+1] == s.quote[0]; k++ {
					i++
				}
				s.quote = ""
			}
		case strings.HasPrefix(line[i:], `"""`), strings.HasPrefix(line[i:], `'''`):
			s.quote = line[i : i+3]
			i += 2
		case c == '"':
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' {
					i++
				}
			}
		case c == '\'':
			for i++; i < len(line) && line[i] != '\''; i++ {
			}
		case c == '#':
			return
		case c == '[' || c == '{':
			s.depth++
		case c == ']' || c == '}':
			if s.depth > 0 {
				s.depth--
			}
		}
	}
}
