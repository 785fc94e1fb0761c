package roles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"zkctl/internal/retry"
	"zkctl/zksession"
)

// errSessionLost ends an epoch: the session expired or was replaced.
var errSessionLost = errors.New("session expired")

// session is one ZooKeeper session and what the roles need to know of its
// state. Session events arrive through zk.WithEventCallback, so none is
// dropped; the callback only records them and wakes the role's loop.
type session struct {
	conn *zk.Conn
	id   int64 // the session this struct stands for
	acl  []zk.ACL
	log  *slog.Logger

	mu         sync.Mutex
	connected  bool
	lost       bool
	reconnects int           // HasSession events: 1 after the first connect
	wake       chan struct{} // closed and replaced at every session event
}

// sessionState is a snapshot of a session's state.
type sessionState struct {
	connected  bool
	lost       bool
	reconnects int
	wake       <-chan struct{} // closed at the next session event
}

// onEvent is the connection's event callback; it must not block.
func (s *session) onEvent(ev zk.Event) {
	if ev.Type != zk.EventSession {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch ev.State {
	case zk.StateHasSession:
		if !s.connected {
			s.reconnects++
		}
		s.connected = true
	case zk.StateDisconnected:
		s.connected = false
	case zk.StateExpired, zk.StateAuthFailed:
		s.connected = false
		s.lost = true
	}
	close(s.wake)
	s.wake = make(chan struct{})
}

// state returns the current state. A session whose id changed is lost even
// if no expiry event was seen.
func (s *session) state() sessionState {
	s.mu.Lock()
	st := sessionState{connected: s.connected, lost: s.lost, reconnects: s.reconnects, wake: s.wake}
	s.mu.Unlock()
	if s.id != 0 && st.connected && s.conn.SessionID() != s.id {
		st.lost = true
	}
	return st
}

// await waits until the session is connected: errSessionLost if it expired,
// ctx.Err() if ctx ends first.
func (s *session) await(ctx context.Context) error {
	for {
		st := s.state()
		if st.lost {
			return errSessionLost
		}
		if st.connected {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-st.wake:
		}
	}
}

// close ends the session: its ephemeral znodes vanish at once.
func (s *session) close() { s.conn.Close() }

// Dial opens a ZooKeeper session for cfg, waits until it is established and
// adds cfg.Auth. The client library logs to cfg.Logger at debug level.
func Dial(ctx context.Context, cfg Config) (*zk.Conn, error) {
	cfg, err := cfg.withDefaults("dial")
	if err != nil {
		return nil, err
	}
	s, err := dial(ctx, cfg, cfg.Logger)
	if err != nil {
		return nil, err
	}
	return s.conn, nil
}

// dial opens a session and waits for it, logging a warning every few seconds
// while no server answers (zksession.Dial).
func dial(ctx context.Context, cfg Config, log *slog.Logger) (*session, error) {
	s := &session{acl: ACL(cfg.Auth), log: log, wake: make(chan struct{})}
	conn, err := zksession.Dial(ctx, zksession.Config{Servers: cfg.Servers, SessionTimeout: cfg.SessionTimeout,
		Auth: cfg.Auth, Logger: log, Dialer: cfg.Dialer}, s.onEvent)
	if err != nil {
		return nil, err
	}
	s.conn, s.id = conn, conn.SessionID()
	return s, nil
}

// sessionHex formats a session id the way ZooKeeper's logs do.
func sessionHex(id int64) string { return fmt.Sprintf("0x%x", id) }

// IsConnErr tells whether err leaves a request's fate unknown: the
// connection was lost or closed, or the session expired or moved. The
// request may or may not have been applied, and waiting for a session (the
// same one, or a new one after expiry) is the answer. It is zkctl's one
// classification of ZooKeeper's connection errors, for the roles and for
// the controller's own clients.
func IsConnErr(err error) bool {
	return errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrNoServer) ||
		errors.Is(err, zk.ErrClosing) || errors.Is(err, zk.ErrSessionExpired) ||
		errors.Is(err, zk.ErrSessionMoved)
}

// retry runs fn until it succeeds or fails with an error other than a
// connection error; between tries it waits for the session.
func (s *session) retry(ctx context.Context, fn func() error) error {
	for {
		err := fn()
		if err == nil || !IsConnErr(err) {
			return err
		}
		if err := s.await(ctx); err != nil {
			return err
		}
		if err := retry.Sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// failedOp is the index of the op that made a multi fail, or -1 when the
// responses do not say (the whole request failed).
func failedOp(res []zk.MultiResponse) int {
	for i, r := range res {
		if r.Error != nil {
			return i
		}
	}
	return -1
}

// parallel calls fn(i) for i in [0, n), at most limit at a time, and waits.
func parallel(n, limit int, fn func(i int)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}
