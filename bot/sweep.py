"""The follow-up sweep: due follow-ups fired in batches, many per transaction; one that fails is retried later.

A batch is claimed along the pending-rows index, its requests with it (SKIP LOCKED on PostgreSQL, so instances
share the work without a double; on SQLite the batch's transaction holds the write lock), and fired in that one
transaction, each follow-up's messages written to the outbox beside its change. A batch stops taking more after
HOLD seconds, and on SQLite the lock is then left free for a moment, so a report that arrives meanwhile waits for
it some tens of milliseconds, never the busy timeout. If one follow-up of a batch fails, the batch is rolled back
and its follow-ups fired one per transaction: the others go out, and only the one that failed waits for its
retry. Run in a worker thread (the timer's, or `tick`'s), never in the event loop.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from handlers import followups
from handlers.clock import Clock
from handlers.context import Turn
from storage.db import LOCK_GAP, Database, is_transient, retry_conflicts
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
BATCH = 200  # follow-ups claimed at once
HOLD = 0.05  # seconds a batch goes on firing; SQLite's busy timeout is 0.25 s


class Sweep:
    """Fires what is due, batch by batch."""

    def __init__(self, db: Database, clock: Clock, turn: Callable[[UnitOfWork], Turn], *, batch: int = BATCH) -> None:
        self.db, self.clock, self.turn, self.batch = db, clock, turn, batch

    def __call__(self, limit: int | None = None) -> int:
        """Fire every follow-up due now (at most `limit`); return how many were fired.

        One whose request another transaction holds (a staff command, another instance) waits for the next sweep;
        a batch that lost a deadlock is run again; the database going away stops the sweep, leaving the rest
        pending.
        """
        fired = 0
        while limit is None or fired < limit:
            count = retry_conflicts(lambda: self._batch(self.batch if limit is None else min(self.batch, limit - fired)))
            if count is None:
                break
            fired += count
            if self.db.is_sqlite:
                time.sleep(LOCK_GAP)
        return fired

    def _batch(self, size: int) -> int | None:
        """Claim and fire one batch; None when nothing is due."""
        now = self.clock.now()
        with UnitOfWork(self.db) as uow:
            rows = uow.followups.claim_due(now, size)
            if not rows:
                return None
            turn, started, tried = self.turn(uow), time.monotonic(), []
            try:
                for row, request in rows:
                    tried.append(row.id)
                    if row.status == "pending":  # else an earlier follow-up of this batch cancelled it
                        followups.fire(turn, row, request)
                    if time.monotonic() - started > HOLD:
                        break
                uow.commit()
                return len(tried)
            except Exception as error:
                if is_transient(error):  # away, or a lost deadlock: the rows stay pending
                    raise
        return sum(self._one(followup_id) for followup_id in tried)

    def _one(self, followup_id: int) -> int:
        """Fire one follow-up of a batch that failed, alone; 1 if it fired, 0 if it failed (or was busy)."""
        now = self.clock.now()
        with UnitOfWork(self.db) as uow:
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
        with UnitOfWork(self.db) as uow:
            rows = uow.followups.claim_due(now, 1, followup_id)
            row = rows[0][0] if rows else None
            if row is not None and not uow.followups.failed(row, now):
                log.error("follow-up given up after %s attempts: id=%s kind=%s request=%s", row.attempts,
                          followup_id, row.kind, row.request_id)
            uow.commit()
