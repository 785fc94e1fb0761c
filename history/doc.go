// Package history merges the transaction logs of every server of a
// ZooKeeper ensemble (decoded by package txnlog) into the
// ensemble's committed history, ordered by zxid; names the role instance
// behind each session from the history itself; prints it like the
// ensemble's `git log`; and judges zkctl's invariants on it, operation by
// operation. It is pure: it reads no file and talks to no server (the node
// agent fetches the logs, the controller calls Merge). It imports
// txnlog and roles/protocol only.
//
// # Merge rules
//
// A zxid is an epoch (zxid>>32, one per established leader) and a counter
// (zxid&0xffffffff, from 1 in each epoch). The rules follow Zab as
// ZooKeeper's documentation states it ("ZooKeeper Internals", "Zab:
// High-performance broadcast for primary-backup systems"; the
// Administrator's Guide on the transaction log):
//
//   - A leader proposes transactions in zxid order, each server logs (and
//     fsyncs) a proposal before it acknowledges it, and the leader commits a
//     proposal once a quorum (voters/2+1) has acknowledged it; commits are
//     delivered in zxid order. So a transaction held by a quorum of logs is
//     committed, and so is every earlier transaction of its epoch.
//   - A server starts logging a new epoch only after it has synchronized
//     with that epoch's leader (DIFF, or TRUNC of what the leader does not
//     hold), and a new leader's initial history is committed when its epoch
//     is established. So a transaction held by a server whose log goes on,
//     without skipping anything committed, into a later epoch is committed:
//     that server's log was a prefix of the new leader's history. A server
//     that skips committed transactions was synchronized by a snapshot (SNAP)
//     and its older log proves nothing.
//   - Any other transaction is a proposal that no quorum acknowledged: it is
//     dropped (History.Dropped), as ZooKeeper truncates it from the logs of
//     servers that rejoin.
//
// Within an epoch committed counters are contiguous; a missing counter
// that no server's log holds is an error naming the zxids, and so are two
// servers holding different transactions at one zxid and servers whose
// logs neither overlap nor follow one another. autopurge removes old logs,
// so a history starts at the first zxid any server still holds
// (History.Start), and says so.
//
// # Judges
//
// Each judge replays the history on a small model of the tree (the znodes
// that exist, each ephemeral's owner, the election candidates) in zxid
// order; the operations of a multi see the state before the multi and are
// applied together. A failed transaction (an error txn, a multi with a
// failed operation) changes nothing and is judged as no write.
package history
