"""Escalation: a level, not a state — grid member → leader → secretary (小事不出网格、大事不出社区)."""
from __future__ import annotations

from handlers import schedule
from handlers.context import Turn
from handlers.filing import claim_choice
from handlers.lifecycle import WORKING
from handlers.routing import ladder
from handlers.telling import LATE, tell_late
from handlers.views import about, member_title, staff_about
from storage.models import Request


def escalate(t: Turn, request: Request, reason: str, *, actor_id: int | None = None, note: str | None = None) -> bool:
    """Raise the request one rung and tell whoever stands there; False when it is already at the top.

    Nobody claimed it and its resolve-by has gone by as well (the bot was down, or nobody looked for hours): both
    deadlines' rungs at once, and the assignee and residents hear of the jump in one message, not one a rung."""
    top = len(t.community.escalation)
    if request.level >= top:
        if reason in LATE:  # nobody left to pass it to: the assignee still hears the deadline went by
            _tell_assignee(t, request, reason, "notice.late_at_top", ladder(t.community, top))
        return False
    rungs = 1
    if reason == "not_claimed" and request.resolve_by <= t.now:
        rungs = 2
        # the resolve deadline's escalation is spoken for; it chases again later, as after any escalation
        t.uow.followups.cancel(request.id, ("escalate_resolve",))
        schedule.escalate_again(t, request, "escalate_resolve")
    passed = []
    for _ in range(min(rungs, top - request.level)):
        request.level += 1
        passed.append(ladder(t.community, request.level))
        _tell_rung(t, request, reason, passed[-1], actor_id=actor_id, note=note)
    # The assignee's own 上报 needs no notice, nor a reopening: the 'not satisfied' notice says it was escalated.
    if reason != "unsatisfied":
        _tell_assignee(t, request, reason, "notice.escalated_assignee", *passed, actor_id=actor_id)
    if reason in LATE:
        tell_late(t, request, reason, passed[-1])
    return True


def _tell_assignee(t: Turn, request: Request, reason: str, key: str, *passed: str, actor_id: int | None = None):
    """One message says what a reminder would have: a jump past the deadline skips the stale reminder."""
    assignee = t.uow.people.get(request.assignee_id) if request.assignee_id else None
    if assignee is None or assignee.id == actor_id or assignee.staff_id in passed:
        return
    lang, unclaimed, cat = assignee.language, request.state in ("new", "assigned"), t.svc.catalog
    then = "notice.claim_now" if unclaimed else "notice.resolve_now" if request.state in WORKING else None
    to = [member_title(t, s, lang) for s in passed]
    t.say.to_person(assignee, key, urgent=True, request=request, choices=claim_choice(request) if unclaimed else (),
                    to=to[0] if len(to) == 1 else cat.text(lang, "notice.escalated_and", first=to[0], second=to[1]),
                    reason=cat.text(lang, f"escalation.{reason}"),
                    then=cat.text(lang, then, number=request.id) if then else "", **about(t, request, lang))


def _tell_rung(t: Turn, request: Request, reason: str, staff_id: str, *, actor_id: int | None, note: str | None):
    """Record the step to one rung and tell whoever stands there, with all a first notice would have said."""
    t.uow.requests.record(request, "escalated", t.now, actor_id=actor_id, note=note, level=request.level,
                          to=staff_id, reason=reason)
    target = t.uow.people.by_staff_id(staff_id)
    if target is not None:
        cat, lang = t.svc.catalog, target.language
        t.say.to_person(target, "notice.escalated", urgent=True, request=request,
                        reason=cat.text(lang, f"escalation.{reason}"),
                        note=cat.text(lang, "notice.note", note=note) if note else "", **staff_about(t, request, lang))
