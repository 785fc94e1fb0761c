package watch

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// tickEvery is how often the full screen redraws without news, for the
// clocks ("for 12s") and the sparklines sliding.
const tickEvery = time.Second

// screen is the Bubble Tea model of the full-screen view: the State, fed
// by the inbox; Render draws it.
type screen struct {
	st            *State
	in            *inbox
	width, height int
}

// batchMsg is every event queued since the last one.
type batchMsg []Event

type tickMsg time.Time

func (m *screen) Init() tea.Cmd { return tea.Batch(m.next(), tick()) }

// next waits for the collectors' next events.
func (m *screen) next() tea.Cmd {
	return func() tea.Msg {
		<-m.in.Ready()
		return batchMsg(m.in.Take())
	}
}

func tick() tea.Cmd {
	return tea.Tick(tickEvery, func(t time.Time) tea.Msg { return tickMsg(t) })
}

func (m *screen) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch msg.String() {
		case "q", "Q", "ctrl+c", "esc":
			return m, tea.Quit
		}
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case batchMsg:
		for _, ev := range msg {
			Apply(m.st, ev)
		}
		return m, m.next()
	case tickMsg:
		Apply(m.st, Tick{At: time.Time(msg)})
		return m, tick()
	}
	return m, nil
}

func (m *screen) View() string {
	if m.width == 0 {
		return "starting…"
	}
	return Render(m.st, m.width, m.height)
}
