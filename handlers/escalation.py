"""Escalation: a level, not a state — grid member → leader → secretary (小事不出网格、大事不出社区)."""
from __future__ import annotations

from handlers.context import Turn
from handlers.routing import ladder
from handlers.views import about
from storage.models import Request


def escalate(t: Turn, request: Request, reason: str, *, actor_id: int | None = None, note: str | None = None) -> bool:
    """Raise the request one rung and tell whoever stands there; False when it is already at the top."""
    top = len(t.community.escalation)
    if request.level >= top:
        return False
    request.level += 1
    staff_id = ladder(t.community, request.level)
    t.uow.requests.record(request, "escalated", t.now, actor_id=actor_id, note=note, level=request.level,
                          to=staff_id, reason=reason)
    reason_text = {lang: t.svc.catalog.text(lang, f"escalation.{reason}") for lang in ("zh-CN", "en")}
    target = t.uow.people.by_staff_id(staff_id)
    if target is not None:
        t.say.to_person(target, "notice.escalated", urgent=True, request=request,
                        reason=reason_text.get(target.language, reason_text["zh-CN"]), note=note or "-",
                        **about(t, request, target.language))
    assignee = t.uow.people.get(request.assignee_id) if request.assignee_id else None
    if assignee is not None and assignee.id != actor_id and assignee.staff_id != staff_id:
        t.say.to_person(assignee, "notice.escalated_assignee", urgent=True, request=request,
                        to=target.name if target else staff_id, **about(t, request, assignee.language))
    return True
