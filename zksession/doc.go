// Package zksession owns how zkctl opens a ZooKeeper session, for every
// client it runs: the roles (package roles builds its sessions on Dial),
// the controller's own connections (package controller), the live view's
// watches (package watch) and the linearizability checker
// (scenario/lincheck). It holds the dial (Dial; Through: the servers as
// listed, through a dialer; Logger), the digest auth (ReadAuth, ACL) and the
// protocol's base znodes (EnsureBase, ProtectRoot). It imports only the
// ZooKeeper client, package schema and the standard library, never roles.
package zksession
