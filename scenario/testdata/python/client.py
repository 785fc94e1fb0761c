"""A client following the znode protocol: submits each task with one multi
{create /data/t "seconds", create /tasks/t ""}, waits for /results/t, reads
it, then deletes /results/t and /data/t in one multi. Task names are
<id>-<n>; a client restarted with the id of a dead one first removes what
that one left and numbers on.

usage: client.py SERVERS ID SESSION_TIMEOUT TASKS DURATION
"""
import sys
import time

from kazoo.exceptions import KazooException

from zkproto import DATA, RESULTS, TASKS, Session, log

# clean_data: delete /data/t with the result. The buggy variant
# (client_orphans.py) forgets it.
CLEAN_DATA = True


def number(name, cid):
    head, _, n = name.rpartition("-")
    return int(n) if head == cid and n.isdigit() else None


def cleanup(s, cid):
    """Removes the results a dead client with our id left; returns the
    next task number."""
    last = 0
    for d in (RESULTS, TASKS, DATA):
        for name in s.zk.get_children(d):
            n = number(name, cid)
            if n is not None:
                last = max(last, n)
    for name in s.zk.get_children(RESULTS):
        if number(name, cid) is not None:
            s.multi(lambda t: (t.delete(f"{RESULTS}/{name}"), t.delete(f"{DATA}/{name}")))
            log("cleaned", name)
    return last + 1


def main():
    servers, cid, timeout, tasks, duration = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    s = Session(servers, timeout)
    first = cleanup(s, cid)
    names = [f"{cid}-{n}" for n in range(first, first + tasks)]
    for t in names:
        ok, bad = s.multi(lambda tx: (tx.create(f"{DATA}/{t}", duration.encode()), tx.create(f"{TASKS}/{t}", b"")))
        if not ok:
            log("submit", t, "failed:", bad)
            sys.exit(1)
    log("submitted", names[0], "to", names[-1])
    waiting = set(names)
    while waiting:
        for t in sorted(waiting):
            try:
                data, _ = s.zk.get(f"{RESULTS}/{t}")
            except KazooException:
                continue
            if CLEAN_DATA:
                s.multi(lambda tx: (tx.delete(f"{RESULTS}/{t}"), tx.delete(f"{DATA}/{t}")))
            else:
                s.zk.delete(f"{RESULTS}/{t}")
            log("result", t, data.decode())
            waiting.discard(t)
        time.sleep(0.05)
    log("all results in")
    s.zk.stop()


if __name__ == "__main__":
    main()
