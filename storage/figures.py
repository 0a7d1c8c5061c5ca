"""Figures of the community for the digest (and the web workbench), computed by the database.

Every aggregate here is one indexed query whose cost grows with what it counts (a day's events, the 30-day
window, the open backlog) and whose result has one row per group (grid × assignee, building × category),
never with the whole of history; the only rows read as objects are a page of a list (`most_overdue`).

Public functions and what they return:
  filed_between(start, end)             -> int: requests filed in [start, end)
  actions_between(start, end, actions)  -> dict[action, int]: timeline entries of these kinds in [start, end)
  scores_between(start, end, satisfied) -> (given, satisfied): scores given in [start, end), and those >= satisfied
  backlog(now)                          -> (open, overdue): requests someone must act on, and those past a deadline
  most_overdue(now, limit, offset)      -> list[Request]: open and overdue, the longest overdue first (a page)
  urgent_since(start, limit)            -> (list[Request], int): urgent requests filed since start, newest first
  tallies(start, end, now, not_counted) -> list[Tally]: per (grid, assignee), requests filed in [start, end)
  reports_by_place(start, end)          -> dict[(building, category), int]: reports and second reports (followers)
The row-level readers `filed_since`, `still_open`, `events_between`, `ratings_between` and `followers_since` are
kept for exports; each takes a `limit`, and reads whole history without one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, and_, case, cast, false, func, not_, or_
from sqlmodel import Session, col, select

from storage.db import among
from storage.lists import OPEN_STATES, overdue_at, overdue_since
from storage.models import Event, Follower, Rating, Request

RESOLVED = ("done", "closed")


def _count(condition):
    return func.coalesce(func.sum(cast(case((condition, 1), else_=0), Integer)), 0)


@dataclass(frozen=True)
class Tally:
    """Requests of one grid and one assignee filed in a window: how many, and where they stand now.

    due: those whose respond-by had passed by the window's end or were claimed; in_time: claimed by respond-by."""

    grid: str | None
    assignee_id: int | None
    filed: int
    done: int
    open: int
    overdue: int
    due: int
    in_time: int


class Figures:
    """Read-only queries for the digest and the workbench's figures."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def filed_between(self, start: datetime, end: datetime) -> int:
        """How many requests were filed in [start, end), whatever became of them."""
        stmt = select(func.count()).select_from(Request).where(Request.created_at >= start, Request.created_at < end)
        return self.session.exec(stmt).one()

    def actions_between(self, start: datetime, end: datetime, actions: tuple[str, ...]) -> dict[str, int]:
        """How many timeline entries of each of these kinds fall in [start, end) (kinds with none are left out)."""
        stmt = (select(Event.action, func.count()).where(among(col(Event.action), actions), Event.at >= start,
                                                         Event.at < end).group_by(Event.action))
        return dict(self.session.exec(stmt).all())

    def scores_between(self, start: datetime, end: datetime, satisfied_from: int,
                       grids: tuple[str, ...] | None = None) -> tuple[int, int]:
        """How many scores were given in [start, end) (to requests of these grids; None: all), and how many of
        them were satisfied_from or more."""
        stmt = select(func.count(), _count(Rating.score >= satisfied_from)).where(Rating.at >= start, Rating.at < end)
        if grids is not None:  # a grid member's workbench: her grids' satisfaction
            stmt = stmt.join(Request, col(Request.id) == Rating.request_id).where(
                among(col(Request.grid), grids) if grids else false())
        given, satisfied = self.session.exec(stmt).one()
        return given, satisfied

    def backlog(self, now: datetime) -> tuple[int, int]:
        """How many requests are open (someone must act), and how many of those are past a deadline at now."""
        stmt = (select(func.count(), _count(overdue_at(now))).select_from(Request)
                .where(among(col(Request.state), OPEN_STATES)))
        open_, overdue = self.session.exec(stmt).one()
        return open_, overdue

    def urgent_since(self, start: datetime, limit: int) -> tuple[list[Request], int]:
        """Urgent requests filed since then, the newest first (at most limit), and how many in all: along the
        filing-time index, a day's requests."""
        since = (col(Request.created_at) >= start, col(Request.urgent))
        total = self.session.exec(select(func.count()).select_from(Request).where(*since)).one()
        # Newest by filing time, not by number: ordered by number SQLite walks every request from the newest.
        rows = self.session.exec(select(Request).where(*since).order_by(col(Request.created_at).desc()).limit(limit))
        return list(rows), total

    def most_overdue(self, now: datetime, limit: int, offset: int = 0) -> list[Request]:
        """One page of the open requests past a deadline, the longest overdue first (then the oldest number)."""
        # The page's numbers first, from the backlog index alone; then those rows, and no other, read whole.
        page = (select(Request.id).where(overdue_at(now)).order_by(overdue_since(), col(Request.id))
                .offset(offset).limit(limit))
        stmt = select(Request).where(col(Request.id).in_(page)).order_by(overdue_since(), col(Request.id))
        return list(self.session.exec(stmt))

    def tallies(self, start: datetime, end: datetime, now: datetime, not_counted: tuple[str, ...]) -> list[Tally]:
        """Per grid and assignee, the requests filed in [start, end) whose state is not one of not_counted:
        filed, done or closed, open, overdue at now, due for a claim by `end`, claimed in time."""
        stmt = (select(Request.grid, Request.assignee_id, func.count(),
                       _count(among(col(Request.state), RESOLVED)),
                       _count(among(col(Request.state), OPEN_STATES)),
                       _count(overdue_at(now)),
                       _count(or_(col(Request.responded_at).is_not(None), Request.respond_by < end)),
                       _count(and_(col(Request.responded_at).is_not(None), Request.responded_at <= Request.respond_by)))
                .where(Request.created_at >= start, Request.created_at < end,
                       not_(among(col(Request.state), not_counted)))
                .group_by(Request.grid, Request.assignee_id))
        return [Tally(*row) for row in self.session.exec(stmt)]

    def reports_by_place(self, start: datetime, end: datetime) -> dict[tuple[str | None, str], int]:
        """Per (building, category), the reports filed in [start, end) (merged ones left out: their reporters
        became followers) and the second reports (followers who joined) in that time."""
        filed = (select(Request.building, Request.category, func.count())
                 .where(Request.created_at >= start, Request.created_at < end, Request.state != "merged")
                 .group_by(Request.building, Request.category))
        joined = (select(Request.building, Request.category, func.count())
                  .select_from(Follower).join(Request, col(Request.id) == Follower.request_id)
                  .where(Follower.created_at >= start, Follower.created_at < end)
                  .group_by(Request.building, Request.category))
        reports: dict[tuple[str | None, str], int] = {}
        for stmt in (filed, joined):
            for building, category, count in self.session.exec(stmt):
                reports[building, category] = reports.get((building, category), 0) + count
        return reports

    def filed_since(self, start: datetime, limit: int | None = None) -> list[Request]:
        """Requests filed from start on, oldest first (at most limit)."""
        stmt = select(Request).where(Request.created_at >= start).order_by(col(Request.id)).limit(limit)
        return list(self.session.exec(stmt))

    def still_open(self, limit: int | None = None) -> list[Request]:
        """Requests someone still has to act on, oldest first (at most limit)."""
        stmt = select(Request).where(col(Request.state).in_(OPEN_STATES)).order_by(col(Request.id)).limit(limit)
        return list(self.session.exec(stmt))

    def events_between(self, start: datetime, end: datetime, actions: tuple[str, ...],
                       limit: int | None = None) -> list[Event]:
        """Timeline entries of these kinds in [start, end) (at most limit)."""
        stmt = select(Event).where(Event.at >= start, Event.at < end, col(Event.action).in_(actions)).limit(limit)
        return list(self.session.exec(stmt))

    def ratings_between(self, start: datetime, end: datetime, limit: int | None = None) -> list[Rating]:
        """Scores given in [start, end) (at most limit)."""
        return list(self.session.exec(select(Rating).where(Rating.at >= start, Rating.at < end).limit(limit)))

    def followers_since(self, start: datetime, limit: int | None = None) -> list[tuple[Follower, Request]]:
        """Second reports of the same problem from start on, with the request they joined (at most limit)."""
        stmt = select(Follower, Request).join(Request).where(Follower.created_at >= start).limit(limit)
        return list(self.session.exec(stmt))
