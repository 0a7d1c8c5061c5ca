"""How a request is described to people: the parameters catalog texts are filled with."""
from __future__ import annotations

from datetime import datetime

from handlers.context import Turn
from storage.models import Request

PAGE = 10  # lines of a list shown at once: a phone screen, not a report


def local_time(turn: Turn, at: datetime | None) -> str:
    """A time as people in the community read it: 11-22 14:30."""
    return at.astimezone(turn.community.zone).strftime("%m-%d %H:%M") if at else "-"


def ref(turn: Turn, request: Request, lang: str) -> str:
    """How the request is named to people: 诉求#37, or 微心愿#37 for a micro-wish, as its reporter filed it."""
    return turn.svc.catalog.text(lang, f"ref.{request.kind}", number=request.id)


def place(turn: Turn, request: Request, lang: str) -> str:
    """Building, unit and flat, as far as known."""
    cat = turn.svc.catalog
    if not request.building:
        return cat.text(lang, "place.unknown")
    text = cat.text(lang, "place.building", building=request.building)
    if request.unit:
        text += cat.text(lang, "place.unit", unit=request.unit)
    return text


def about(turn: Turn, request: Request, lang: str) -> dict:
    """The parameters most texts about a request use."""
    cat = turn.svc.catalog
    assignee = turn.uow.people.get(request.assignee_id) if request.assignee_id else None
    return {
        "number": request.id,
        "ref": ref(turn, request, lang),
        "kind": cat.label(lang, "kind", request.kind),
        "category": cat.label(lang, "category", request.category),
        "state": cat.label(lang, "state", request.state),
        "place": place(turn, request, lang),
        "respond_by": local_time(turn, request.respond_by),
        "resolve_by": local_time(turn, request.resolve_by),
        "assignee": assignee.name if assignee else cat.text(lang, "role.nobody"),
        "role": cat.label(lang, "role", assignee.role if assignee else None),
        "text": request.text,
        "level": request.level,
    }


def line(turn: Turn, request: Request, lang: str) -> str:
    """One line of a list: #37 电梯 · 3号楼 · 处理中 · 限 11-23 08:00."""
    return turn.svc.catalog.text(lang, "list.line", **about(turn, request, lang))


def listing(turn: Turn, lang: str, head: str, lines: list[str], total: int, page: int) -> str:
    """One page of a list: its head with the count of all, its lines, and the command for the next page."""
    cat = turn.svc.catalog
    more = [cat.text(lang, "list.more", page=page + 1)] if page * PAGE < total else []
    return "\n".join([cat.text(lang, head, count=total), *lines, *more])
