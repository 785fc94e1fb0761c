package watch

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
)

// sparkSeconds is how many seconds the task sparklines span.
const sparkSeconds = 30

// rateWindow is the window, in seconds, of the rates shown as numbers.
const rateWindow = 10

var (
	titleStyle  = lipgloss.NewStyle().Bold(true)
	headStyle   = lipgloss.NewStyle().Bold(true).Underline(true)
	dimStyle    = lipgloss.NewStyle().Faint(true)
	goodStyle   = lipgloss.NewStyle().Foreground(lipgloss.Color("2"))
	badStyle    = lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true)
	bannerStyle = lipgloss.NewStyle().Foreground(lipgloss.Color("15")).Background(lipgloss.Color("1")).Bold(true)
)

// Render draws the whole screen for a terminal of width × height; the
// event list takes the lines left over.
func Render(s *State, width, height int) string {
	top := []string{header(s, width)}
	if b := banner(s); b != "" {
		top = append(top, bannerStyle.Render(b))
	}
	top = append(top, "", servers(s), "", master(s), "", workers(s), "", tasks(s), "")
	body := strings.Join(top, "\n")
	room := height - lipgloss.Height(body) - 1
	return body + "\n" + events(s, room)
}

func header(s *State, width int) string {
	left := titleStyle.Render("zkctl watch") + "  " + s.Now.Format(time.TimeOnly)
	right := dimStyle.Render("q quits")
	sess := "session: " + string(s.Session.State)
	if s.Session.ID != 0 {
		sess += fmt.Sprintf(" 0x%x", s.Session.ID)
	}
	if s.Session.Server != "" {
		sess += " via " + s.Session.Server
	}
	line := left + "   " + sess
	gap := max(width-lipgloss.Width(line)-lipgloss.Width(right), 1)
	return line + strings.Repeat(" ", gap) + right
}

// banner is the warning shown while the view cannot trust what it shows.
func banner(s *State) string {
	var parts []string
	if !s.Quorum && !s.QuorumLost.IsZero() {
		parts = append(parts, fmt.Sprintf("NO QUORUM for %s", fmtDur(s.Now.Sub(s.QuorumLost))))
	}
	if s.Session.State != SessionConnected {
		parts = append(parts, fmt.Sprintf("session %s for %s", s.Session.State, fmtDur(s.Now.Sub(s.Session.Since))))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "; ") + ": reconnecting, shown as last seen"
}

func plainTable(headers []string, rows [][]string, style func(row, col int) lipgloss.Style) string {
	t := table.New().Headers(headers...).Rows(rows...).
		Border(lipgloss.HiddenBorder()).BorderTop(false).BorderBottom(false).
		BorderLeft(false).BorderRight(false).BorderHeader(false).BorderColumn(true).
		StyleFunc(func(row, col int) lipgloss.Style {
			if row == table.HeaderRow {
				return lipgloss.NewStyle().Bold(true)
			}
			return style(row, col)
		})
	return t.Render()
}

func servers(s *State) string {
	rows := make([][]string, len(s.Servers))
	for i, sv := range s.Servers {
		zxid := "-"
		if serving(sv.Mode) || sv.Zxid != 0 {
			zxid = "0x" + strconv.FormatInt(sv.Zxid, 16)
		}
		rows[i] = []string{sv.Host, sv.Mode, "for " + fmtDur(s.Now.Sub(sv.Since)), zxid,
			strconv.Itoa(sv.Conns), orDash(sv.Version), faultCell(s, sv.Host)}
	}
	return headStyle.Render("SERVERS") + "\n" + plainTable(
		[]string{"HOST", "MODE", "", "ZXID", "CONNS", "VERSION", "NETWORK FAULTS"}, rows,
		func(row, col int) lipgloss.Style {
			if col != 1 {
				return lipgloss.NewStyle()
			}
			switch mode := rows[row][1]; {
			case mode == "leader" || mode == "standalone":
				return goodStyle.Bold(true)
			case serving(mode):
				return goodStyle
			}
			return badStyle
		})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// faultCell lists host's active network faults with their expiry.
func faultCell(s *State, host string) string {
	hf, ok := s.Faults[host]
	switch {
	case !ok:
		return "-"
	case hf.Err != "":
		return "? " + hf.Err
	case len(hf.Faults) == 0:
		return "none"
	}
	var parts []string
	for _, f := range hf.Faults {
		exp := "until healed"
		if !f.Expires.IsZero() {
			exp = "for " + fmtDur(f.Expires.Sub(s.Now))
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s)", f.Kind, f.Detail, exp))
	}
	return strings.Join(parts, "; ")
}

func master(s *State) string {
	var b strings.Builder
	b.WriteString(headStyle.Render("MASTER") + "  ")
	switch {
	case !s.masterSeen:
		b.WriteString(dimStyle.Render("not read yet"))
	case s.Master == nil:
		b.WriteString(badStyle.Render("none") + fmt.Sprintf(" for %s", fmtDur(s.Now.Sub(s.MasterChanged))))
	default:
		m := s.Master
		b.WriteString(goodStyle.Bold(true).Render(m.ID) + fmt.Sprintf(" on %s, pid %d, for %s",
			m.Host, m.PID, fmtDur(s.Now.Sub(s.MasterChanged))))
	}
	if s.MasterBad != "" {
		b.WriteString("  " + badStyle.Render(s.MasterBad))
	}
	b.WriteString("\ncandidates (election order): " + candidateList(s.Candidates))
	return b.String()
}

func workers(s *State) string {
	names := s.WorkerNames()
	if len(names) == 0 {
		return headStyle.Render("WORKERS") + "  none"
	}
	rows := make([][]string, len(names))
	for i, n := range names {
		w := s.Workers[n]
		state := "alive"
		if !w.Alive {
			state = "gone"
		}
		rows[i] = []string{n, state, fmt.Sprintf("%d/%d", w.Assigned, w.Capacity),
			fmt.Sprintf("%.1f", w.Done.Rate(rateWindow)), Sparkline(w.Done.Last(sparkSeconds))}
	}
	return headStyle.Render("WORKERS") + "\n" + plainTable(
		[]string{"WORKER", "STATE", "TASKS/CAPACITY", "DONE/S", fmt.Sprintf("LAST %ds", sparkSeconds)}, rows,
		func(row, col int) lipgloss.Style {
			if col == 1 && rows[row][1] != "alive" {
				return badStyle
			}
			return lipgloss.NewStyle()
		})
}

func tasks(s *State) string {
	return headStyle.Render("TASKS") + fmt.Sprintf("  %d pending  %d assigned  %d results waiting\n",
		s.Pending(), s.Assigned(), s.Results) +
		fmt.Sprintf("submitted/s %s %5.1f\ncompleted/s %s %5.1f",
			Sparkline(s.Submitted.Last(sparkSeconds)), s.Submitted.Rate(rateWindow),
			Sparkline(s.Completed.Last(sparkSeconds)), s.Completed.Rate(rateWindow))
}

// events lists the last changes that fit in room lines, newest last.
func events(s *State, room int) string {
	room = max(room-1, 3)
	ev := s.Events
	if len(ev) > room {
		ev = ev[len(ev)-room:]
	}
	lines := []string{headStyle.Render("EVENTS")}
	for _, l := range ev {
		lines = append(lines, l.String())
	}
	return strings.Join(lines, "\n")
}
