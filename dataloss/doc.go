// Package dataloss aims at ZooKeeper's own data-loss bugs: the sync window
// of ZOOKEEPER-4643, 4646 and 4785 (3.8.0) and ZOOKEEPER-4925 (3.9.3). It
// owns the schedules that follow the upstream regression tests with real
// operations on real servers (package ops: stop, start, SIGKILL right after
// a server reports serving), the workload that writes unique values and
// records every write ZooKeeper acknowledged, and the loss judge: every
// acknowledged write is in the merged history of every server's
// transaction log and in the final state read back from every server after
// a sync, no deleted write comes back, every server's log reaches the end
// of the history, and no two servers hold different transactions at one
// zxid. A seeded chaos run repeats a schedule with random timing and names
// the seed of a failure so that it can be replayed (`zkctl dataloss`).
//
// Timing comes from what the servers report (srvr, the transaction logs)
// and from the ensemble's zoo.cfg (tickTime, initLimit), never a fixed
// sleep standing for an event.
package dataloss
