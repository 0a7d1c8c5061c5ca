"""The one place follow-ups are scheduled: reminders and escalations before deadlines, rating re-asks."""
from __future__ import annotations

from datetime import timedelta

from handlers.context import Turn
from handlers.deadlines import deadlines
from storage.models import Request

RESPONSE = ("remind_respond", "escalate_respond")
RESOLUTION = ("remind_resolve", "escalate_resolve")
RATING = ("rate_reask", "close_unrated")
REASON = ("reason_asked",)  # "哪里不满意？" waits for her next private words, a short while (handlers/residents.py)
REASON_WINDOW = timedelta(minutes=30)  # answered at once, or the question lapses
NEWS = ("news",)  # what residents added, held for one summary to the assignee (handlers/news.py)
ENDED = RESPONSE + RESOLUTION + NEWS  # withdrawn, merged or rejected: nobody is chased or told any more


def for_response(t: Turn, request: Request) -> None:
    """Remind before respond-by and escalate at it, unless claimed by then."""
    remind_at = request.respond_by - t.community.schedule.remind_before
    if remind_at > t.now:
        t.uow.followups.schedule(request.id, "remind_respond", remind_at)
    t.uow.followups.schedule(request.id, "escalate_respond", request.respond_by)


def for_resolution(t: Turn, request: Request) -> None:
    """Remind before resolve-by and escalate at it, unless done by then."""
    remind_at = request.resolve_by - t.community.schedule.remind_before
    if remind_at > t.now:
        t.uow.followups.schedule(request.id, "remind_resolve", remind_at)
    t.uow.followups.schedule(request.id, "escalate_resolve", request.resolve_by)


def for_reason(t: Turn, request: Request) -> None:
    """Her next private words within REASON_WINDOW answer "哪里不满意？"; after it the question lapses."""
    t.uow.followups.schedule(request.id, REASON[0], t.now + REASON_WINDOW)


def for_reopened(t: Turn, request: Request) -> None:
    """Reopened (not satisfied): a new resolve-by, counted from now as for a new request, with its reminder and
    escalation; whatever was still pending for the old one is dropped."""
    request.resolve_by = deadlines(t.community, request.category, request.urgent, t.now)[1]
    t.uow.followups.cancel(request.id, RESOLUTION)
    for_resolution(t, request)


def escalate_again(t: Turn, request: Request, kind: str) -> None:
    """Still late after an escalation: one rung higher after escalate_again_after, unless it moves on by then."""
    t.uow.followups.schedule(request.id, kind, t.now + t.community.schedule.escalate_again_after)


def for_rating(t: Turn, request: Request) -> None:
    """Ask again after each re-ask delay, then close as unrated."""
    for delay in t.community.schedule.rating_reask:
        t.uow.followups.schedule(request.id, "rate_reask", t.now + delay)
    t.uow.followups.schedule(request.id, "close_unrated", t.now + t.community.schedule.close_unrated_after)
