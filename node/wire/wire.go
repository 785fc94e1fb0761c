// Package wire is the protocol between the controller and the node agent:
// a JSON envelope per request (Envelope) and per answer (Response), the
// error codes an answer carries and their sentinels (codes.go), and what a
// call is (Request): a request type whose Serve method is its handler and
// whose result type is its response. The calls are declared next to what
// they run (node/agent for processes and logs, node/netfault for network
// faults), each package listing its own (Handle); both sides import them.
// The agent's side decodes a request and answers with Answer; the
// controller's agent client encodes with Encode and decodes with Decode,
// which maps an error code to its sentinel, once, so that nobody reads an
// error's text.
//
// On the wire a call is one command, `zkctl node --dir DIR call JSON`, whose
// standard output is one Response.
//
// wire imports only the standard library.
package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Request is a call: its name, and its handler, which runs on the host
// whose zkctl folder is dir and returns the call's result (type R).
type Request[R any] interface {
	// Call is the call's name, e.g. "net partition".
	Call() string
	// Serve runs the call on the host.
	Serve(ctx context.Context, dir string) (R, error)
}

// Envelope is a request on the wire: the call's name and its arguments.
type Envelope struct {
	Call string          `json:"call"`
	Args json.RawMessage `json:"args"`
}

// Encode makes the envelope of req.
func Encode[R any](req Request[R]) ([]byte, error) {
	args, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", req.Call(), err)
	}
	return json.Marshal(Envelope{Call: req.Call(), Args: args})
}

// Response is an answer on the wire: a result, or an error with its code.
type Response struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

// Decode reads an answer to req: its result, or its *Error.
func Decode[R any](req Request[R], data []byte) (R, error) {
	var zero R
	var resp Response
	if err := json.Unmarshal(data, &resp); err != nil {
		return zero, fmt.Errorf("bad answer %q: %w", truncate(string(data), 200), err)
	}
	if resp.Error != nil {
		return zero, resp.Error
	}
	var out R
	if err := json.Unmarshal(resp.Result, &out); err != nil {
		return zero, fmt.Errorf("bad result %q: %w", truncate(string(resp.Result), 200), err)
	}
	return out, nil
}

// Answer makes the Response of a handler's result and error.
func Answer(result any, err error) Response {
	if err != nil {
		return Response{Error: &Error{Code: CodeOf(err), Message: err.Error()}}
	}
	data, merr := json.Marshal(result)
	if merr != nil {
		return Response{Error: &Error{Code: CodeFailed, Message: "encode result: " + merr.Error()}}
	}
	return Response{Result: data}
}

// Handler runs one call's encoded arguments on the host whose folder is dir.
type Handler func(ctx context.Context, dir string, args json.RawMessage) (any, error)

// Handlers map call names to their handlers.
type Handlers map[string]Handler

// Handle adds the call of request type Q to hs.
func Handle[Q Request[R], R any](hs Handlers) {
	var q Q
	hs[q.Call()] = func(ctx context.Context, dir string, args json.RawMessage) (any, error) {
		var q Q
		if err := json.Unmarshal(args, &q); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrBadRequest, q.Call(), err)
		}
		return q.Serve(ctx, dir)
	}
}

// Serve answers one request envelope with the handlers hs.
func (hs Handlers) Serve(ctx context.Context, dir string, envelope []byte) Response {
	var env Envelope
	if err := json.Unmarshal(envelope, &env); err != nil {
		return Answer(nil, fmt.Errorf("%w: %v", ErrBadRequest, err))
	}
	h, ok := hs[env.Call]
	if !ok {
		return Answer(nil, fmt.Errorf("%w: unknown call %q", ErrBadRequest, env.Call))
	}
	return Answer(h(ctx, dir, env.Args))
}

// AsRoot tells the calls that keep root's rights on a login with root or
// sudo, by their first word (a call's name or the agent's subcommand):
// "net" (nftables and tc) and "info" (it only looks for Java and
// ZooKeeper, and runs before deploy has created the service user). Every
// other call runs as the service user.
func AsRoot(call string) bool {
	first, _, _ := strings.Cut(call, " ")
	return first == "net" || first == "info"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
