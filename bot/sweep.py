"""The follow-up sweep: due follow-ups fired in batches, many per transaction; one that fails is retried later.

A batch is claimed along the pending-rows index, its requests with it (SKIP LOCKED on PostgreSQL, so instances
share the work without a double; on SQLite the batch's transaction holds the write lock), and fired in that one
transaction, each follow-up's messages written to the outbox beside its change: what the batch will read is
loaded at once beforehand and what it writes goes in one statement per table (handlers.followups.prepare,
storage/appends.py). A batch stops after its HOLD seconds. On SQLite it also stops at once when a unit of work that
may write opens in this process (a report in the event loop, the sender), and the sweep waits for it to end, so
the report does not wait for the write lock; and the lock is left free for a moment after each batch, for a writer
in another process. On PostgreSQL a report needs nothing a batch holds, so the sweep goes on (stepping aside there
too made one instance take 75 s for 100,000 follow-ups instead of 38, for no gain in the reports' latency).
If one follow-up of a batch fails, the batch is rolled back and its follow-ups fired one per transaction: the
others go out, and only the one that failed waits for its retry.
Run in a worker thread (the timer's, or `tick`'s), never in the event loop.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from handlers import followups
from handlers.clock import Clock
from handlers.context import Turn
from storage.db import LOCK_GAP, Database, is_busy, is_transient, retry_conflicts
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
BATCH = 500  # the most follow-ups claimed at once
FIRST = 50  # claimed by a sweep's first batch, before it knows how long one takes
# Seconds a batch may take. On SQLite it holds the one write lock, which a writer in another process waits for
# at most the busy timeout (0.25 s). On PostgreSQL it holds only its own requests' rows, which another
# instance skips and a staff command on one of them waits out; longer batches there pay a batch's few reads and
# its round trips for more follow-ups (5,000 fired in 2.0 s instead of 3.6).
HOLD = {"sqlite": 0.05, "postgresql": 0.2}
STEP_ASIDE = 1.0  # seconds the sweep waits at most for this process's other writers before going on
BUSY_TRIES = 5  # batches in a row that found SQLite's lock taken past the busy timeout before the sweep gives up


class Sweep:
    """Fires what is due, batch by batch."""

    def __init__(self, db: Database, clock: Clock, turn: Callable[[UnitOfWork], Turn], *, batch: int = BATCH,
                 hold: float | None = None) -> None:
        self.db, self.clock, self.turn, self.batch = db, clock, turn, batch
        self.hold = hold if hold is not None else HOLD[db.engine.dialect.name]

    def __call__(self, limit: int | None = None) -> int:
        """Fire every follow-up due now (at most `limit`); return how many were fired.

        One whose request another transaction holds (a staff command, another instance) waits for the next sweep;
        a batch that lost a deadlock, or found SQLite's lock taken too long, is run again; the database going away
        stops the sweep, leaving the rest pending. Each batch claims as many as the last whole one went through
        in HOLD: claiming more would read and lock rows only to leave them, fewer would pay a batch's few queries
        for less.
        """
        fired, size, busy = 0, min(FIRST, self.batch), 0
        while limit is None or fired < limit:
            if self._in_the_way():
                self.db.wait_for_writers(STEP_ASIDE)
            started = time.monotonic()
            try:
                done = retry_conflicts(lambda: self._batch(size if limit is None else min(size, limit - fired)))
            except Exception as error:
                busy += 1
                if not is_busy(error) or busy == BUSY_TRIES:
                    raise
                time.sleep(LOCK_GAP)
                continue
            if done is None:
                break
            tried, count, whole = done
            fired, busy = fired + count, 0
            if whole:  # not cut short for another writer
                size = min(self.batch, max(FIRST, int(self.hold * tried / max(time.monotonic() - started, 1e-6))))
            if self.db.is_sqlite and not self.db.others_writing:
                time.sleep(LOCK_GAP)
        return fired

    def _in_the_way(self) -> bool:
        """Whether a writer of this process waits for what the sweep holds: on SQLite the one write lock; on
        PostgreSQL nothing it needs (a batch holds only its own rows, and the loop gets the interpreter back
        every millisecond: bot/cli.py)."""
        return self.db.is_sqlite and self.db.others_writing

    def _batch(self, size: int) -> tuple[int, int, bool] | None:
        """Claim and fire one batch: how many it went through, how many of them fired (not one an earlier one of
        the batch cancelled) and whether it went on until done or HOLD (not cut short for another writer); None
        when nothing is due."""
        now, started = self.clock.now(), time.monotonic()
        with UnitOfWork(self.db, background=True) as uow:
            rows = uow.followups.claim_due(now, size)
            if not rows:
                return None
            turn, tried, fired, whole = self.turn(uow), [], 0, True
            try:
                followups.prepare(turn, rows)
                if self._in_the_way():  # fire one at least, then make way
                    rows, whole = rows[:1], False
                for row, request in rows:
                    tried.append(row.id)
                    if row.status == "pending":  # else an earlier follow-up of this batch cancelled it
                        followups.fire(turn, row, request)
                        fired += 1
                    if self._in_the_way():
                        whole = False
                        break
                    if time.monotonic() - started > self.hold:
                        break
                uow.requests.save([request for _, request in rows])
                uow.commit()
                return len(tried), fired, whole
            except Exception as error:
                if is_transient(error):  # away, or a lost deadlock: the rows stay pending
                    raise
        return len(tried), sum(self._one(followup_id) for followup_id in tried), False

    def _one(self, followup_id: int) -> int:
        """Fire one follow-up of a batch that failed, alone; 1 if it fired, 0 if it failed (or was busy)."""
        now = self.clock.now()
        with UnitOfWork(self.db, background=True) as uow:
            rows = uow.followups.claim_due(now, 1, followup_id)
            if not rows:
                return 0
            row, request = rows[0]
            try:
                followups.fire(self.turn(uow), row, request)
                uow.commit()
                return 1
            except Exception as error:
                if is_transient(error):
                    raise
                log.exception("follow-up failed: id=%s kind=%s request=%s attempt=%s", row.id, row.kind,
                              row.request_id, row.attempts + 1)
        self._failed(followup_id, now)
        return 0

    def _failed(self, followup_id: int, now: datetime) -> None:
        with UnitOfWork(self.db, background=True) as uow:
            rows = uow.followups.claim_due(now, 1, followup_id)
            row = rows[0][0] if rows else None
            if row is not None and not uow.followups.failed(row, now):
                log.error("follow-up given up after %s attempts: id=%s kind=%s request=%s", row.attempts,
                          followup_id, row.kind, row.request_id)
            uow.commit()
