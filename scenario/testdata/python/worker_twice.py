"""worker.py with one bug: it watches the results it wrote and, when one
disappears, takes it for lost and writes it again; but its client consumed
it. The task gets two results. `history: every task completed exactly
once` must refuse it.

usage: worker_twice.py SERVERS ID SESSION_TIMEOUT CONCURRENCY
"""
import worker

if __name__ == "__main__":
    worker.RETRY_LOST = True
    worker.main()
