package node

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Tail writes the last n lines of each log under logs/ (only those of role
// when set), each prefixed "ROLE[-ID] | ". With follow it then streams what
// is appended, including logs that appear later, until ctx is done.
func Tail(ctx context.Context, l Layout, role string, n int, follow bool, w io.Writer) error {
	offsets := map[string]int64{}
	for _, f := range logFiles(l, role) {
		off, err := tailFile(f, n, w)
		if err != nil {
			return err
		}
		offsets[f] = off
	}
	if !follow {
		return nil
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for _, f := range logFiles(l, role) {
			off, err := copyFrom(f, offsets[f], w)
			if err != nil {
				return err
			}
			offsets[f] = off
		}
	}
}

func logFiles(l Layout, role string) []string {
	files, _ := filepath.Glob(filepath.Join(l.Logs(), "*.log"))
	var out []string
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".log")
		if r, _ := splitName(name); role == "" || r == role {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

func prefix(file string) string { return strings.TrimSuffix(filepath.Base(file), ".log") + " | " }

// tailFile writes the last n lines of file and returns the offset read to.
func tailFile(file string, n int, w io.Writer) (int64, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, nil
	}
	end := int64(len(data))
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		end = int64(i + 1)
	}
	lines := strings.Split(strings.TrimSuffix(string(data[:end]), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		lines = nil
	}
	if n >= 0 && len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	p := prefix(file)
	for _, line := range lines {
		if _, err := fmt.Fprintf(w, "%s%s\n", p, line); err != nil {
			return end, err
		}
	}
	return end, nil
}

// copyFrom writes the complete lines appended to file since off. A file that
// shrank (archived by reset, then recreated) is read from the start.
func copyFrom(file string, off int64, w io.Writer) (int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return off, nil
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() < off {
		off = 0
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return off, nil
	}
	r := bufio.NewReader(f)
	p := prefix(file)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return off, nil // a partial line waits for its end
		}
		off += int64(len(line))
		if _, err := fmt.Fprintf(w, "%s%s", p, line); err != nil {
			return off, err
		}
	}
}
