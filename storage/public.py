"""What may be published about requests (the Open311 API): only columns that carry no personal data.

The resident's words, her flat, who reported or follows, and staff notes are not selected at all, so nothing a
caller does with these rows can leak them.
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlmodel import Session

from storage.models import Request
from storage.requests import MAX_ID

_R = Request.__table__


class PublicRequest(NamedTuple):
    """A request as the public may see it: what, where to the unit, how far along, and its times."""

    id: int
    kind: str
    category: str
    state: str
    level: int
    building: str | None
    unit: str | None
    grid: str | None
    duplicate_of: int | None
    created_at: datetime
    updated_at: datetime
    resolve_by: datetime


_COLUMNS = [_R.c[name] for name in PublicRequest._fields]


class PublicRequests:
    """Published requests of one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_numbers(self, numbers: Collection[int]) -> list[PublicRequest]:
        """The requests with these numbers, newest first; numbers no request can have are skipped."""
        wanted = sorted({n for n in numbers if 0 < n <= MAX_ID}, reverse=True)
        if not wanted:
            return []
        stmt = select(*_COLUMNS).where(_R.c.id.in_(wanted)).order_by(_R.c.id.desc())
        return [PublicRequest(*row) for row in self.session.execute(stmt)]

    def filed_between(self, since: datetime, until: datetime, *, categories: Collection[str] = (),
                      states: Collection[str] = (), limit: int = 1000) -> list[PublicRequest]:
        """Requests filed in [since, until], of these categories and states (all when empty), newest first, at
        most `limit` of them (an index on created_at keeps this to the rows returned)."""
        stmt = select(*_COLUMNS).where(_R.c.created_at >= since, _R.c.created_at <= until)
        if categories:
            stmt = stmt.where(_R.c.category.in_(sorted(categories)))
        if states:
            stmt = stmt.where(_R.c.state.in_(sorted(states)))
        stmt = stmt.order_by(_R.c.created_at.desc(), _R.c.id.desc()).limit(limit)
        return [PublicRequest(*row) for row in self.session.execute(stmt)]
