"""Escalation: a level, not a state — grid member → leader → secretary (小事不出网格、大事不出社区)."""
from __future__ import annotations

from handlers.context import Turn
from handlers.filing import claim_choice
from handlers.lifecycle import WORKING
from handlers.routing import ladder
from handlers.telling import LATE, tell_late
from handlers.views import about, member_title
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
    cat = t.svc.catalog
    target = t.uow.people.by_staff_id(staff_id)
    if target is not None:
        lang = target.language
        t.say.to_person(target, "notice.escalated", urgent=True, request=request,
                        reason=cat.text(lang, f"escalation.{reason}"),
                        note=cat.text(lang, "notice.note", note=note) if note else "", **about(t, request, lang))
    assignee = t.uow.people.get(request.assignee_id) if request.assignee_id else None
    # The assignee's own 上报 needs no notice, nor a reopening: the 'not satisfied' notice says it was escalated.
    if assignee is not None and assignee.id != actor_id and assignee.staff_id != staff_id and reason != "unsatisfied":
        # One message says what a reminder would have: a jump past the deadline skips the stale reminder.
        lang, unclaimed = assignee.language, request.state in ("new", "assigned")
        then = "notice.claim_now" if unclaimed else "notice.resolve_now" if request.state in WORKING else None
        t.say.to_person(assignee, "notice.escalated_assignee", urgent=True, request=request,
                        choices=claim_choice(request) if unclaimed else (), to=member_title(t, staff_id, lang),
                        reason=cat.text(lang, f"escalation.{reason}"),
                        then=cat.text(lang, then, number=request.id) if then else "", **about(t, request, lang))
    if reason in LATE:
        tell_late(t, request, reason, staff_id)
    return True
