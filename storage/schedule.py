"""Follow-up rows: scheduled, claimed in batches when due (SKIP LOCKED on PostgreSQL), finished, retried or
cancelled."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, or_, select

from storage.appends import Appends
from storage.db import constant
from storage.models import FollowUp, Request

GIVE_UP_AFTER = 6  # failed attempts; with BACKOFF doubling that is about an hour of trying
BACKOFF = timedelta(minutes=1)
PENDING = col(FollowUp.status) == constant("pending")


class FollowUpRepository:
    """Follow-ups of one unit of work."""

    def __init__(self, session: Session, appends: Appends) -> None:
        self.session, self.appends = session, appends

    def schedule(self, request_id: int, kind: str, due_at: datetime) -> None:
        """Add a pending follow-up."""
        self.appends.add(FollowUp, request_id=request_id, kind=kind, due_at=due_at, status="pending")

    def get(self, followup_id: int) -> FollowUp | None:
        """One follow-up row."""
        return self.session.get(FollowUp, followup_id)

    def claim_due(self, now: datetime, limit: int, followup_id: int | None = None) -> list[tuple[FollowUp, Request]]:
        """Up to `limit` pending rows due by now and not waiting for a retry (or just the one with this id), soonest
        first, each with its request, both locked; rows another transaction holds, or whose request it holds, are
        passed over (those whose request is busy stay locked, unfired, until this transaction ends).

        The follow-ups are claimed by one statement along the pending-rows index, so the LIMIT stops the scan
        however many are due; their requests by a second. Both SKIP LOCKED: the sweep never waits for a lock, so it
        can take no part in a deadlock with a staff command (which changes the request, then cancels its
        follow-ups), and a second instance passes over what the first is firing. On SQLite the transaction holds
        the database's write lock (BEGIN IMMEDIATE), which is the claim.
        """
        due = [PENDING, FollowUp.due_at <= now, or_(col(FollowUp.retry_at).is_(None), col(FollowUp.retry_at) <= now)]
        if followup_id is not None:
            due.append(FollowUp.id == followup_id)
        rows = list(self.session.exec(
            select(FollowUp).where(*due).order_by(col(FollowUp.due_at), col(FollowUp.id)).limit(limit)
            .with_for_update(skip_locked=True, key_share=True)))
        if not rows:
            return []
        requests = {request.id: request for request in self.session.exec(
            select(Request).where(col(Request.id).in_({row.request_id for row in rows}))
            .with_for_update(skip_locked=True, key_share=True))}
        return [(row, requests[row.request_id]) for row in rows if row.request_id in requests]

    def finish(self, row: FollowUp, now: datetime, status: str = "done") -> None:
        """Mark a follow-up as fired (or skipped)."""
        row.status, row.fired_at = status, now
        self.session.add(row)

    def failed(self, row: FollowUp, now: datetime) -> bool:
        """Firing failed: try again later, waiting twice as long each time; False once it is given up (failed)."""
        row.attempts += 1
        if row.attempts >= GIVE_UP_AFTER:
            self.finish(row, now, status="failed")
            return False
        row.retry_at = now + BACKOFF * 2 ** (row.attempts - 1)
        self.session.add(row)
        return True

    def cancel(self, request_id: int, kinds: tuple[str, ...]) -> None:
        """Cancel pending follow-ups of these kinds: the request has moved past them."""
        table = FollowUp.__table__
        cancelled = self.session.execute(
            table.update()
            .where(table.c.request_id == request_id, table.c.status == "pending", table.c.kind.in_(kinds))
            .values(status="cancelled").returning(table.c.id)).scalars()
        # The rows this session holds (the sweep holds a whole batch) learn it by id; the ORM's own
        # synchronisation would test every row the session holds.
        for followup_id in cancelled:
            row = self.session.identity_map.get(self.session.identity_key(FollowUp, followup_id))
            if row is not None:
                set_committed_value(row, "status", "cancelled")

    def pending(self, request_id: int) -> list[FollowUp]:
        """Pending follow-ups of one request, soonest first."""
        stmt = (select(FollowUp).where(FollowUp.request_id == request_id, FollowUp.status == "pending")
                .order_by(col(FollowUp.due_at)))
        return list(self.session.exec(stmt))
