"""Ratings: asking the reporter and followers, and what a score does (satisfied closes, not satisfied reopens)."""
from __future__ import annotations

import re

from handlers import lifecycle, permissions, schedule
from handlers.catalog import Catalog
from handlers.context import Turn
from handlers.errors import IllegalTransition
from handlers.escalation import escalate
from handlers.lifecycle import TERMINAL
from handlers.routing import ladder
from handlers.telling import said_to
from handlers.views import about, member_title, ref, staff_about
from storage.models import Rating, Request

RATING_CHOICES = (("choice.rate_5", "满意"), ("choice.rate_3", "基本满意"), ("choice.rate_1", "不满意"))
KINDS = ("complaint", "wish")
SATISFIED_FROM = 3  # 满意 (4–5) and 基本满意 (3) both count as satisfied, as 12345 grades them


def ask_rating(t: Turn, request: Request, key: str = "rating.ask", **params) -> None:
    """Ask the reporter and every follower who has not rated yet (after a 办结, nobody has: a new round)."""
    people = [request.reporter_id, *t.uow.requests.follower_ids(request.id)]
    for person_id in dict.fromkeys(people):
        if t.uow.requests.has_rated(request.id, person_id, request.rating_round):
            continue
        person = t.uow.people.get(person_id)
        # With another score owed, a bare 满意 could mean either: the prompt says how to name this one. A re-ask
        # always does: it comes days later, on its own, and the sweep sends many at once without a query each.
        if key == "rating.reask":
            how = "rating.how_reask"
        elif any(r.id != request.id for r in t.uow.requests.awaiting_rating_from(person_id)):
            how = "rating.how_numbered"
        else:
            how = "rating.how"
        how = t.say.text(person.language, how, number=request.id)
        t.say.to_person(person, key, request=request, choices=RATING_CHOICES, purpose="rate", how=how,
                        **about(t, request, person.language), **said_to(request, person_id, params))


def check_rateable(t: Turn, request: Request) -> None:
    """Refuse, with the reason, a rating from someone not involved, a second one, or one nobody asked for."""
    permissions.check(t, "rate", request)
    rated = t.uow.requests.has_rated(request.id, t.person.id, request.rating_round)
    if rated and request.state in ("done", "closed"):
        raise IllegalTransition("error.already_rated", number=request.id)
    # asked for between a 办结 and the reporter's score (or closing unrated); a follower asked, within the window
    if request.state != "done" and not _follower_may_still_rate(t, request):
        why = "reopened" if request.state == "reopened" else "ended" if request.state in TERMINAL else "not_done"
        raise IllegalTransition(f"error.rate_not_asked.{why}", ref=ref(t, request, t.lang), state=request.state)


def rate(t: Turn, request: Request, score: int, comment: str | None) -> None:
    """Record the sender's score; the reporter's score of a done request decides whether it closes or reopens.

    A follower's score is recorded as his (and counts in 满意率) but decides nothing: the request is the reporter's;
    his 不满意 and its words reach the assignee all the same.
    """
    check_rateable(t, request)
    t.uow.requests.add_rating(Rating(request_id=request.id, person_id=t.person.id, score=score,
                                     comment=comment, at=t.now, round=request.rating_round))
    t.uow.requests.record(request, "rated", t.now, actor_id=t.person.id, note=comment, score=score)
    assignee = t.uow.people.get(request.assignee_id)
    if t.person.id != request.reporter_id:
        _confirm(t, "rating.thanks", ref=ref(t, request, t.lang))
        if score < SATISFIED_FROM and assignee is not None:  # his 不满意 decides nothing, but his words are heard
            t.say.to_person(assignee, "notice.follower_unsatisfied", urgent=True, request=request, score=score,
                            name=t.person.name,
                            comment=_comment(t, comment, assignee.language), **about(t, request, assignee.language))
        return
    request.rating, request.rating_comment = score, comment
    t.uow.followups.cancel(request.id, schedule.RATING)
    if score >= SATISFIED_FROM:
        lifecycle.apply(request, "satisfied", t.now)
        t.uow.requests.record(request, "closed", t.now, score=score)
        _confirm(t, "rating.thanks_closed", ref=ref(t, request, t.lang))
        t.say.to_person(assignee, "notice.rated", request=request, score=score,
                        comment=_comment(t, comment, assignee.language), **about(t, request, assignee.language))
        _tell_followers_closed(t, request)
        return
    _reopen(t, request, assignee, score, comment)


def _reopen(t: Turn, request: Request, assignee, score: int, comment: str | None) -> None:
    """Not satisfied: open again with new deadlines and their follow-ups, one rung up where there is one; she,
    the assignee and the followers asked to rate are each told what happened, and only that."""
    lifecycle.apply(request, "unsatisfied", t.now)
    t.uow.requests.record(request, "reopened", t.now, actor_id=t.person.id, note=comment, score=score)
    schedule.for_reopened(t, request)
    escalated = escalate(t, request, "unsatisfied", note=comment)

    def how(section: str, lang: str, params: dict) -> str:
        to = member_title(t, ladder(t.community, request.level), lang) if escalated else ""
        return t.svc.catalog.text(lang, f"{section}.reopened_how.{'escalated' if escalated else 'top'}", to=to,
                                  **params)

    # asked why only in private, where her next words can be taken as the reason (and stay out of the group)
    ask_why = not comment and t.msg.is_private
    if ask_why:
        schedule.for_reason(t, request)
    mine = about(t, request, t.lang)
    _confirm(t, "rating.reopened_why" if ask_why else "rating.reopened", ref=mine["ref"],
             how=how("rating", t.lang, mine))
    params = staff_about(t, request, assignee.language)
    t.say.to_person(assignee, "notice.reopened", urgent=True, request=request, score=score,
                    how=how("notice", assignee.language, params),
                    comment=_comment(t, comment, assignee.language), **params)
    for person_id in t.uow.requests.follower_ids(request.id):  # each was asked to rate: nothing to rate now
        person = t.uow.people.get(person_id)
        t.say.to_person(person, "rating.reopened_follower", request=request, **about(t, request, person.language))


def waiting_for(t: Turn) -> list[Request]:
    """What the sender is asked to rate, the most recently asked first: done ones of hers, and those she follows
    that their reporter closed with a score within the rating window (a follower asked may still answer)."""
    return t.uow.requests.awaiting_rating_from(t.person.id, t.now - t.community.schedule.close_unrated_after)


def _follower_may_still_rate(t: Turn, request: Request) -> bool:
    return any(r.id == request.id for r in waiting_for(t))


def _tell_followers_closed(t: Turn, request: Request) -> None:
    """Closed by its reporter's score: each follower hears it, and one who has not rated yet hears he still may."""
    for person_id in t.uow.requests.follower_ids(request.id):
        person = t.uow.people.get(person_id)
        rated = t.uow.requests.has_rated(request.id, person_id, request.rating_round)
        t.say.to_person(person, "rating.closed_rated" if rated else "rating.closed_rate_still", request=request,
                        **about(t, request, person.language))


def _confirm(t: Turn, key: str, **params) -> None:
    """Answer a score: in a group, privately (the group need not hear how a neighbour rated), where she can be."""
    if t.msg.is_private or t.say.address(t.person) is None:
        t.reply(key, **params)
    else:
        t.say.to_person(t.person, key, urgent=True, **params)


def named_request(catalog: Catalog, text: str) -> int | None:
    """The number of the request a text names as the bot names it (诉求#8, 微心愿#8, request #8), if any."""
    for table in catalog.texts.values():
        for kind in KINDS:
            prefix = table[f"ref.{kind}"].split("{number}")[0].strip()
            found = re.search(re.escape(prefix) + r"\s*(\d+)", text, re.IGNORECASE)
            if found:
                return int(found.group(1))
    return None


def _comment(t: Turn, comment: str | None, lang: str | None) -> str:
    """The resident's words for the assignee's notice, or nothing at all when they left none."""
    return t.svc.catalog.text(lang, "notice.comment", comment=comment) if comment else ""
