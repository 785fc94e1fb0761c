"""master.py with two bugs, as a first implementation often has them: its
writes do not check its election node (no fence), and when its session
expires it does not stand again: kazoo gives it a new session and it goes
on leading there, first setting every /tasks/<t> to the worker it finds t
assigned to. A backup leads meanwhile, so these writes come from a session
that holds no election node: `history: never two masters at once` must
refuse it (scenario master-lag, whose work keeps coming after the old
leader resumes).

usage: master_nofence.py SERVERS ID SESSION_TIMEOUT
"""
import master

if __name__ == "__main__":
    master.FENCE = False
    master.REJOIN = False
    master.main()
