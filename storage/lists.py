"""Lists of requests: hers (我的诉求), a staff member's work, hers awaiting a score; and open and overdue in SQL."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, union
from sqlmodel import Session, and_, case, col, exists, func, or_, select

from storage.db import among
from storage.models import Event, Follower, Rating, Request

OPEN_STATES = ("new", "assigned", "claimed", "reopened")


def overdue_at(now: datetime):
    """handlers.digest.overdue in SQL: open, and past respond-by without a claim or past resolve-by."""
    return and_(among(col(Request.state), OPEN_STATES),
                or_(and_(col(Request.responded_at).is_(None), Request.respond_by < now), Request.resolve_by < now))


def overdue_since():
    """handlers.digest.overdue_since in SQL, for an overdue request: the earlier deadline it missed."""
    return case((and_(col(Request.responded_at).is_(None), Request.respond_by < Request.resolve_by),
                 Request.respond_by), else_=Request.resolve_by)


def _own_ids(person_id: int):
    """The numbers of the requests a person reported or follows: two index lookups (reporter, follower), never a
    scan of requests."""
    return (select(Request.id).where(Request.reporter_id == person_id)
            .union(select(Follower.request_id).where(Follower.person_id == person_id)))


class RequestLists:
    """The lists of requests a unit of work reads: one part of storage.requests.RequestRepository, on its session."""

    session: Session

    def open_own_since(self, person_id: int, since: datetime) -> list[Request]:
        """Her open requests (reported or followed) filed since then, newest first; two index lookups, as own_page."""
        return self.own_since(person_id, since, OPEN_STATES)

    def own_since(self, person_id: int, since: datetime, states: tuple[str, ...] | None = None) -> list[Request]:
        """Her requests (reported or followed) filed since then, in these states (any when None), newest first."""
        stmt = select(Request).where(col(Request.id).in_(_own_ids(person_id)), Request.created_at >= since)
        if states is not None:
            stmt = stmt.where(among(col(Request.state), states))
        return list(self.session.exec(stmt.order_by(col(Request.created_at).desc(), col(Request.id).desc())))

    def own_page(self, person_id: int, now: datetime, *, page: int = 1, size: int = 10) -> tuple[list[Request], int]:
        """One page of a resident's own requests and those she follows, overdue first, then the newest; and how
        many there are in all. Her ids come from two index lookups (reporter, follower), never a scan of requests."""
        mine = _own_ids(person_id)
        total = self.session.exec(select(func.count()).select_from(mine.subquery())).one()
        stmt = (select(Request).where(col(Request.id).in_(mine))
                .order_by(case((overdue_at(now), 0), else_=1), col(Request.id).desc())
                .offset((page - 1) * size).limit(size))
        return list(self.session.exec(stmt)), total

    def work_of(self, person_id: int, now: datetime, *, escalated_from: int | None = None, unplaced: bool = False,
                overdue: bool = False, page: int = 1, size: int = 10) -> tuple[list[Request], int]:
        """One page of a staff member's work list, and how many it holds in all: what is assigned to them, and
        open requests escalated to level `escalated_from` or higher, with no place yet, or past a deadline.
        Open urgent ones first (a person trapped in a lift before a light bulb due tomorrow), then the overdue,
        the longest overdue first (as 超时 lists them), then the newest.

        Each part is its own index search giving numbers and whether each is late (a UNION, not an OR, which
        SQLite answers with a scan of every request); only the page's rows are read whole."""
        working = among(col(Request.state), OPEN_STATES)
        late = overdue_at(now)
        rank = case((and_(working, col(Request.urgent)), 0), (late, 1), else_=2).label("rank")
        since = case((late, overdue_since()), else_=bindparam("now", now)).label("since")
        # ties among the overdue as 超时 breaks them (the oldest number first); the rest, the newest first
        tie = case((late, Request.id), else_=-Request.id).label("tie")
        parts = [and_(Request.assignee_id == person_id, among(col(Request.state), OPEN_STATES + ("done",)))]
        if escalated_from is not None:
            parts.append(and_(working, Request.level >= escalated_from))
        if unplaced:
            parts.append(and_(working, col(Request.building).is_(None)))
        if overdue:
            parts.append(late)
        work = union(*(select(Request.id, rank, since, tie).where(part) for part in parts)).subquery()
        # The page's numbers and the count of all in one pass over the index entries (a window count).
        numbered = self.session.exec(select(work.c.id, func.count().over())
                                     .order_by(work.c.rank, work.c.since, work.c.tie)
                                     .offset((page - 1) * size).limit(size)).all()
        if not numbered:  # past the end: only the count is wanted
            return [], self.session.exec(select(func.count()).select_from(work)).one()
        order = {number: i for i, (number, _) in enumerate(numbered)}
        rows = self.session.exec(select(Request).where(col(Request.id).in_(list(order))))
        return sorted(rows, key=lambda request: order[request.id]), numbered[0][1]
    def awaiting_rating_from(self, person_id: int, done_since: datetime | None = None) -> list[Request]:
        """Done requests this person reported or follows and has not rated since their last 办结, the most recently
        asked first; with `done_since`, also those she follows that their reporter closed with a score after a
        办结 since then (every follower asked may still rate)."""
        rated = exists().where(Rating.request_id == Request.id, Rating.person_id == person_id,
                               Rating.round == Request.rating_round)
        waiting = Request.state == "done"
        if done_since is not None:
            waiting = or_(waiting, and_(Request.state == "closed", col(Request.rating).is_not(None),
                                        Request.reporter_id != person_id, col(Request.done_at) >= done_since))
        # Done in the same minute (the console's clock stands still): the later 办结 asked later.
        last_done = (select(func.max(Event.id)).where(Event.request_id == Request.id, Event.action == "done")
                     .scalar_subquery())
        stmt = (select(Request)
                .where(waiting, ~rated, col(Request.id).in_(_own_ids(person_id)))
                .order_by(col(Request.done_at).desc(), last_done.desc()))
        return list(self.session.exec(stmt))
