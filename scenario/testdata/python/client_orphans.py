"""client.py with one bug: it deletes /results/t once it read it, but never
/data/t. Every task leaves its input behind. `history: no orphan znodes`
must refuse it.

usage: client_orphans.py SERVERS ID SESSION_TIMEOUT TASKS DURATION
"""
import client

if __name__ == "__main__":
    client.CLEAN_DATA = False
    client.main()
