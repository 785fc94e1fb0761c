package node

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Memory is a process's memory as the kernel reports it, in kB.
type Memory struct {
	PeakKB int64 `json:"peak_kb"` // VmHWM: the high-water mark of the resident set
	RSSKB  int64 `json:"rss_kb"`  // VmRSS: the resident set now
}

// ProcMemory reads the memory of process name ("<role>-<id>"), which must
// be alive and started by the agent (its pidfile names it).
func ProcMemory(l Layout, name string) (Memory, error) {
	p, err := Inspect(l, name)
	if err != nil {
		return Memory{}, err
	}
	if !p.Alive() {
		return Memory{}, fmt.Errorf("%s (pid %d) is %w", name, p.PID, ErrNotRunning)
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID))
	if err != nil {
		return Memory{}, err
	}
	kb := ParseKB(string(data))
	if kb["VmHWM"] == 0 {
		return Memory{}, fmt.Errorf("%s: no VmHWM in /proc/%d/status", name, p.PID)
	}
	return Memory{PeakKB: kb["VmHWM"], RSSKB: kb["VmRSS"]}, nil
}

// ParseKB reads the "Key:   123 kB" lines of /proc/PID/status or
// /proc/meminfo.
func ParseKB(s string) map[string]int64 {
	m := map[string]int64{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 2 && f[1] == "kB" {
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				m[k] = n
			}
		}
	}
	return m
}

// ReadLog returns the whole log of process name; a name with a path in it
// is refused, so only logs under <dir>/logs can be read.
func ReadLog(l Layout, name string) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return nil, fmt.Errorf("bad process name %q", name)
	}
	return os.ReadFile(l.LogFile(name))
}
