"""Follow-up rows: scheduled, claimed when due (SKIP LOCKED on PostgreSQL), finished or cancelled."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select, update

from storage.appends import Appends
from storage.models import FollowUp


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

    def claim_due(self, now: datetime, limit: int) -> list[FollowUp]:
        """Pending rows due by now, locked so a second instance skips them."""
        stmt = (select(FollowUp)
                .where(FollowUp.status == "pending", FollowUp.due_at <= now)
                .order_by(col(FollowUp.due_at), col(FollowUp.id))
                .limit(limit)
                .with_for_update(skip_locked=True))
        return list(self.session.exec(stmt))

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
