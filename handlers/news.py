"""What residents add to an open request reaches its assignee: at once, then at most one summary an hour.

Twenty neighbours reporting one broken lift must not be twenty messages, yet nothing is lost: a notice sent opens
a quiet window (a `news` follow-up due when it ends); news in the window is held for it and sent together when it
ends, and every piece stays in the timeline (详情). An urgent message never waits.
"""
from __future__ import annotations

from datetime import datetime

from handlers import schedule
from handlers.context import Turn
from handlers.views import about, content
from storage.models import Request

KIND = schedule.NEWS[0]
LINES = {"detail": "notice.news_detail", "followed": "notice.news_follower"}


def tell(t: Turn, request: Request, action: str, note: str | None, *, urgent: bool = False, **data) -> None:
    """Record what a resident added (a detail, or a neighbour's same report) and tell the assignee when due."""
    window = next((f.due_at for f in t.uow.followups.pending(request.id) if f.kind == KIND and f.due_at > t.now), None)
    if window is not None and not urgent:
        data["held_until"] = _mark(window)
    t.uow.requests.record(request, action, t.now, actor_id=t.person.id, note=note, **data)
    assignee = t.uow.people.get(request.assignee_id) if request.assignee_id else None
    if assignee is None or "held_until" in data:
        return
    key = "notice.detail" if action == "detail" else "notice.follower"
    t.say.to_person(assignee, key, urgent=urgent, request=request, note=_quoted(t, note), follower=t.person.name,
                    attachments=tuple(data.get("attachments") or ()), **about(t, request, assignee.language))
    if window is None:
        t.uow.followups.schedule(request.id, KIND, t.now + t.community.schedule.news_every)


def tell_held(t: Turn, request: Request, window: datetime) -> None:
    """A quiet window ended: the news held in it, in one message; if there was any, the next window opens."""
    mark = _mark(window)
    held = [e for e in t.uow.requests.timeline(request.id) if e.data.get("held_until") == mark]
    assignee = t.uow.people.get(request.assignee_id) if request.assignee_id else None
    if not held or assignee is None:
        return
    lines = []
    for event in held:
        name = t.uow.people.get(event.actor_id).name
        lines.append(t.say.text(assignee.language, LINES[event.action], name=name, note=_quoted(t, event.note)))
    t.say.to_person(assignee, "notice.news", request=request, count=len(held), lines="\n".join(lines),
                    **about(t, request, assignee.language))
    t.uow.followups.schedule(request.id, KIND, t.now + t.community.schedule.news_every)


def _quoted(t: Turn, note: str | None) -> str:
    # The timeline keeps what was sent; the assignee reads it without the tag, and a photo alone as 📎.
    return content(t, note) if note else "📎"


def _mark(window: datetime) -> int:
    # The window's end names its batch exactly, however still the clock stands (the console's does).
    return int(window.timestamp())
