"""The znode protocol of zkctl's README ("The znode protocol"), shared by
master.py, worker.py and client.py: connection, logging, a multi that
reports its failure.

These programs are test data: zkctl deploys them as foreign roles
([roles.*] in the inventory) and judges them from ZooKeeper's history.
"""
import sys
import threading
import time

from kazoo.client import KazooClient, KazooState

ELECTION, MASTER = "/election", "/master"
WORKERS, WORKERS_EPH = "/workers", "/workers_eph"
TASKS, DATA, RESULTS = "/tasks", "/data", "/results"


def log(*words):
    print(time.strftime("%H:%M:%S"), *words, flush=True)


class Session:
    """A kazoo client and an event set when its session is lost (expired):
    every ephemeral node of the session is gone, kazoo goes on with a new
    session."""

    def __init__(self, servers, timeout):
        self.lost = threading.Event()
        self.zk = KazooClient(hosts=servers, timeout=float(timeout))
        self.zk.add_listener(self._state)
        self.zk.start(timeout=30)
        log("connected, session", hex(self.zk.client_id[0]))

    def _state(self, state):
        if state == KazooState.LOST:
            self.lost.set()

    def multi(self, build):
        """Commits the transaction build fills; True when every op applied."""
        t = self.zk.transaction()
        build(t)
        results = t.commit()
        bad = [r for r in results if isinstance(r, Exception)]
        return not bad, bad


def seq(node):
    """The 10-digit sequence of an election node <name>_<seq>."""
    return int(node.rsplit("_", 1)[1])
