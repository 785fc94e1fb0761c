// Package agent is the node agent's side of the controller–agent protocol
// (package node/wire): the calls on the host's processes, logs and clock,
// each a request type whose Serve method is its handler (calls.go), and
// Serve, which answers a request envelope with these and the network fault
// calls of node/netfault. The controller sends the same request types; the
// `zkctl node …` subcommands for people debugging a host call the same
// Serve methods.
//
// Adding an agent call: its request type, with a Call name and a Serve
// method whose result type is the answer, in the package that does the
// work (here, or node/netfault), one wire.Handle line in that package's
// list (Handlers here, netfault.Calls), and its use on the controller
// (deploy.Call, or a method of deploy.Cluster).
//
// agent imports node, node/netfault, node/wire, history/txnlog (the
// transaction logs are decoded on the host) and schema (the role names).
package agent

import (
	"context"

	"zkctl/node/netfault"
	"zkctl/node/wire"
)

// Handlers are every call the agent answers.
func Handlers() wire.Handlers {
	hs := wire.Handlers{}
	wire.Handle[Info](hs)
	wire.Handle[StartServer](hs)
	wire.Handle[SignalServer](hs)
	wire.Handle[TxnLogs](hs)
	wire.Handle[ServerConfig](hs)
	wire.Handle[Status](hs)
	wire.Handle[Reset](hs)
	wire.Handle[Stop](hs)
	wire.Handle[Memory](hs)
	wire.Handle[ReadLog](hs)
	wire.Handle[Clock](hs)
	wire.Handle[SignalHost](hs)
	wire.Handle[StartRoles](hs)
	wire.Handle[SignalRoles](hs)
	wire.Handle[Preflight](hs)
	netfault.Calls(hs)
	return hs
}

// Serve answers one request envelope on the host whose zkctl folder is dir.
func Serve(ctx context.Context, dir string, envelope []byte) wire.Response {
	return Handlers().Serve(ctx, dir, envelope)
}
