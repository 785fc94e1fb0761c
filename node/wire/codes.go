package wire

import "errors"

// Code is the kind of an agent's error, as the wire carries it.
type Code string

// The codes. CodeFailed is every error that has no sentinel.
const (
	CodeFailed      Code = "failed"
	CodeMissingTool Code = "missing-tool" // nft, tc or ip is not installed
	CodePrivilege   Code = "privilege"    // no CAP_NET_ADMIN
	CodeBadRequest  Code = "bad-request"  // the call's arguments are invalid
	CodeNotRunning  Code = "not-running"  // the process named is not alive
	CodeNoServer    Code = "no-server"    // the host runs no ZooKeeper server (role-only)
)

// The sentinels a caller classifies an agent's error with (errors.Is).
// The agent's own errors wrap them (node/netfault's ErrMissingTool and
// ErrPrivilege are these; its ErrBadSpec and node's ErrNotRunning match
// them), so the same test holds on either side of the wire.
var (
	ErrMissingTool = errors.New("tool missing")
	ErrPrivilege   = errors.New("network faults need root or sudo (CAP_NET_ADMIN)")
	ErrBadRequest  = errors.New("bad request")
	ErrNotRunning  = errors.New("not running")
	ErrNoServer    = errors.New("runs no ZooKeeper server")
)

// codes pairs each code with its sentinel: the agent finds the code of an
// error by its sentinel (CodeOf), the client the sentinel of a code
// (Error.Unwrap).
var codes = []struct {
	code Code
	err  error
}{
	{CodeMissingTool, ErrMissingTool},
	{CodePrivilege, ErrPrivilege},
	{CodeBadRequest, ErrBadRequest},
	{CodeNotRunning, ErrNotRunning},
	{CodeNoServer, ErrNoServer},
}

// CodeOf is the code of an agent's error.
func CodeOf(err error) Code {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return CodeFailed
}

// Error is an agent's error as the controller receives it. Its message is
// the agent's; it matches (errors.Is) the sentinel of its code.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Unwrap is the sentinel of e's code, nil for CodeFailed.
func (e *Error) Unwrap() error {
	for _, c := range codes {
		if c.code == e.Code {
			return c.err
		}
	}
	return nil
}

// Unsupported tells the agent's "cannot make network faults here" (no
// nft, tc or ip; no CAP_NET_ADMIN) from other failures.
func Unsupported(err error) bool {
	return errors.Is(err, ErrMissingTool) || errors.Is(err, ErrPrivilege)
}
