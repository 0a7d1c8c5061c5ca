"""Ratings: asking the reporter and followers, and what a score does (satisfied closes, not satisfied reopens)."""
from __future__ import annotations

from handlers import lifecycle, permissions, schedule
from handlers.context import Turn
from handlers.deadlines import deadlines
from handlers.errors import IllegalTransition
from handlers.escalation import escalate
from handlers.views import about, ref
from storage.models import Rating, Request

RATING_CHOICES = (("choice.rate_5", "满意"), ("choice.rate_3", "基本满意"), ("choice.rate_1", "不满意"))
SATISFIED_FROM = 3  # 满意 (4–5) and 基本满意 (3) both count as satisfied, as 12345 grades them


def ask_rating(t: Turn, request: Request, key: str = "rating.ask") -> None:
    """Ask the reporter and every follower who has not rated yet."""
    people = [request.reporter_id, *t.uow.requests.follower_ids(request.id)]
    for person_id in dict.fromkeys(people):
        if t.uow.requests.has_rated(request.id, person_id, request.done_at):
            continue
        person = t.uow.people.get(person_id)
        t.say.to_person(person, key, request=request, choices=RATING_CHOICES, purpose="rate",
                        **about(t, request, person.language))


def rate(t: Turn, request: Request, score: int, comment: str | None) -> None:
    """Record the sender's score; the first score of a done request decides whether it closes or reopens."""
    permissions.check(t, "rate", request)
    if t.uow.requests.has_rated(request.id, t.person.id, request.done_at):
        raise IllegalTransition("error.already_rated", number=request.id)
    if request.state != "done" and request.rating is None:
        raise IllegalTransition(number=request.id, state=request.state, action="rate")
    t.uow.requests.add_rating(Rating(request_id=request.id, person_id=t.person.id, score=score,
                                     comment=comment, at=t.now))
    t.uow.requests.record(request, "rated", t.now, actor_id=t.person.id, note=comment, score=score)
    if request.state != "done":
        t.reply("rating.thanks", ref=ref(t, request, t.lang))
        return
    request.rating, request.rating_comment = score, comment
    t.uow.followups.cancel(request.id, schedule.RATING)
    assignee = t.uow.people.get(request.assignee_id)
    if score >= SATISFIED_FROM:
        lifecycle.apply(request, "satisfied", t.now)
        t.uow.requests.record(request, "closed", t.now, score=score)
        t.reply("rating.thanks", ref=ref(t, request, t.lang))
        t.say.to_person(assignee, "notice.rated", request=request, score=score,
                        comment=_comment(t, comment, assignee.language), **about(t, request, assignee.language))
        return
    lifecycle.apply(request, "unsatisfied", t.now)
    request.resolve_by = deadlines(t.community, request.category, request.urgent, t.now)[1]
    t.uow.requests.record(request, "reopened", t.now, actor_id=t.person.id, note=comment, score=score)
    schedule.for_resolution(t, request)
    t.reply("rating.reopened", ref=ref(t, request, t.lang))
    t.say.to_person(assignee, "notice.reopened", urgent=True, request=request, score=score,
                    comment=_comment(t, comment, assignee.language), **about(t, request, assignee.language))
    escalate(t, request, "unsatisfied", note=comment)


def _comment(t: Turn, comment: str | None, lang: str | None) -> str:
    """The resident's words for the assignee's notice, or nothing at all when they left none."""
    return t.svc.catalog.text(lang, "notice.comment", comment=comment) if comment else ""
