"""What a request's residents (its reporter and every follower) are told as it moves: claimed, progress, handed
on, merged, rejected, late and passed up, closed without a score."""
from __future__ import annotations

import re
from collections.abc import Callable

from handlers.context import Turn
from handlers.intake import Reading
from handlers.say import PHONE
from handlers.views import about, call_numbers, member_title, whose
from storage.models import Request

# A flat or a phone number in what staff wrote about a request ("联系了楼上602 家里没人", "3-2-502") is the
# reporter's or her neighbours' business: a neighbour who follows the request reads it without them.
_FLAT = re.compile(r"(?<![\d#])\d+(?:[-－]\d+){1,2}(?!\d)|(?<![\d#])\d{3,4}(?!\d)")

# Escalations a resident hears of: her request went up because it waited too long. Those staff start (上报) or
# she caused (不满意) she needs no word of: the first is staff's business, the second she was answered at once.
LATE = ("not_claimed", "overdue")


def tell_residents(t: Turn, request: Request, key: str, *, urgent: bool = False, attachments: tuple = (),
                   per_language: Callable[[str], dict] | None = None, **params) -> None:
    """Tell the reporter and every follower, each in her language (with a photo staff sent, privately only); quiet
    hours hold it unless urgent."""
    for person_id in dict.fromkeys([request.reporter_id, *t.uow.requests.follower_ids(request.id)]):
        person = t.uow.people.get(person_id)
        lang = person.language
        t.say.to_person(person, key, urgent=urgent, request=request, whose=whose(t, request, person),
                        **about(t, request, lang), **(per_language(lang) if per_language else {}),
                        **said_to(request, person_id, {**params, "attachments": attachments}))


def said_to(request: Request, person_id: int, params: dict) -> dict:
    """What staff said about a request (a `note`, `attachments`), as this person may hear it: all of it to its
    reporter; to a neighbour who follows it, no photo (it may show her home) and the note without flats and
    phone numbers."""
    if person_id == request.reporter_id:
        return params
    said = {name: value for name, value in params.items() if name != "attachments"}
    if "note" in said:
        said["note"] = _FLAT.sub("***", PHONE.sub("***", said["note"]))
    return said


def first_steps(t: Turn, lang: str, reading: Reading) -> list[str]:
    """What someone reporting an emergency is told to do at once: the numbers to call, then what to do meanwhile."""
    steps = advice(t, lang, reading)
    if reading.call:
        steps.insert(0, t.svc.catalog.text(lang, "ack.call_first", call=call_numbers(t, reading.call, lang)))
    return steps


def advice(t: Turn, lang: str, reading: Reading) -> list[str]:
    """What to do meanwhile in this kind of emergency (gas: no switches, windows open, everyone out), if known."""
    return [t.svc.catalog.text(lang, f"advice.{reading.advice}")] if reading.urgent and reading.advice else []


def tell_late(t: Turn, request: Request, reason: str, staff_id: str) -> None:
    """Her request waited past a deadline and went up the ladder: she hears so, and, for an emergency nobody has
    claimed yet, which number to call while she waits."""
    cat = t.svc.catalog
    numbers = t.svc.reader.read(request.text).call if request.urgent and reason == "not_claimed" else ()

    def words(lang: str) -> dict:
        return {"reason": cat.text(lang, f"resident.late.{reason}"), "to": member_title(t, staff_id, lang),
                "call": cat.text(lang, "resident.call_still", call=call_numbers(t, numbers, lang)) if numbers else ""}

    tell_residents(t, request, "resident.escalated_late", urgent=request.urgent, per_language=words)
