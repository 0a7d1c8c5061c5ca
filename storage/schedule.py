"""Follow-up rows: scheduled, claimed when due (SKIP LOCKED on PostgreSQL), finished or cancelled."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select, update

from storage.appends import Appends
from storage.models import FollowUp, Request


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

    def claim_next(self, now: datetime, passed: set[int]) -> tuple[int | None, FollowUp | None]:
        """The next pending row due by now and not in `passed` (its id), and the row itself, locked; the row is
        None when another transaction holds it or its request.

        The request is locked before the follow-up, in the order every staff command takes them (it changes the
        request, then cancels its follow-ups), so the sweep and a command never deadlock; SKIP LOCKED makes a
        second instance pass over what the first is firing.
        """
        due = (select(FollowUp.id, FollowUp.request_id)
               .where(FollowUp.status == "pending", FollowUp.due_at <= now, col(FollowUp.id).not_in(passed))
               .order_by(col(FollowUp.due_at), col(FollowUp.id))
               .limit(1))
        found = self.session.exec(due).first()
        if found is None:
            return None, None
        followup_id, request_id = found
        request = select(Request.id).where(Request.id == request_id).with_for_update(skip_locked=True, key_share=True)
        if self.session.exec(request).first() is None:
            return followup_id, None
        row = (select(FollowUp).where(FollowUp.id == followup_id, FollowUp.status == "pending")
               .with_for_update(skip_locked=True))
        return followup_id, self.session.exec(row).first()

    def finish(self, row: FollowUp, now: datetime, status: str = "done") -> None:
        """Mark a follow-up as fired (or skipped)."""
        row.status, row.fired_at = status, now
        self.session.add(row)

    def cancel(self, request_id: int, kinds: tuple[str, ...]) -> None:
        """Cancel pending follow-ups of these kinds: the request has moved past them."""
        self.session.exec(
            update(FollowUp)
            .where(FollowUp.request_id == request_id, FollowUp.status == "pending", col(FollowUp.kind).in_(kinds))
            .values(status="cancelled"))

    def pending(self, request_id: int) -> list[FollowUp]:
        """Pending follow-ups of one request, soonest first."""
        stmt = (select(FollowUp).where(FollowUp.request_id == request_id, FollowUp.status == "pending")
                .order_by(col(FollowUp.due_at)))
        return list(self.session.exec(stmt))
