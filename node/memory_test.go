package node

import "testing"

func TestParseKB(t *testing.T) {
	m := ParseKB("Name:\tzkctl\nVmPeak:\t 1268836 kB\nVmHWM:\t   21480 kB\nVmRSS:\t   20012 kB\nThreads:\t9\n")
	if m["VmHWM"] != 21480 || m["VmRSS"] != 20012 || len(m) != 3 {
		t.Errorf("parseProcStatus = %v", m)
	}
}
