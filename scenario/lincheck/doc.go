// Package lincheck is zkctl's Jepsen-style consistency check of ZooKeeper:
// a workload of reads, writes and versioned compare-and-set operations on
// one znode, run by several clients while a Nemesis injects faults; the
// recorded History; and the checker that judges it with Porcupine
// (github.com/anishathalye/porcupine). It may import the standard library,
// the ZooKeeper client, Porcupine and internal/retry; its tests also use
// internal/zktest.
//
// # The model
//
// ZooKeeper's promise is stated in the Programmer's Guide, "ZooKeeper
// consistency guarantees" (zookeeperProgrammers.html#ch_zkGuarantees, 3.8):
// updates from a client are applied in the order it sent them (sequential
// consistency); a client sees the same view whatever server it connects to
// and "will never see an older view of the system even if the client fails
// over to a different server with the same session" (single system image);
// an applied update persists, and "on some failures (communication errors,
// timeouts, etc) the client will not know if the update has applied or not"
// (reliability); a client's view is up to date within a time bound of tens
// of seconds (timeliness). The ZooKeeper paper (Hunt et al., USENIX ATC
// 2010, section 2.3) names the two orderings behind these: linearizable
// writes and FIFO client order. Reads are served by the server a client is
// connected to and may be stale: "ZooKeeper does not guarantee that at every
// instance in time, two different clients will have identical views"; a
// client that needs a fresh value calls sync first, and even sync followed
// by a read is not strictly linearizable (ZOOKEEPER-1675: a sync may be
// served by a server that has not yet learned it lost its leader).
//
// The checker therefore judges the writes strictly and the reads by what is
// promised about them:
//
//   - Writes (setData with version -1) and compare-and-set operations
//     (setData with an expected version) must be linearizable against a
//     versioned register whose state is the znode's data version:
//     write(v) moves version n to n+1 and returns n+1 (the Stat's version);
//     cas(e, v) succeeds iff the version is e, returning e+1, and otherwise
//     fails with BadVersion, changing nothing. An operation that timed out or
//     lost its connection may or may not have been applied; following
//     Porcupine's author (anishathalye/porcupine issue 8) it returns at
//     infinity and its output is not checked, so the checker may place it
//     anywhere after its call, including after every other operation (which
//     is the same as "not applied"). A definite error (BadVersion) is a
//     definite "not applied". One inference narrows this: data are unique
//     per run, so an uncertain operation whose data a read returned was
//     applied, at the version read, before that read returned (a server
//     serves committed writes only); it is checked as such.
//   - Reads are left out of the linearizability check, because ZooKeeper
//     does not promise linearizable reads; including them would refuse
//     histories ZooKeeper is allowed to produce. They are checked instead
//     against what is promised: within one session, the versions a client
//     sees never go backwards, and a read after the client's own
//     acknowledged write sees that write or a later one (single system
//     image, FIFO client order); and every value read was written by some
//     write at that very version, one that was not refused and was invoked
//     before the read returned (no invented, refused or mismatched values).
//     A session that expired starts afresh: the promise is per session.
//
// Porcupine's search can grow exponentially with the number of operations
// of uncertain outcome, so a run is bounded by a number of operations and a
// duration, and Check takes a timeout: when it is hit the verdict is
// "unknown", never "ok" (so is a history with no acknowledged write).
package lincheck
