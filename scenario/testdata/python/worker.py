"""A worker following the znode protocol: registers /workers/<w> and the
ephemeral /workers_eph/<w> in one multi, runs every task assigned under
/workers/<w> (sleeping the seconds /data/<t> holds), and completes it
with one multi {create /results/t "ok w", delete /workers/w/t, delete
/tasks/t}: if the task was moved meanwhile the multi fails and nothing is
written.

usage: worker.py SERVERS ID SESSION_TIMEOUT CONCURRENCY
"""
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from kazoo.exceptions import KazooException, NodeExistsError, NoNodeError

from zkproto import DATA, RESULTS, TASKS, WORKERS, WORKERS_EPH, Session, log

# retry_lost: write a result again when it disappears. The buggy variant
# (worker_twice.py) takes a result its client consumed for a lost one.
RETRY_LOST = False


def register(s, w):
    while True:
        if s.zk.exists(f"{WORKERS}/{w}") is None:
            ok, _ = s.multi(lambda t: (t.create(f"{WORKERS}/{w}"), t.create(f"{WORKERS_EPH}/{w}", ephemeral=True)))
        else:
            ok, _ = s.multi(lambda t: t.create(f"{WORKERS_EPH}/{w}", ephemeral=True))
        if ok:
            log("registered as", w)
            return
        time.sleep(0.2)  # the node of a predecessor with our id, until its session expires


def run(s, w, t, running, written):
    try:
        try:
            data, _ = s.zk.get(f"{DATA}/{t}")
            secs = float(data.decode())
            result = f"ok {w}" if 0 <= secs <= 3600 else "error: duration outside [0, 3600]"
        except ValueError as e:
            secs, result = 0, f"error: {e}"
        time.sleep(max(secs, 0))
        ok, _ = s.multi(lambda tx: (tx.create(f"{RESULTS}/{t}", result.encode()),
                                    tx.delete(f"{WORKERS}/{w}/{t}"), tx.delete(f"{TASKS}/{t}")))
        if ok:
            log("completed", t)
            written[t] = result
        else:
            log("dropped result of", t, ": no longer assigned")
    except (KazooException, NoNodeError) as e:
        log("task", t, "error:", repr(e))
    finally:
        running.discard(t)


def main():
    servers, w, timeout, conc = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    s = Session(servers, timeout)
    register(s, w)
    running, written = set(), {}
    pool = ThreadPoolExecutor(max_workers=max(conc, 1))
    while True:
        try:
            if s.lost.is_set():
                s.lost.clear()
                register(s, w)
            for t in sorted(s.zk.get_children(f"{WORKERS}/{w}")):
                if t not in running:
                    running.add(t)
                    pool.submit(run, s, w, t, running, written)
            if RETRY_LOST:
                for t, result in list(written.items()):
                    if s.zk.exists(f"{RESULTS}/{t}") is None:
                        log("result of", t, "lost? writing it again")
                        try:
                            s.zk.create(f"{RESULTS}/{t}", result.encode())
                        except NodeExistsError:
                            pass
                        del written[t]
            else:
                written.clear()
        except KazooException as e:
            log("error:", repr(e))
        time.sleep(0.05)


if __name__ == "__main__":
    main()
