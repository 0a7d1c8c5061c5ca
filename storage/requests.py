"""Requests, their followers, timeline and ratings, looked up by what the handlers mean."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from storage import fast
from storage.appends import Appends
from storage.db import among
from storage.fast import Prepared
from storage.lists import OPEN_STATES, RequestLists
from storage.models import Event, Follower, Rating, Request

# Run for every report, so built once with bound parameters, for columns only: most reports find nothing.
_REQUEST = Request.__table__
MAX_ID = 2**31 - 1  # request ids are INTEGER on PostgreSQL
OPEN_LIKE = Prepared(
    select(_REQUEST.c.id, _REQUEST.c.unit)
    .where(among(_REQUEST.c.state, OPEN_STATES), _REQUEST.c.kind == "complaint",
           _REQUEST.c.category == bindparam("category"),
           _REQUEST.c.building == bindparam("building"), _REQUEST.c.created_at >= bindparam("since"),
           _REQUEST.c.duplicate_of.is_(None))
    .order_by(_REQUEST.c.id))


class RequestRepository(RequestLists):
    """Requests of one unit of work."""

    def __init__(self, session: Session, appends: Appends) -> None:
        self.session, self.appends = session, appends
        # What a batch of follow-ups will ask of its requests, read at once by preload_*; empty otherwise, and
        # forgotten for a request the moment this unit of work changes it.
        self._followers: dict[int, list[int]] = {}
        self._rated: dict[int, set[tuple[int, int]]] = {}
        self._timelines: dict[int, list[Event]] = {}

    def preload_raters(self, numbers: list[int]) -> None:
        """Read at once who follows these requests and who rated them, for asking each one's raters (two queries)."""
        if not numbers:
            return
        followers: dict[int, list[int]] = {number: [] for number in numbers}
        stmt = (select(Follower.request_id, Follower.person_id).where(col(Follower.request_id).in_(numbers))
                .order_by(col(Follower.created_at)))
        for number, person_id in self.session.exec(stmt):
            followers[number].append(person_id)
        rated: dict[int, set[tuple[int, int]]] = {number: set() for number in numbers}
        stmt = select(Rating.request_id, Rating.person_id, Rating.round).where(col(Rating.request_id).in_(numbers))
        for number, person_id, rating_round in self.session.exec(stmt):
            rated[number].add((person_id, rating_round))
        self._followers.update(followers)
        self._rated.update(rated)

    def preload_timelines(self, numbers: list[int]) -> None:
        """Read the timelines of these requests at once (one query)."""
        if not numbers:
            return
        timelines: dict[int, list[Event]] = {number: [] for number in numbers}
        stmt = select(Event).where(col(Event.request_id).in_(numbers)).order_by(col(Event.at), col(Event.id))
        for event in self.session.exec(stmt):
            timelines[event.request_id].append(event)
        self._timelines.update(timelines)

    def new(self, **fields: Any) -> Request:
        """A request not stored yet: give it its assignee, then add() it."""
        return fast.build(Request, **fields)

    def add(self, request: Request) -> Request:
        """Store a new request and give it its number."""
        fast.add(self.session, request)  # one INSERT … RETURNING rather than the ORM's flush: every report pays
        return request

    def save(self, requests: list[Request]) -> None:
        """Write the changes of many requests now, one statement for all changed alike (a batch of follow-ups)."""
        fast.save_changes(self.session, requests)

    def get(self, number: int) -> Request | None:
        """The request with this number, locked for update where the backend can; None for a number no id can be
        (0, -1, or one too big for the column: people type them, and the database would raise rather than find)."""
        if not 0 < number <= MAX_ID:
            return None
        stmt = select(Request).where(Request.id == number).with_for_update()
        return self.session.exec(stmt).first()

    def open_like(self, category: str, building: str, unit: str | None, since: datetime) -> list[Request]:
        """Open complaints of the same category in the same building (and unit, where both give one), oldest first:
        those a new report may be one more of."""
        params = {"category": category, "building": building, "since": since}
        return [self.session.get(Request, number) for number, found_unit in OPEN_LIKE.rows(self.session, params)
                if unit is None or found_unit is None or found_unit == unit]

    def open_complaints_in(self, building: str, since: datetime) -> list[Request]:
        """Open complaints filed in a building since then, newest first (an index search: open ones only)."""
        stmt = (select(Request).where(among(col(Request.state), OPEN_STATES), Request.building == building,
                                      Request.kind == "complaint", Request.created_at >= since)
                .order_by(col(Request.created_at).desc()).limit(5))
        return list(self.session.exec(stmt))

    def reopened_by_score_of(self, person_id: int, since: datetime) -> Request | None:
        """The request this person reopened with a low score since then, still reopened; the newest if several."""
        stmt = (select(Request).join(Rating, col(Rating.request_id) == Request.id)
                .where(col(Rating.at) >= since, Rating.person_id == person_id, Request.reporter_id == person_id,
                       Request.state == "reopened", Rating.round == Request.rating_round)
                .order_by(col(Rating.at).desc()).limit(1))
        return self.session.exec(stmt).first()

    def follower_ids(self, number: int) -> list[int]:
        """Who follows a request, in the order they joined."""
        if number in self._followers:
            return list(self._followers[number])
        stmt = select(Follower.person_id).where(Follower.request_id == number).order_by(col(Follower.created_at))
        return list(self.session.exec(stmt))

    def follow(self, number: int, person_id: int, at: datetime) -> bool:
        """Make a person a follower; False when they already were."""
        if self.session.get(Follower, (number, person_id)):
            return False
        self._followers.pop(number, None)
        self.session.add(Follower(request_id=number, person_id=person_id, created_at=at))
        return True

    def hand_to(self, request: Request, person_id: int) -> None:
        """Make a follower the request's reporter (its reporter withdrew): he owns it now, and no longer follows it."""
        row = self.session.get(Follower, (request.id, person_id))
        if row is not None:
            self.session.delete(row)
        self._followers.pop(request.id, None)
        request.reporter_id = person_id

    def record(self, request: Request, action: str, at: datetime, *, actor_id: int | None = None,
               note: str | None = None, **data: Any) -> None:
        """Append an entry to the request's timeline and touch the request."""
        if request.updated_at != at:  # an unchanged request stays clean, so the next query needs no flush
            request.updated_at = at
        if request not in self.session:  # add() of one it holds would still walk its cascades: the sweep's hot path
            self.session.add(request)
        self._timelines.pop(request.id, None)
        self.appends.add(Event, request_id=request.id, at=at, actor_id=actor_id, action=action, note=note, data=data)

    def timeline(self, number: int) -> list[Event]:
        """The request's events, oldest first."""
        if number in self._timelines:
            return list(self._timelines[number])
        stmt = select(Event).where(Event.request_id == number).order_by(col(Event.at), col(Event.id))
        return list(self.session.exec(stmt))

    def points_of(self, person_id: int) -> int:
        """The points a volunteer has earned in all (one entry per claimed or fulfilled micro-wish)."""
        stmt = select(Event.data).where(Event.action == "points", Event.actor_id == person_id)
        return sum(int((data or {}).get("points", 0)) for data in self.session.exec(stmt))

    def has_rated(self, number: int, person_id: int, rating_round: int) -> bool:
        """Whether this person rated this request in this rating round (since that 办结)."""
        if number in self._rated:
            return (person_id, rating_round) in self._rated[number]
        stmt = select(Rating.id).where(Rating.request_id == number, Rating.person_id == person_id,
                                       Rating.round == rating_round)
        return self.session.exec(stmt).first() is not None

    def add_rating(self, rating: Rating) -> None:
        """Store one person's score."""
        self._rated.pop(rating.request_id, None)
        self.session.add(rating)
