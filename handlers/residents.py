"""What residents can do with their own requests: list them, withdraw, add detail, rate."""
from __future__ import annotations

from handlers import lifecycle, permissions, schedule
from handlers.commands import Command, parse_rating
from handlers.context import Turn
from handlers.errors import BadCommand
from handlers.filing import place_found
from handlers.rating import rate
from handlers.staff import load, mine_lines
from handlers.views import about, line, ref


def mine(t: Turn, _cmd: Command) -> None:
    """我的诉求: the sender's own and followed requests; for staff, their work list first."""
    parts = []
    if t.staff_role() or t.person.role == "volunteer":
        work = mine_lines(t)
        parts.append(t.say.text(t.lang, "mine.work", count=len(work)) + "".join(f"\n{x}" for x in work))
    own = [line(t, r, t.lang) for r in t.uow.requests.reported_or_followed_by(t.person.id, open_only=False)]
    if own or not parts:
        parts.append(t.say.text(t.lang, "mine.own", count=len(own)) + "".join(f"\n{x}" for x in own))
    t.say.reply(t.msg, t.lang, "mine.body", body="\n\n".join(parts))


def _own(t: Turn, cmd: Command):
    request = load(t, cmd.number, cmd.verb)
    permissions.check(t, cmd.verb, request)
    return request


def withdraw(t: Turn, cmd: Command) -> None:
    """撤回 N: the reporter no longer needs it; the assignee is told."""
    request = _own(t, cmd)
    lifecycle.apply(request, "withdraw", t.now)
    t.uow.followups.cancel(request.id, schedule.RESPONSE + schedule.RESOLUTION)
    t.uow.requests.record(request, "withdrawn", t.now, actor_id=t.person.id, note=cmd.rest or None)
    t.reply("resident.withdrawn", ref=ref(t, request, t.lang))
    assignee = t.uow.people.get(request.assignee_id)
    if assignee is not None:
        t.say.to_person(assignee, "notice.withdrawn", request=request, **about(t, request, assignee.language))


def add_detail(t: Turn, cmd: Command) -> None:
    """补充 N text: more detail (or a photo) for the assignee."""
    request = _own(t, cmd)
    if not cmd.rest and not t.msg.attachments:
        raise BadCommand(f"error.note_missing.{cmd.verb}", number=request.id)
    lifecycle.check(request, "add_detail")
    t.uow.requests.record(request, "detail", t.now, actor_id=t.person.id, note=cmd.rest or None,
                          attachments=list(t.msg.attachments))
    t.reply("resident.detail_added", ref=ref(t, request, t.lang))
    found = t.svc.reader.read(cmd.rest) if request.building is None and cmd.rest else None
    if found is not None and found.building:  # the place the acknowledgement asked for
        request.building, request.building_source = found.building, "text"
        request.unit, request.room = found.unit or request.unit, found.room or request.room
        if place_found(t, request):
            return  # the grid member's notice and the triager's carry the place
    assignee = t.uow.people.get(request.assignee_id)
    t.say.to_person(assignee, "notice.detail", request=request, note=cmd.rest or "📎",
                    **about(t, request, assignee.language))


def rate_command(t: Turn, cmd: Command) -> None:
    """评价 N 5 [comment]: rate a request by number."""
    request = load(t, cmd.number, cmd.verb)
    rating = parse_rating(cmd.rest)
    if rating is None:
        raise BadCommand("error.rating_form", number=request.id)
    rate(t, request, *rating)
