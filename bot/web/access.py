"""Who is signed in, what she may see, and the CSRF check: every page and every form asks here, on the server.

The session is Starlette's signed cookie (SessionMiddleware: itsdangerous, HttpOnly, SameSite=Lax, max_age); it
holds the person's id, a CSRF token and the list's filters (so no search words travel in a URL). The role is
read again from the database on every request, so a member removed from config loses access at once.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import HTTPException, Request as HttpRequest

from bot.app import App
from handlers.context import Turn
from handlers.say import Say
from handlers.signin_links import WEB_ROLES
from storage.models import Person, Request
from storage.uow import UnitOfWork
from storage.workbench import RequestFilter


@dataclass(frozen=True)
class Viewer:
    """The signed-in staff member and her scope: the grids she answers for (None: the whole community)."""

    person_id: int
    name: str
    role: str
    lang: str
    grids: tuple[str, ...] | None

    def may_see(self, request: Request) -> bool:
        """A grid member sees her grids' requests and those assigned to her; the leader and secretary all."""
        return self.grids is None or request.grid in self.grids or request.assignee_id == self.person_id

    def scoped(self, f: RequestFilter) -> RequestFilter:
        """A filter narrowed to what this viewer may see."""
        if self.grids is None:
            return f
        return RequestFilter(**{**f.__dict__, "grids": self.grids, "person_id": self.person_id})


class SignedOut(Exception):
    """No valid session: the page says how to get a sign-in link."""


def bot(http: HttpRequest) -> App:
    """The wired bot this web app serves."""
    return http.app.state.bot


def viewer_of(app: App, person: Person | None) -> Viewer | None:
    """The viewer a person is, or None when her role has no access."""
    if person is None or person.staff_id is None or person.role not in WEB_ROLES:
        return None
    community = app.services.community
    grids = None if person.role in ("leader", "secretary") else tuple(
        g.id for g in community.grids if g.member == person.staff_id)
    return Viewer(person.id, person.name, person.role, person.language, grids)


def viewer(http: HttpRequest) -> Viewer:
    """The signed-in viewer, checked against the database; SignedOut when there is none or she lost access."""
    person_id = http.session.get("person")
    if not isinstance(person_id, int):
        raise SignedOut
    app = bot(http)
    with UnitOfWork(app.db) as uow:
        found = viewer_of(app, uow.people.get(person_id))
    if found is None:
        http.session.clear()
        raise SignedOut
    return found


def csrf_token(http: HttpRequest) -> str:
    """This session's CSRF token, made on first use."""
    token = http.session.get("csrf")
    if not token:
        token = http.session["csrf"] = secrets.token_urlsafe(24)
    return token


def check_csrf(http: HttpRequest, sent: str | None) -> None:
    """Refuse a form that does not carry this session's token (a form another site made the browser send)."""
    expected = http.session.get("csrf")
    if not expected or not sent or not secrets.compare_digest(expected, sent):
        raise HTTPException(status_code=400, detail="web.bad_form")


def visible(t: Turn, who: Viewer, number: int) -> Request:
    """The request, if this viewer may see it: 404 when there is none, 403 when it is not hers to see."""
    request = t.uow.requests.get(number)
    if request is None:
        raise HTTPException(status_code=404, detail="web.not_found")
    if not who.may_see(request):
        raise HTTPException(status_code=403, detail="web.forbidden")
    return request


@contextmanager
def reading(app: App, person_id: int | None = None) -> Iterator[Turn]:
    """A turn to read through repositories and render with handlers' views, as this person.

    A read transaction: on SQLite a page (the figures take a few hundred ms on a big database) never holds the
    write lock a report arriving meanwhile needs."""
    now = app.clock.now()
    with UnitOfWork(app.db, read_only=True) as uow:
        person = uow.people.get(person_id) if person_id else None
        yield Turn(app.services, uow, Say(uow, app.services.catalog, app.services.community, now), now, None, person)
