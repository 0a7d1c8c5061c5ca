"""Firing due follow-ups: reminders, escalations, rating re-asks and closing unrated requests."""
from __future__ import annotations

from collections.abc import Callable

from handlers import lifecycle, news
from handlers.context import Turn
from handlers.escalation import escalate
from handlers.rating import ask_rating
from handlers.schedule import RATING, escalate_again
from handlers.telling import tell_residents
from handlers.views import about
from storage.models import FollowUp, Request


TELLS_RESIDENTS = ("rate_reask", "escalate_respond", "escalate_resolve", "close_unrated")


def prepare(t: Turn, rows: list[tuple[FollowUp, Request]]) -> None:
    """Read at once, kind by kind, what firing a batch of follow-ups will ask: the people told and where to reach
    them, the raters of re-asks, the news held for summaries, the groups residents may be told in. Firing each
    then asks the database nothing, and says exactly what it would have said alone."""
    requests = {request.id: request for _, request in rows}
    kinds: dict[str, set[int]] = {}
    for row, request in rows:
        kinds.setdefault(row.kind, set()).add(request.id)
    people = {request.assignee_id for request in requests.values() if request.assignee_id is not None}
    # Re-asks ask the reporter and followers to rate; escalations for lateness and closing unrated tell them.
    if told := sorted({number for kind in TELLS_RESIDENTS for number in kinds.get(kind, ())}):
        t.uow.requests.preload_raters(told)
        people.update(requests[number].reporter_id for number in told)
        people.update(person_id for number in told for person_id in t.uow.requests.follower_ids(number))
    if held := sorted(kinds.get(news.KIND, ())):
        t.uow.requests.preload_timelines(held)
        people.update(event.actor_id for number in held for event in t.uow.requests.timeline(number)
                      if event.actor_id is not None)
    # Escalations tell the rung above; a staff member who cannot be reached gets the leader and secretary told.
    staff = set(t.community.escalation)
    staff.update(member.id for role in ("leader", "secretary") if (member := t.community.first_with_role(role)))
    t.uow.people.preload(people, staff)
    t.uow.chats.preload({(request.channel, request.source_chat) for request in requests.values()
                         if request.source_kind == "group"})


def fire(t: Turn, row: FollowUp, request: Request) -> None:
    """Carry out one due follow-up of a request (claimed, so locked, with it); one whose moment has passed (the
    request moved on) does nothing."""
    if row.kind == news.KIND:
        news.tell_held(t, request, row.due_at)
    else:
        _FIRE[row.kind](t, request)
    t.uow.followups.finish(row, t.now)


def _remind_respond(t: Turn, request: Request) -> None:
    # A reminder reaching past its own deadline (the bot was down) is stale: the escalation speaks instead.
    if request.state in ("new", "assigned") and t.now < request.respond_by:
        _remind(t, request, "reminder.respond")


def _remind_resolve(t: Turn, request: Request) -> None:
    if request.state in lifecycle.WORKING and t.now < request.resolve_by:
        _remind(t, request, "reminder.resolve")


def _remind(t: Turn, request: Request, key: str) -> None:
    assignee = t.uow.people.get(request.assignee_id)
    t.uow.requests.record(request, "reminded", t.now, key=key)
    t.say.to_person(assignee, key, urgent=True, request=request, **about(t, request, assignee.language))


def _escalate_respond(t: Turn, request: Request) -> None:
    if request.state in ("new", "assigned") and escalate(t, request, "not_claimed"):
        escalate_again(t, request, "escalate_respond")


def _escalate_resolve(t: Turn, request: Request) -> None:
    if request.state in lifecycle.WORKING and escalate(t, request, "overdue"):
        escalate_again(t, request, "escalate_resolve")


def _rate_reask(t: Turn, request: Request) -> None:
    if request.state == "done":
        ask_rating(t, request, "rating.reask")


def _close_unrated(t: Turn, request: Request) -> None:
    if request.state != "done":
        return
    lifecycle.apply(request, "close_unrated", t.now)
    t.uow.requests.record(request, "closed_unrated", t.now)
    t.uow.followups.cancel(request.id, RATING)
    assignee = t.uow.people.get(request.assignee_id)
    t.say.to_person(assignee, "notice.closed_unrated", request=request, **about(t, request, assignee.language))
    tell_residents(t, request, "resident.closed_unrated")


_FIRE: dict[str, Callable[[Turn, Request], None]] = {
    "remind_respond": _remind_respond, "escalate_respond": _escalate_respond,
    "remind_resolve": _remind_resolve, "escalate_resolve": _escalate_resolve,
    "rate_reask": _rate_reask, "close_unrated": _close_unrated,
    "reason_asked": lambda t, request: None,  # unanswered, "哪里不满意？" lapses: nothing to do
}
