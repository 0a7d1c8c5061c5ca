"""Follow-up rows: scheduled, claimed in batches when due (SKIP LOCKED on PostgreSQL), finished, retried or
cancelled."""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, func, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, or_, select

from storage.appends import Appends
from storage.db import among, constant
from storage.fast import Prepared
from storage.models import FollowUp, Request

GIVE_UP_AFTER = 6  # failed attempts; with BACKOFF doubling that is about an hour of trying
BACKOFF = timedelta(minutes=1)
PENDING = col(FollowUp.status) == constant("pending")
_FOLLOWUP = FollowUp.__table__
# A request's own pending follow-ups are found by their request, never along the pending-rows index: that index
# is all but empty in the statistics most days, and on the day a backlog falls due a planner that chose it crossed
# the whole backlog for each request (7 ms a request at 50,000 pending: half of a 100k sweep on PostgreSQL). So
# the condition is written in a form no planner matches to the index's own (status = 'pending').
PENDING_OF_ONE = func.coalesce(_FOLLOWUP.c.status, constant("")) == constant("pending")
FINISH = Prepared(update(_FOLLOWUP).where(_FOLLOWUP.c.id == bindparam("row"))
                  .values(status=bindparam("to", type_=_FOLLOWUP.c.status.type),
                          fired_at=bindparam("at", type_=_FOLLOWUP.c.fired_at.type)))


@cache  # built once per set of kinds: they are the code's constants (handlers/schedule.py)
def _cancelling(kinds: tuple[str, ...]) -> Prepared:
    """The change that cancels a request's pending follow-ups of these kinds, run once per request."""
    return Prepared(update(_FOLLOWUP).where(_FOLLOWUP.c.request_id == bindparam("request"), PENDING_OF_ONE,
                                            among(_FOLLOWUP.c.kind, kinds))
                    .values(status="cancelled"))


class FollowUpRepository:
    """Follow-ups of one unit of work."""

    def __init__(self, session: Session, appends: Appends) -> None:
        self.session, self.appends = session, appends
        # The rows this unit of work read, by request and id, and those it queued, by request: cancel() marks them.
        self._held: dict[int, dict[int, FollowUp]] = {}
        self._queued: dict[int, list[dict]] = {}

    def _hold(self, rows: list[FollowUp]) -> list[FollowUp]:
        for row in rows:
            self._held.setdefault(row.request_id, {})[row.id] = row
        return rows

    def schedule(self, request_id: int, kind: str, due_at: datetime) -> None:
        """Add a pending follow-up."""
        row = self.appends.add(FollowUp, request_id=request_id, kind=kind, due_at=due_at, status="pending")
        self._queued.setdefault(request_id, []).append(row)

    def get(self, followup_id: int) -> FollowUp | None:
        """One follow-up row."""
        row = self.session.get(FollowUp, followup_id)
        return self._hold([row])[0] if row is not None else None

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
        self._hold(rows)
        requests = {request.id: request for request in self.session.exec(
            select(Request).where(col(Request.id).in_({row.request_id for row in rows}))
            .with_for_update(skip_locked=True, key_share=True))}
        return [(row, requests[row.request_id]) for row in rows if row.request_id in requests]

    def finish(self, row: FollowUp, now: datetime, status: str = "done") -> None:
        """Mark a follow-up as fired (or skipped)."""
        # Queued (storage/appends.py): a batch's rows go in one executemany. Whether before or after a cancel of
        # the same row, the row ends as this says.
        self.appends.change(FollowUp, FINISH, row=row.id, to=status, at=now)
        set_committed_value(row, "status", status)
        set_committed_value(row, "fired_at", now)

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
        # Queued (storage/appends.py): a sweep closing a hundred requests runs one executemany. It will run before
        # the rows still queued, so those scheduled before now are cancelled here; the rows this unit of work holds
        # (the sweep holds a whole batch) learn it now.
        self.appends.change(FollowUp, _cancelling(kinds), request=request_id)
        for queued in self._queued.get(request_id, ()):
            if queued["status"] == "pending" and queued["kind"] in kinds:
                queued["status"] = "cancelled"
        for row in self._held.get(request_id, {}).values():
            if row.status == "pending" and row.kind in kinds:
                set_committed_value(row, "status", "cancelled")

    def pending(self, request_id: int) -> list[FollowUp]:
        """Pending follow-ups of one request, soonest first."""
        return self._hold(list(self.session.exec(pending_of(request_id))))


def pending_of(request_id: int):
    """The query for one request's pending follow-ups, soonest first."""
    return select(FollowUp).where(FollowUp.request_id == request_id, PENDING_OF_ONE).order_by(col(FollowUp.due_at))
