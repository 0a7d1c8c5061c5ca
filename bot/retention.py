"""The daily pruning job: history older than `schedule.keep_history` leaves the hot tables in small batches, then
the planner's statistics are refreshed. Run in a worker thread (the timer's); each batch is its own transaction."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from handlers.clock import Clock
from storage.db import LOCK_GAP, Database, retry_conflicts
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
BATCH = 500  # rows (or ids walked) per transaction: a few milliseconds of SQLite's write lock


def prune(db: Database, clock: Clock, keep: timedelta, batch: int = BATCH) -> dict[str, int]:
    """Delete sent messages, finished follow-ups and ledger rows older than `keep`; return how many of each."""
    before = clock.now() - keep
    with UnitOfWork(db) as uow:
        outbox_start, followup_start = uow.retention.first_ids()
    deleted = {"outbox": _walk(db, lambda r, start: r.sent_messages(before, start, batch), outbox_start, batch),
               "followup": _walk(db, lambda r, start: r.finished_followups(before, start, batch), followup_start,
                                 batch),
               "ledger": _repeat(db, lambda r: r.handled_messages(before, batch), batch)}
    with UnitOfWork(db) as uow:
        uow.retention.refresh_statistics()
        uow.commit()
    log.info("pruned history before %s: %s", before.date(), deleted)
    return deleted


def _walk(db: Database, step: Callable, start: int, span: int) -> int:
    total, going_on = 0, True
    while going_on:
        deleted, going_on = _transaction(db, lambda r: step(r, start))
        total, start = total + deleted, start + span
    return total


def _repeat(db: Database, step: Callable, batch: int) -> int:
    total, deleted = 0, batch
    while deleted == batch:
        deleted = _transaction(db, step)
        total += deleted
    return total


def _transaction(db: Database, step: Callable):
    def work():
        with UnitOfWork(db) as uow:
            result = step(uow.retention)
            uow.commit()
            return result
    result = retry_conflicts(work)
    if db.is_sqlite:
        time.sleep(LOCK_GAP)
    return result
