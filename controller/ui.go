package controller

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	"golang.org/x/term"
)

// UI prints progress: phase headers, "host: message" lines and, on a
// terminal, one live line of upload progress. It is safe for concurrent use.
type UI struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	bars     map[string]string
	barShown bool
}

// NewUI writes to w; a live progress line is drawn only when w is a terminal.
func NewUI(w io.Writer) *UI {
	u := &UI{w: w, bars: map[string]string{}}
	if f, ok := w.(*os.File); ok {
		u.terminal = term.IsTerminal(int(f.Fd()))
	}
	return u
}

// Phase prints a phase header.
func (u *UI) Phase(format string, args ...any) {
	u.print("==> " + fmt.Sprintf(format, args...))
}

// Host prints one message about a host.
func (u *UI) Host(host, format string, args ...any) {
	u.print(host + ": " + fmt.Sprintf(format, args...))
}

// Printf prints a plain line.
func (u *UI) Printf(format string, args ...any) { u.print(fmt.Sprintf(format, args...)) }

func (u *UI) print(line string) {
	if u == nil || u.w == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.clearBar()
	fmt.Fprintln(u.w, strings.TrimRight(line, "\n"))
	u.drawBar()
}

// Progress updates host's entry of the live line (terminal only); an empty
// text removes it.
func (u *UI) Progress(host, text string) {
	if u == nil || !u.terminal {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if text == "" {
		delete(u.bars, host)
	} else {
		u.bars[host] = text
	}
	u.clearBar()
	u.drawBar()
}

func (u *UI) clearBar() {
	if u.barShown {
		fmt.Fprint(u.w, "\r\033[K")
		u.barShown = false
	}
}

func (u *UI) drawBar() {
	if len(u.bars) == 0 {
		return
	}
	hosts := make([]string, 0, len(u.bars))
	for h := range u.bars {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	parts := make([]string, len(hosts))
	for i, h := range hosts {
		parts[i] = h + " " + u.bars[h]
	}
	fmt.Fprint(u.w, strings.Join(parts, "  "))
	u.barShown = true
}

// Bar renders a 20-cell progress bar with a percentage.
func Bar(done, total int64) string {
	if total <= 0 {
		total = 1
	}
	cells := int(20 * done / total)
	return fmt.Sprintf("[%s%s] %3d%%", strings.Repeat("#", cells), strings.Repeat(".", 20-cells), 100*done/total)
}

// Table formats rows with aligned columns.
func Table(w io.Writer, header []string, rows [][]string) {
	widths := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			if i < len(widths) && len(c) > widths[i] {
				widths[i] = len(c)
			}
		}
	}
	for _, r := range append([][]string{header}, rows...) {
		cells := make([]string, len(r))
		for i, c := range r {
			if i < len(r)-1 {
				c = fmt.Sprintf("%-*s", widths[i], c)
			}
			cells[i] = c
		}
		fmt.Fprintln(w, strings.TrimRight(strings.Join(cells, "  "), " "))
	}
}
