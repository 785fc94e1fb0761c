package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// Options says how the view runs.
type Options struct {
	Plain bool  // one line per change instead of the full screen
	Polls Polls // how often srvr and the agents' fault status are asked
}

// maxFPS caps the screen's redraws: the renderer wakes up this often to
// flush a changed frame (Bubble Tea's default, 60, costs CPU while idle).
const maxFPS = 10

// Run shows the cluster of src until ctx ends or, on the full screen, the
// user presses q. Faults of the cluster never end it: a lost connection
// or quorum is shown and the collectors carry on.
func Run(ctx context.Context, src Source, o Options, out io.Writer, in io.Reader) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	box := newInbox()
	done := make(chan struct{})
	go func() { defer close(done); collect(ctx, src, o.Polls, box) }()
	defer func() { cancel(); <-done }()
	st := NewState(time.Now(), src.Servers())
	if o.Plain {
		return runPlain(ctx, st, box, out)
	}
	p := tea.NewProgram(&screen{st: st, in: box}, tea.WithAltScreen(), tea.WithContext(ctx),
		tea.WithInput(in), tea.WithOutput(out), tea.WithFPS(maxFPS))
	_, err := p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// runPlain prints one line per change until ctx ends.
func runPlain(ctx context.Context, st *State, box *inbox, out io.Writer) error {
	fmt.Fprintf(out, "%s watching %d servers; one line per change\n", st.Now.Format("15:04:05.000"), len(st.Servers))
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-box.Ready():
		}
		for _, ev := range box.Take() {
			for _, l := range Apply(st, ev) {
				if _, err := fmt.Fprintln(out, l); err != nil {
					return fmt.Errorf("write the view: %w", err)
				}
			}
		}
	}
}
