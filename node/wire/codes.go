package wire

import (
	"errors"

	"zkctl/node"
	"zkctl/node/netfault"
)

// Code is the kind of an agent's error, as the wire carries it.
type Code string

// The codes. CodeFailed is every error that has no sentinel.
const (
	CodeFailed         Code = "failed"
	CodeMissingTool    Code = "missing-tool"    // nft, tc or ip is not installed
	CodePrivilege      Code = "privilege"       // no CAP_NET_ADMIN
	CodeBadRequest     Code = "bad-request"     // the call's arguments are invalid
	CodeNothingApplied Code = "nothing-applied" // no knob of a degradation could be applied
	CodeNotRunning     Code = "not-running"     // the process named is not alive
	CodeNoServer       Code = "no-server"       // the host runs no ZooKeeper server (role-only)
)

// The sentinels a caller classifies an agent's error with (errors.Is).
// They are the agent's own, so the same test holds on either side.
var (
	ErrMissingTool    = netfault.ErrMissingTool
	ErrPrivilege      = netfault.ErrPrivilege
	ErrBadRequest     = errors.New("bad request")
	ErrNothingApplied = netfault.ErrNothingApplied
	ErrNotRunning     = node.ErrNotRunning
	ErrNoServer       = node.ErrNoServer
)

// codes pairs each code with its sentinel: the agent finds the code of an
// error by its sentinel (CodeOf), the client the sentinel of a code
// (Error.Unwrap). A bad fault spec is a bad request.
var codes = []struct {
	code Code
	errs []error
}{
	{CodeMissingTool, []error{ErrMissingTool}},
	{CodePrivilege, []error{ErrPrivilege}},
	{CodeBadRequest, []error{ErrBadRequest, netfault.ErrBadSpec}},
	{CodeNothingApplied, []error{ErrNothingApplied}},
	{CodeNotRunning, []error{ErrNotRunning}},
	{CodeNoServer, []error{ErrNoServer}},
}

// CodeOf is the code of an agent's error.
func CodeOf(err error) Code {
	for _, c := range codes {
		for _, s := range c.errs {
			if errors.Is(err, s) {
				return c.code
			}
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
			return c.errs[0]
		}
	}
	return nil
}

// Unsupported tells the agent's "cannot make network faults here" (no
// nft, tc or ip; no CAP_NET_ADMIN) from other failures.
func Unsupported(err error) bool {
	return errors.Is(err, ErrMissingTool) || errors.Is(err, ErrPrivilege)
}
