"""The rows the daily digest is computed from."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import Event, Follower, Rating, Request
from storage.requests import OPEN_STATES


class Figures:
    """Read-only queries for the digest."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def filed_since(self, start: datetime) -> list[Request]:
        """Requests filed from start on."""
        return list(self.session.exec(select(Request).where(Request.created_at >= start).order_by(col(Request.id))))

    def still_open(self) -> list[Request]:
        """Requests someone still has to act on, oldest first."""
        stmt = select(Request).where(col(Request.state).in_(OPEN_STATES)).order_by(col(Request.id))
        return list(self.session.exec(stmt))

    def events_between(self, start: datetime, end: datetime, actions: tuple[str, ...]) -> list[Event]:
        """Timeline entries of these kinds in [start, end)."""
        stmt = select(Event).where(Event.at >= start, Event.at < end, col(Event.action).in_(actions))
        return list(self.session.exec(stmt))

    def ratings_between(self, start: datetime, end: datetime) -> list[Rating]:
        """Scores given in [start, end)."""
        return list(self.session.exec(select(Rating).where(Rating.at >= start, Rating.at < end)))

    def followers_since(self, start: datetime) -> list[tuple[Follower, Request]]:
        """Second reports of the same problem from start on, with the request they joined."""
        stmt = select(Follower, Request).join(Request).where(Follower.created_at >= start)
        return list(self.session.exec(stmt))
