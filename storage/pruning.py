"""History that is kept, but not in the hot tables: old sent messages, finished follow-ups and ledger rows go.

Requests, their events (the audit trail) and ratings are never deleted. Each call deletes one small batch in the
caller's transaction, so a daily job holds SQLite's write lock a few milliseconds at a time. The outbox and the
follow-ups are walked along their primary key in ranges (their ids grow with time), which needs no index on a
time column that every insert would pay for; the message ledger has one (its key is the platform's).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, text, tuple_
from sqlmodel import Session

from storage.db import among
from storage.models import FollowUp, Outbox, ProcessedMessage

_OUTBOX, _FOLLOWUP, _LEDGER = Outbox.__table__, FollowUp.__table__, ProcessedMessage.__table__
FINISHED_MESSAGES = ("sent", "failed")  # 'held' and unsent ones wait for someone and stay
FINISHED_FOLLOWUPS = ("done", "cancelled", "failed")


class Retention:
    """Pruning of one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def first_ids(self) -> tuple[int, int]:
        """Where the walks along the outbox and the follow-ups start: their lowest ids (0 when empty)."""
        outbox = self.session.execute(select(func.coalesce(func.min(_OUTBOX.c.id), 0))).scalar()
        followups = self.session.execute(select(func.coalesce(func.min(_FOLLOWUP.c.id), 0))).scalar()
        return outbox, followups

    def sent_messages(self, before: datetime, start: int, span: int) -> tuple[int, bool]:
        """Delete finished outbox rows created before `before` with ids in [start, start + span); return how many,
        and whether the walk may go on (the range held no row as new as `before`, and rows lie beyond it)."""
        rows = _OUTBOX.c.id.between(start, start + span - 1)
        newer = self.session.execute(select(func.count()).where(rows, _OUTBOX.c.created_at >= before)).scalar()
        deleted = self.session.execute(delete(_OUTBOX).where(
            rows, _OUTBOX.c.created_at < before, among(_OUTBOX.c.status, FINISHED_MESSAGES))).rowcount
        beyond = self.session.execute(select(_OUTBOX.c.id).where(_OUTBOX.c.id >= start + span).limit(1)).first()
        return deleted, not newer and beyond is not None

    def finished_followups(self, before: datetime, start: int, span: int) -> tuple[int, bool]:
        """Delete fired, cancelled or failed follow-ups due before `before` with ids in [start, start + span);
        return how many, and whether rows lie beyond the range (a follow-up is scheduled days ahead, so its id
        says little of its due time: the walk goes to the end)."""
        rows = _FOLLOWUP.c.id.between(start, start + span - 1)
        deleted = self.session.execute(delete(_FOLLOWUP).where(
            rows, _FOLLOWUP.c.due_at < before, among(_FOLLOWUP.c.status, FINISHED_FOLLOWUPS))).rowcount
        beyond = self.session.execute(select(_FOLLOWUP.c.id).where(_FOLLOWUP.c.id >= start + span).limit(1)).first()
        return deleted, beyond is not None

    def handled_messages(self, before: datetime, limit: int) -> int:
        """Delete up to `limit` ledger rows of platform messages handled before `before`; return how many."""
        old = select(_LEDGER.c.channel, _LEDGER.c.message_id).where(_LEDGER.c.at < before).limit(limit)
        return self.session.execute(delete(_LEDGER).where(
            tuple_(_LEDGER.c.channel, _LEDGER.c.message_id).in_(old))).rowcount

    def refresh_statistics(self) -> None:
        """Bring the query planner's statistics up to date (ANALYZE). On SQLite it samples (analysis_limit), so
        it holds the write lock milliseconds, not seconds; `PRAGMA optimize` would analyze only tables its own
        connection has queried, and a pooled connection may have queried none."""
        if self.session.get_bind().dialect.name == "sqlite":
            self.session.execute(text("PRAGMA analysis_limit=1000"))
        self.session.execute(text("ANALYZE"))
