"""A master candidate following the znode protocol: election by the lowest
/election sequence, each candidate watching only its predecessor; every
write of the leader is a multi that checks its own election node (the
fence); a lost session steps down and rejoins as a new candidate.

usage: master.py SERVERS ID SESSION_TIMEOUT
"""
import json
import os
import sys
import threading
import time

from kazoo.exceptions import KazooException, NoNodeError

from zkproto import (ELECTION, MASTER, TASKS, WORKERS, WORKERS_EPH, Session,
                     log, seq)

# ELECTION_CHECK: wait until our node is the lowest before leading. The
# buggy variant master_noelection.py leads as soon as it is a candidate.
ELECTION_CHECK = True
# FENCE: every write checks our own election node. REJOIN: after a lost
# session, stand again as a new candidate. The buggy variant
# master_nofence.py does neither: it writes unfenced and, when kazoo gives
# it a new session, goes on leading on that session.
FENCE = True
REJOIN = True


def campaign(s, mid):
    """Creates a candidate node and waits until it is the lowest."""
    path = s.zk.create(f"{ELECTION}/{mid}_", ephemeral=True, sequence=True)
    me = path.rsplit("/", 1)[1]
    log("joined the election as", me)
    while ELECTION_CHECK and not s.lost.is_set():
        kids = sorted(s.zk.get_children(ELECTION), key=seq)
        if kids[0] == me:
            break
        pred = kids[kids.index(me) - 1]
        gone = threading.Event()
        if s.zk.exists(f"{ELECTION}/{pred}", watch=lambda _e: gone.set()):
            gone.wait(1)
    return path


def lead(s, mid, node, claimed=False):
    """Assigns tasks and moves back those of dead workers until the
    session is lost or a fenced write fails."""
    info = json.dumps({"id": mid, "host": os.uname().nodename, "pid": os.getpid(),
                       "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    log("elected: leading as", node)
    while not s.lost.is_set():
        if not claimed:  # /master: once the predecessor's is gone
            claimed, _ = s.multi(lambda t: (t.check(node, 0), t.create(MASTER, info.encode(), ephemeral=True)))
            if not claimed and ELECTION_CHECK:
                if s.zk.exists(node) is None:
                    return
                time.sleep(0.05)
                continue
        alive = set(s.zk.get_children(WORKERS_EPH))
        load = {}
        for w in s.zk.get_children(WORKERS):
            kids = s.zk.get_children(f"{WORKERS}/{w}")
            if w in alive:
                load[w] = len(kids)
                continue
            for t in kids:  # worker w is gone: move its tasks back
                if not fenced(s, node, lambda tx: (tx.delete(f"{WORKERS}/{w}/{t}"), tx.set_data(f"{TASKS}/{t}", b""))):
                    return
            if not fenced(s, node, lambda tx: tx.delete(f"{WORKERS}/{w}")):
                return
            log("worker gone:", w, "moved back", len(kids))
        for t in sorted(s.zk.get_children(TASKS)):
            if not load:
                break
            try:
                data, st = s.zk.get(f"{TASKS}/{t}")
            except NoNodeError:
                continue
            if data:
                continue
            w = min(load, key=lambda k: (load[k], k))
            if not fenced(s, node, lambda tx: (tx.create(f"{WORKERS}/{w}/{t}"), tx.set_data(f"{TASKS}/{t}", w.encode(), st.version))):
                return
            load[w] += 1
            log("assigned", t, "to", w)
        time.sleep(0.05)


def fenced(s, node, ops):
    """Commits ops behind the check of our election node; False when the
    fence refused it (we no longer lead), True otherwise (another failure,
    e.g. a task already taken, is retried on the next round)."""
    if not FENCE:
        s.multi(ops)
        return True
    ok, _ = s.multi(lambda t: (t.check(node, 0), ops(t)))
    if not ok and s.zk.exists(node) is None:
        log("fenced: my election node", node, "is gone; stepping down")
        return False
    return True


def reassert(s):
    """What master_nofence.py does on a new session, believing it still
    leads: it sets every /tasks/<t> to the worker it finds t assigned to."""
    for w in s.zk.get_children(WORKERS):
        for t in s.zk.get_children(f"{WORKERS}/{w}"):
            try:
                s.zk.set(f"{TASKS}/{t}", w.encode())
            except NoNodeError:
                continue


def main():
    servers, mid, timeout = sys.argv[1], sys.argv[2], sys.argv[3]
    s = Session(servers, timeout)
    node = None
    while True:
        s.lost.clear()
        try:
            if node is None or REJOIN:
                node = campaign(s, mid)
                if not s.lost.is_set():
                    lead(s, mid, node)
            else:
                # kazoo may still be getting its new session: a call then
                # raises SessionExpiredError, and this loop tries again.
                log("session lost; leading on kazoo's new session")
                reassert(s)
                lead(s, mid, node, claimed=True)
        except KazooException as e:
            log("error:", repr(e))
        log("stepped down; rejoining the election" if REJOIN else "session lost")
        time.sleep(0.1)


if __name__ == "__main__":
    main()
