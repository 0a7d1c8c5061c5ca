"""How a request is described to people: the parameters catalog texts are filled with."""
from __future__ import annotations

from datetime import datetime, timedelta

from handlers.community import Member
from handlers.context import Turn
from handlers.lifecycle import WORKING
from handlers.routing import ladder
from storage.models import Event, Person, Request

# Whose phone residents may be given: the community's own staff, whose work phones it publishes. Volunteers are
# residents too, and a resident's phone is never passed on.
PUBLISHED_PHONES = ("grid_member", "leader", "secretary", "property")

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


def content(turn: Turn, text: str) -> str:
    """A resident's words quoted back to people, without the tags that only told the bot what they were."""
    return turn.svc.reader.without_tags(text)


def late_by(turn: Turn, since: datetime, lang: str) -> str:
    """How long past a deadline, rounded down as people count it: 超时 5 小时, 超时 7 天 (at 7 days 14 hours)."""
    cat, hours = turn.svc.catalog, (turn.now - since) // timedelta(hours=1)
    if hours < 1:
        return cat.text(lang, "digest.late_minutes")
    if hours < 48:
        return cat.text(lang, "digest.late_hours", n=hours)
    return cat.text(lang, "digest.late_days", n=hours // 24)


def _due(turn: Turn, which: str, at: datetime, lang: str) -> str:
    """「12-08 06:25 前办结」 while that moment is ahead; once it has passed, 「办结已超时 2 小时」: never a time gone
    by as if it were still to come."""
    if at > turn.now:
        return turn.svc.catalog.text(lang, f"due.{which}", at=local_time(turn, at))
    return turn.svc.catalog.text(lang, f"due.{which}_late", late=late_by(turn, at, lang), at=local_time(turn, at))


def about(turn: Turn, request: Request, lang: str) -> dict:
    """The parameters most texts about a request use; `due` is the deadline that binds now (the claim's while
    nobody has claimed it), `dues` every deadline still binding, each said as ahead or as overdue."""
    # Everything it reads of the request: said again only when one of them changed (the turn's time does not).
    key = (request.id, lang, request.assignee_id, request.respond_by, request.resolve_by, request.responded_at,
           request.urgent, request.state, request.kind, request.category, request.building, request.unit,
           request.text)
    if (known := turn.said_about.get(key)) is None:
        known = turn.said_about[key] = _about(turn, request, lang)
    return dict(known)


def _about(turn: Turn, request: Request, lang: str) -> dict:
    cat = turn.svc.catalog
    assignee = turn.uow.people.get(request.assignee_id) if request.assignee_id else None
    respond_due = _due(turn, "respond", request.respond_by, lang)
    resolve_due = _due(turn, "resolve", request.resolve_by, lang)
    unclaimed = request.responded_at is None
    return {
        "mark": cat.text(lang, "notice.urgent_mark") if request.urgent and request.state in WORKING else "",
        "respond_due": respond_due,
        "resolve_due": resolve_due,
        "due": respond_due if unclaimed else resolve_due,
        "dues": cat.text(lang, "due.both", respond=respond_due, resolve=resolve_due) if unclaimed else resolve_due,
        "number": request.id,
        "ref": ref(turn, request, lang),
        "kind": cat.label(lang, "kind", request.kind),
        "category": cat.label(lang, "category", request.category),
        "state": cat.label(lang, "state", request.state),
        "place": place(turn, request, lang),
        "respond_by": local_time(turn, request.respond_by),
        "resolve_by": local_time(turn, request.resolve_by),
        "assignee": assignee.name if assignee else cat.text(lang, "role.nobody"),
        "contact": contact(turn, assignee, lang),
        "role": cat.role_before(lang, assignee.role, assignee.name) if assignee else cat.label(lang, "role", None),
        "text": content(turn, request.text),
    }


def staff_about(turn: Turn, request: Request, lang: str) -> dict:
    """about(), and for staff also how many neighbours reported the same problem (`neighbours`, empty if none):
    whoever is handed the request or has it passed up to them should weigh it as its first notice did."""
    count = len(turn.uow.requests.follower_ids(request.id))
    neighbours = turn.svc.catalog.text(lang, "notice.neighbours", count=count, number=request.id) if count else ""
    return {**about(turn, request, lang), "neighbours": neighbours}


def whose(turn: Turn, request: Request, person: Person) -> str:
    """「您的 」 to the request's reporter, 「您也反映过的 」 to a follower: it is not his request."""
    mine = person.id == request.reporter_id
    return turn.svc.catalog.text(person.language, "resident.whose.reporter" if mine else "resident.whose.follower")


def contact(turn: Turn, person: Person | None, lang: str) -> str:
    """（电话 13800000001） after a staff member's name where config gives a work phone; else nothing."""
    if person is None or person.staff_id is None or person.role not in PUBLISHED_PHONES:
        return ""
    member = _configured(turn, person.staff_id)
    return turn.svc.catalog.text(lang, "role.phone", phone=member.phone) if member and member.phone else ""


def line(turn: Turn, request: Request, lang: str) -> str:
    """One line of a list: #37 电梯·3号楼·处理中·11-23 08:00 前办结 (no deadline once it is done); while nobody
    has claimed it, the deadline that binds is the claim's: ·11-22 11:00 前接单; once passed, how late
    (·接单已超时 5 小时). An open urgent line starts ⚠️紧急, an overdue one ⚠️."""
    params, cat, working = about(turn, request, lang), turn.svc.catalog, request.state in WORKING
    due = cat.text(lang, "list.due", **params) if working else ""
    lead = ""
    if working and (request.urgent or overdue(request, turn.now)):
        lead = cat.text(lang, "list.urgent" if request.urgent else "list.late")
    return cat.text(lang, "list.line", **{**params, "due": due, "lead": lead})


def overdue(request: Request, now: datetime) -> bool:
    """Past respond-by without a claim, or past resolve-by without being done (storage.lists.overdue_at)."""
    return (request.responded_at is None and request.respond_by < now) or request.resolve_by < now


def detail_head(turn: Turn, request: Request, lang: str) -> str:
    """The top of 详情: what, where, state, who; deadlines only while they still bind, and how late once missed;
    to whom it was escalated."""
    cat, params = turn.svc.catalog, about(turn, request, lang)
    deadlines = ""
    if request.state in WORKING:
        late = cat.text(lang, "show.late", due=params["due"]) if overdue(request, turn.now) else ""
        deadlines = cat.text(lang, "show.deadlines", late=late, **params)
    staff_id = ladder(turn.community, request.level)
    escalated = cat.text(lang, "show.escalated", to=member_title(turn, staff_id, lang)) if staff_id else ""
    return cat.text(lang, "show.head", deadlines=deadlines, escalated=escalated, **params)


def event_line(turn: Turn, event: Event, lang: str, *, for_staff: bool = True) -> str:
    """One entry of the 详情 timeline, with what it carried: the score given, the points earned, to whom.

    A resident reading her own request sees a neighbour who reported the same problem as such, without the
    neighbour's name or words: those are the neighbour's, for staff only."""
    cat, data = turn.svc.catalog, event.data or {}
    actor = turn.uow.people.get(event.actor_id) if event.actor_id else None
    if not for_staff and actor is not None and actor.staff_id is None and actor.id != turn.person.id:
        return cat.text(lang, "show.event", at=local_time(turn, event.at),
                        action=cat.label(lang, "action", event.action), actor=cat.text(lang, "role.neighbour"),
                        note="")
    said = []
    if data.get("score") is not None and event.action != "closed":  # the rating just before it gave the score
        said.append(cat.text(lang, "show.score", score=data["score"]))
    if data.get("points"):
        said.append(cat.text(lang, "show.points", points=data["points"]))
    if data.get("to") and event.action in ("assigned", "transferred", "escalated"):
        said.append(cat.text(lang, "show.to", name=member_title(turn, data["to"], lang)))
    if event.note:
        said.append(content(turn, event.note))
    return cat.text(lang, "show.event", at=local_time(turn, event.at), action=cat.label(lang, "action", event.action),
                    actor=actor.name if actor else cat.text(lang, "role.system"), note="".join(f" {x}" for x in said))


def member_title(turn: Turn, staff_id: str, lang: str) -> str:
    """A staff member by role and name, as residents and staff know them: 网格长王强."""
    member = _configured(turn, staff_id)
    if member is None:
        return staff_id
    return turn.svc.catalog.text(lang, "role.titled", role=turn.svc.catalog.role_before(lang, member.role, member.name),
                                 name=member.name)


def _configured(turn: Turn, staff_id: str) -> Member | None:
    """The member from config with this id; None for one since taken out of config."""
    try:
        return turn.community.member(staff_id)
    except KeyError:
        return None


def listing(turn: Turn, lang: str, head: str, lines: list[str], total: int, page: int, *,
            more: str = "list.more") -> str:
    """One page of a list: its head with the count of all, its lines, and the command for the next page."""
    cat = turn.svc.catalog
    tail = [cat.text(lang, more, page=page + 1)] if page * PAGE < total else []
    if not lines and total:  # "超时 5" of a list two pages long: say so, rather than an empty page under its head
        tail = [cat.text(lang, "list.past_end", page=page, pages=-(-total // PAGE))]
    return "\n".join([cat.text(lang, head, count=total), *lines, *tail])


def call_numbers(t: Turn, numbers: tuple[str, ...], lang: str | None = None) -> str:
    """Emergency numbers as a resident reads them: 119 或 96333（电梯应急电话）."""
    cat, lang = t.svc.catalog, lang or t.lang
    return cat.text(lang, "ack.call_or").join(cat.label(lang, "call", n) for n in numbers)
