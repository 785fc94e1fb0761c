package watch

import "sync"

// inbox queues events from the collectors for the view. Put never blocks
// (the ZooKeeper client's event callback must not); the view takes
// everything queued at once, so a burst of events makes one redraw.
type inbox struct {
	mu    sync.Mutex
	queue []Event
	ready chan struct{} // holds a token while the queue is not empty
}

func newInbox() *inbox { return &inbox{ready: make(chan struct{}, 1)} }

// Put queues ev.
func (b *inbox) Put(ev Event) {
	b.mu.Lock()
	b.queue = append(b.queue, ev)
	b.mu.Unlock()
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

// Ready is readable when events are queued.
func (b *inbox) Ready() <-chan struct{} { return b.ready }

// Take returns the queued events, oldest first, and empties the queue.
func (b *inbox) Take() []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := b.queue
	b.queue = nil
	return q
}
