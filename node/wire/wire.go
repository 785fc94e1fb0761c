// Package wire is the protocol between the controller and the node agent:
// one request type and one response type per call (calls.go), a JSON
// envelope for each (Envelope, Response), and the error codes an answer
// carries (codes.go). Both sides import it: the agent's handlers
// (package node/agent) decode a request and encode their answer here, and
// the controller's agent client encodes a request and maps an error code
// to its sentinel here, once, so that nobody reads an error's text.
//
// On the wire a call is one command, `zkctl node --dir DIR call JSON`, whose
// standard output is one Response. The `zkctl node …` subcommands for
// people debugging a host build the same requests from flags.
//
// wire imports only the standard library, node (the process types) and
// node/netfault (the fault specs and results).
package wire

import (
	"encoding/json"
	"fmt"
)

// Request is a call's request; R is the type of its answer. Only this
// package's types implement it, so a request and its answer are always
// paired here.
type Request[R any] interface {
	// Call is the call's name, e.g. "net partition".
	Call() string
	answer() R
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

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
