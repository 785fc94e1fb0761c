"""master.py with one bug: it never checks that its election node is the
lowest. It leads as soon as it is a candidate, so a backup assigns tasks
while the leader leads, and a leader whose session expired goes on leading
on its new session. Its writes still check its own election node, which
exists: the fence does not save it. `history: never two masters at once`
must refuse it.

usage: master_noelection.py SERVERS ID SESSION_TIMEOUT
"""
import master

if __name__ == "__main__":
    master.ELECTION_CHECK = False
    master.main()
