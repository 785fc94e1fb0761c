// Package controller is zkctl's side of every host: the Cluster (one
// reused transport per host, SSH or local, and tunnels to the servers'
// client ports), the agent client (Call, CallOn and the calls many callers
// make, procs.go; the agents' statuses, Statuses), ZooKeeper sessions from
// this machine (Connect, WithConn, through package zksession), the reads
// of hosts' logs and znodes (Tail, Tree, TxnLogs) and the progress output
// (UI). The actions on hosts are elsewhere: deploy, reset and stop as step
// lists, the wait for quorum and `zkctl status` in package deploy, one
// operation a file in package ops.
//
// It imports deploy/inventory, deploy/transport, node and its protocol
// (node/wire, node/agent, node/netfault), schema, zksession and internal
// helpers; never roles/… nor history/….
package controller
