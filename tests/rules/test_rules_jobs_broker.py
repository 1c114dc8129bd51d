"""The embedded queue prepared by several processes at once: every one of them must come up. kombu creates
its tables and queue rows lazily under an in-process lock only, so workers started together used to race
on the same row and one died with ``UNIQUE constraint failed: kombu_queue.name``."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

from hub_rules.jobs import QUEUES, broker_url

STARTERS = 6

# Each process sleeps until the same instant, prepares the broker, then does what a Celery consumer does on
# start: open the transport and declare its queues.
_STARTER = """
import sys, time
from celery import Celery
from kombu import Connection, Exchange, Queue
from hub_rules.jobs import QUEUES, celery_conf, prepare_broker
url, at = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, at - time.time()))
app = Celery("starter", broker=url, set_as_current=False)
app.conf.update(celery_conf(url, 0))
prepare_broker(url, app.connection_for_write)
with Connection(url, transport_options=celery_conf(url, 0)["broker_transport_options"]) as connection:
    for name in QUEUES:
        Queue(name, Exchange(name, type="direct"), routing_key=name)(connection.default_channel).declare()
"""


def test_workers_starting_together_all_come_up(tmp_path):
    url = broker_url(None, tmp_path)
    at = time.time() + 4.0  # imports done in every process before the common start
    procs = [
        subprocess.Popen([sys.executable, "-c", _STARTER, url, str(at)], stderr=subprocess.PIPE, text=True)
        for _ in range(STARTERS)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * STARTERS, "\n".join(e for e in errors if e)
    with sqlite3.connect(tmp_path / "queue.sqlite") as db:
        names = sorted(row[0] for row in db.execute("SELECT name FROM kombu_queue"))
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    assert names == sorted(QUEUES)
    assert mode == "wal"
