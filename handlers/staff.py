"""Commands of grid members, volunteers, the leader and the secretary: claim, progress, done, transfer, ..."""
from __future__ import annotations

from handlers import lifecycle, permissions, schedule
from handlers.commands import Command
from handlers.context import Turn
from handlers.errors import BadCommand, NotAllowed, NotFound
from handlers.filing import claim_choice
from handlers.escalation import escalate as raise_level
from handlers.rating import ask_rating
from handlers.views import about, line, local_time, ref
from storage.models import Request


def load(t: Turn, number: int | None, command: str = "claim") -> Request:
    """The request a command names, or a polite NotFound; without a number, an example of that command."""
    if number is None:
        raise BadCommand("error.number_missing", command=command)
    request = t.uow.requests.get(number)
    if request is None:
        raise NotFound(number=number)
    return request


def _managed(t: Turn, cmd: Command) -> Request:
    request = load(t, cmd.number, cmd.verb)
    permissions.check(t, cmd.verb, request)
    return request


def _tell_residents(t: Turn, request: Request, key: str, **params) -> None:
    """Tell the reporter and every follower; quiet hours hold it until morning."""
    for person_id in dict.fromkeys([request.reporter_id, *t.uow.requests.follower_ids(request.id)]):
        person = t.uow.people.get(person_id)
        t.say.to_person(person, key, request=request, **about(t, request, person.language), **params)


def claim(t: Turn, cmd: Command) -> None:
    """接单: take a request; for a micro-wish, the first volunteer to claim it gets it (抢单)."""
    request = load(t, cmd.number, cmd.verb)
    permissions.check(t, cmd.verb, request)
    volunteer = request.kind == "wish" and t.person.role == "volunteer"
    if volunteer and request.assignee_id != t.person.id and request.state == "claimed":
        raise NotAllowed("error.wish_taken", number=request.id)
    lifecycle.apply(request, "claim", t.now)
    request.assignee_id = t.person.id
    t.uow.requests.record(request, "claimed", t.now, actor_id=t.person.id)
    t.uow.followups.cancel(request.id, schedule.RESPONSE)
    if volunteer:
        _award(t, request, "claim")
    t.reply("staff.claimed", **about(t, request, t.lang))
    _tell_residents(t, request, "resident.claimed", name=t.person.name)


def progress(t: Turn, cmd: Command) -> None:
    """进展: a progress note the reporter and followers hear of."""
    request = _managed(t, cmd)
    if not cmd.rest:
        raise BadCommand(f"error.note_missing.{cmd.verb}", number=request.id)
    if request.state == "assigned":
        raise BadCommand("error.claim_first", number=request.id)
    lifecycle.apply(request, "progress", t.now)
    t.uow.requests.record(request, "progress", t.now, actor_id=t.person.id, note=cmd.rest,
                          attachments=list(t.msg.attachments))
    t.reply("staff.progress_noted", number=request.id)
    _tell_residents(t, request, "resident.progress", note=cmd.rest)


def done(t: Turn, cmd: Command) -> None:
    """办结: finished, with a note (and a photo where the channel has one); residents are asked to rate."""
    request = _managed(t, cmd)
    if not cmd.rest:
        raise BadCommand(f"error.note_missing.{cmd.verb}", number=request.id)
    lifecycle.apply(request, "done", t.now)
    request.rating = request.rating_comment = None
    t.uow.requests.record(request, "done", t.now, actor_id=t.person.id, note=cmd.rest,
                          attachments=list(t.msg.attachments))
    t.uow.followups.cancel(request.id, schedule.RESPONSE + schedule.RESOLUTION)
    if request.kind == "wish" and t.person.role == "volunteer":
        _award(t, request, "done")
    t.reply("staff.done", ref=ref(t, request, t.lang))
    _tell_residents(t, request, "resident.done", note=cmd.rest)
    ask_rating(t, request)
    schedule.for_rating(t, request)


def transfer(t: Turn, cmd: Command) -> None:
    """转派: hand the request to another staff member, named or by config id."""
    request = _managed(t, cmd)
    target = _member_named(t, cmd.rest)
    lifecycle.apply(request, "transfer", t.now)
    request.assignee_id = target.id
    t.uow.requests.record(request, "transferred", t.now, actor_id=t.person.id, to=target.staff_id)
    t.reply("staff.transferred", number=request.id, name=target.name)
    t.say.to_person(target, "notice.transferred", urgent=True, request=request, by=t.person.name,
                    choices=claim_choice(request), **about(t, request, target.language))


def escalate(t: Turn, cmd: Command) -> None:
    """上报 / 吹哨: raise the request one rung up the ladder, with a reason."""
    request = _managed(t, cmd)
    if not cmd.rest:  # the leader acts on the reason; "说明：-" tells them nothing
        raise BadCommand(f"error.note_missing.{cmd.verb}", number=request.id)
    lifecycle.check(request, "escalate")
    if not raise_level(t, request, "by_hand", actor_id=t.person.id, note=cmd.rest):
        raise BadCommand("error.top_of_ladder", number=request.id)
    t.reply("staff.escalated", number=request.id, level=request.level)


def merge(t: Turn, cmd: Command) -> None:
    """合并 38 37: 38 duplicates 37; its reporter and followers follow 37 from now on."""
    request = _managed(t, cmd)
    digits = [int(p) for p in cmd.rest.replace("到", " ").replace("into", " ").replace("#", " ").split() if p.isdigit()]
    if not digits or digits[0] == request.id:
        raise BadCommand("error.merge_target", number=request.id)
    target = load(t, digits[0])
    permissions.check(t, cmd.verb, target)  # merging hands the residents to the target's assignee: theirs to accept
    if target.state in lifecycle.TERMINAL:
        raise BadCommand("error.merge_closed", number=target.id)
    lifecycle.apply(request, "merge", t.now)
    request.duplicate_of = target.id
    t.uow.followups.cancel(request.id, schedule.RESPONSE + schedule.RESOLUTION)
    t.uow.requests.record(request, "merged", t.now, actor_id=t.person.id, into=target.id)
    for person_id in [request.reporter_id, *t.uow.requests.follower_ids(request.id)]:
        if person_id != target.reporter_id and t.uow.requests.follow(target.id, person_id, t.now):
            t.uow.requests.record(target, "followed", t.now, actor_id=person_id, merged_from=request.id)
    t.reply("staff.merged", number=request.id, into=target.id)
    _tell_residents(t, request, "resident.merged", into=target.id)


def reject(t: Turn, cmd: Command) -> None:
    """退回: not the community's to handle; the reporter is told why."""
    request = _managed(t, cmd)
    if not cmd.rest:
        raise BadCommand(f"error.note_missing.{cmd.verb}", number=request.id)
    lifecycle.apply(request, "reject", t.now)
    t.uow.followups.cancel(request.id, schedule.RESPONSE + schedule.RESOLUTION)
    t.uow.requests.record(request, "rejected", t.now, actor_id=t.person.id, note=cmd.rest)
    t.reply("staff.rejected", number=request.id)
    _tell_residents(t, request, "resident.rejected", note=cmd.rest)


def show(t: Turn, cmd: Command) -> None:
    """详情: the request and its timeline, for staff who may act on it and for its reporter; where it stands, for
    a follower (the reporter's words and name are hers)."""
    request = load(t, cmd.number, cmd.verb)
    permissions.check(t, cmd.verb, request)
    if not ({"reporter", *permissions.MANAGE} & permissions.relations(t, t.person, request)):
        t.say.reply(t.msg, t.lang, "show.body", body=line(t, request, t.lang))
        return
    cat = t.svc.catalog
    lines = [cat.text(t.lang, "show.head", **about(t, request, t.lang))]
    for event in t.uow.requests.timeline(request.id):
        actor = t.uow.people.get(event.actor_id) if event.actor_id else None
        lines.append(cat.text(t.lang, "show.event", at=local_time(t, event.at),
                              action=cat.label(t.lang, "action", event.action),
                              actor=actor.name if actor else cat.text(t.lang, "role.system"),
                              note=f" {event.note}" if event.note else ""))
    t.say.reply(t.msg, t.lang, "show.body", body="\n".join(lines))


def _member_named(t: Turn, name: str):
    wanted = name.strip()
    if not wanted:
        raise BadCommand("error.transfer_target")
    for member in t.community.members:
        if wanted in (member.id, member.name):
            person = t.uow.people.by_staff_id(member.id)
            if person is not None:
                return person
    raise BadCommand("error.unknown_member", name=wanted)


def _award(t: Turn, request: Request, moment: str) -> None:
    points = getattr(t.community.points, moment)
    t.uow.requests.record(request, "points", t.now, actor_id=t.person.id, points=points, moment=moment)


def mine_lines(t: Turn) -> list[str]:
    """The lines of a staff member's own work list."""
    return [line(t, r, t.lang) for r in t.uow.requests.assigned_to(t.person.id)]
