package zksession

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// Config is what opening a session takes.
type Config struct {
	Servers        []string      // ensemble client endpoints, "host:port"
	SessionTimeout time.Duration // asked of the servers
	Auth           string        // "user:password" for digest auth, or "" for none
	Logger         *slog.Logger  // the client library's messages at debug level, the waits as warnings; nil: none
	Dialer         zk.Dialer     // how to reach the servers (a tunnel); nil = directly
}

// waitWarning is how often Dial warns while no server answers.
const waitWarning = 5 * time.Second

// Dial opens a session for cfg, waits until it is established and adds
// cfg.Auth. onEvent, when set, gets every event of the connection (it must
// not block). A warning is logged every few seconds while no server answers.
func Dial(ctx context.Context, cfg Config, onEvent func(zk.Event)) (*zk.Conn, error) {
	if len(cfg.Servers) == 0 {
		return nil, errors.New("dial: no ZooKeeper servers given")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	w := &firstSession{wake: make(chan struct{}), forward: onEvent}
	conn, _, err := zk.Connect(cfg.Servers, cfg.SessionTimeout,
		zk.WithEventCallback(w.onEvent), zk.WithLogger(Logger{cfg.Logger}), Through(cfg.Dialer))
	if err != nil {
		return nil, fmt.Errorf("connect to %v: %w", cfg.Servers, err)
	}
	if err := w.wait(ctx, cfg); err != nil {
		conn.Close()
		return nil, err
	}
	if cfg.Auth != "" {
		if err := conn.AddAuth("digest", []byte(cfg.Auth)); err != nil {
			conn.Close()
			return nil, fmt.Errorf("add digest auth: %w", err)
		}
	}
	cfg.Logger.Debug("session established", "session", fmt.Sprintf("0x%x", conn.SessionID()))
	return conn, nil
}

// firstSession follows a new connection's session state until it has one.
type firstSession struct {
	forward func(zk.Event)

	mu        sync.Mutex
	connected bool
	wake      chan struct{} // closed and replaced at every session event
}

// onEvent is the connection's event callback; it must not block.
func (f *firstSession) onEvent(ev zk.Event) {
	if f.forward != nil {
		f.forward(ev)
	}
	if ev.Type != zk.EventSession {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch ev.State {
	case zk.StateHasSession:
		f.connected = true
	case zk.StateDisconnected, zk.StateExpired, zk.StateAuthFailed:
		f.connected = false
	}
	close(f.wake)
	f.wake = make(chan struct{})
}

// state is whether the connection has a session now, and a channel closed
// at the next session event.
func (f *firstSession) state() (bool, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connected, f.wake
}

// wait waits for the first established session, warning every waitWarning.
func (f *firstSession) wait(ctx context.Context, cfg Config) error {
	start := time.Now()
	tick := time.NewTicker(waitWarning)
	defer tick.Stop()
	for {
		connected, wake := f.state()
		if connected {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("connect to %v: %w", cfg.Servers, ctx.Err())
		case <-tick.C:
			cfg.Logger.Warn("waiting for ZooKeeper", "servers", cfg.Servers, "waited", time.Since(start).Round(time.Second))
		case <-wake:
		}
	}
}

// Logger sends the client library's messages to slog at debug level.
type Logger struct{ Log *slog.Logger }

// Printf implements zk.Logger.
func (l Logger) Printf(format string, args ...any) {
	l.Log.Debug("zk: " + fmt.Sprintf(format, args...))
}
