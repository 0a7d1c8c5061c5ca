"""Commands of grid members, volunteers, the leader and the secretary: claim, progress, done, transfer, ..."""
from __future__ import annotations

from handlers import lifecycle, permissions, schedule
from handlers.commands import Command
from handlers.context import Turn
from handlers.errors import BadCommand, NotAllowed, NotFound, UserError
from handlers.filing import claim_choice
from handlers.escalation import escalate as raise_level
from handlers.rating import ask_rating
from handlers.routing import ladder
from handlers.telling import tell_residents
from handlers.views import PAGE, about, detail_head, event_line, line, listing, member_title, ref, staff_about
from storage.models import Request


def load(t: Turn, number: int | None, command: str = "claim") -> Request:
    """The request a command names, or a polite NotFound; without a number, an example of that command."""
    if number is None:
        # 补充 needs words as well as a number: its example shows both
        raise BadCommand("error.number_missing_add" if command == "add" else "error.number_missing", command=command)
    request = t.uow.requests.get(number)
    if request is None:
        raise NotFound(number=number)
    return request


def _managed(t: Turn, cmd: Command) -> Request:
    request = load(t, cmd.number, cmd.verb)
    permissions.check(t, cmd.verb, request)
    return request


def claim(t: Turn, cmd: Command) -> None:
    """接单: take a request; for a micro-wish, the first volunteer to claim it gets it (抢单)."""
    request = load(t, cmd.number, cmd.verb)
    permissions.check(t, cmd.verb, request)
    volunteer = request.kind == "wish" and t.person.role == "volunteer"
    if volunteer and request.assignee_id != t.person.id and request.state == "claimed":
        raise NotAllowed("error.wish_taken", number=request.id)
    if request.state == "claimed" and request.assignee_id == t.person.id:
        raise UserError("error.claimed_already", ref=ref(t, request, t.lang), number=request.id)
    lifecycle.apply(request, "claim", t.now)
    sent_to = request.assignee_id
    request.assignee_id = t.person.id
    if sent_to is not None and sent_to != t.person.id:  # it was on her list: it is off it now, and she knows why
        before = t.uow.people.get(sent_to)
        lang = before.language
        name = member_title(t, t.person.staff_id, lang) if t.person.staff_id else t.person.name
        t.say.to_person(before, "notice.claimed_by_other", request=request, name=name, **about(t, request, lang))
    t.uow.requests.record(request, "claimed", t.now, actor_id=t.person.id)
    t.uow.followups.cancel(request.id, schedule.RESPONSE)
    # A volunteer knows neither her flat nor her phone (hers, not his): they agree a visit through the bot.
    reach = (t.say.text(t.lang, "staff.wish_reach", number=request.id),) if volunteer else ()
    t.reply("staff.claimed", more=reach, **about(t, request, t.lang))
    if volunteer:
        _award(t, request, "claim")
    tell_residents(t, request, "resident.claimed_wish" if volunteer else "resident.claimed",
                   attachments=t.msg.attachments, name=t.person.name)


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
    t.reply("staff.progress_noted", ref=ref(t, request, t.lang))
    tell_residents(t, request, "resident.progress", attachments=t.msg.attachments, note=cmd.rest)


def done(t: Turn, cmd: Command) -> None:
    """办结: finished, with a note (and a photo where the channel has one); residents are asked to rate."""
    request = _managed(t, cmd)
    if not cmd.rest:
        raise BadCommand(f"error.note_missing.{cmd.verb}", number=request.id)
    lifecycle.apply(request, "done", t.now)
    request.rating = request.rating_comment = None
    t.uow.requests.record(request, "done", t.now, actor_id=t.person.id, note=cmd.rest,
                          attachments=list(t.msg.attachments))
    t.uow.followups.cancel(request.id, schedule.RESPONSE + schedule.RESOLUTION + schedule.RATING)
    t.reply("staff.done", ref=ref(t, request, t.lang))
    if request.kind == "wish" and t.person.role == "volunteer":
        _award(t, request, "done")
    # the outcome, its photo and the question to rate in one message
    ask_rating(t, request, "rating.ask_done", note=cmd.rest, attachments=t.msg.attachments)
    schedule.for_rating(t, request)


def transfer(t: Turn, cmd: Command) -> None:
    """转派: hand the request to another staff member, named or by config id."""
    request = _managed(t, cmd)
    target = _member_named(t, cmd.rest)
    if target.id == request.assignee_id:
        raise BadCommand("error.transfer_same", number=request.id, name=target.name)
    lifecycle.apply(request, "transfer", t.now)
    request.assignee_id = target.id
    t.uow.requests.record(request, "transferred", t.now, actor_id=t.person.id, to=target.staff_id)
    t.reply("staff.transferred", ref=ref(t, request, t.lang), name=target.name)
    t.say.to_person(target, "notice.transferred", urgent=True, request=request, by=t.person.name,
                    choices=claim_choice(request), **staff_about(t, request, target.language))
    # She was told who had it, and would call that person.
    tell_residents(t, request, "resident.transferred", attachments=t.msg.attachments)


def escalate(t: Turn, cmd: Command) -> None:
    """上报 / 吹哨: raise the request one rung up the ladder, with a reason."""
    request = _managed(t, cmd)
    if not cmd.rest:  # the leader acts on the reason; "说明：-" tells them nothing
        raise BadCommand(f"error.note_missing.{cmd.verb}", number=request.id)
    lifecycle.check(request, "escalate")
    if not raise_level(t, request, "by_hand", actor_id=t.person.id, note=cmd.rest):
        raise BadCommand("error.top_of_ladder", number=request.id)
    to = member_title(t, ladder(t.community, request.level), t.lang)
    t.reply("staff.escalated", ref=ref(t, request, t.lang), to=to)


def merge(t: Turn, cmd: Command) -> None:
    """合并 38 37: 38 duplicates 37; its reporter and followers follow 37 from now on."""
    request = _managed(t, cmd)
    words = cmd.rest.replace("到", " ").replace("into", " ").replace("#", " ").split()
    digits = [int(p) for p in words if p.lstrip("-").isdigit()]
    if not digits:
        raise BadCommand("error.merge_target", number=request.id)
    if digits[0] == request.id:
        raise BadCommand("error.merge_self", number=request.id)
    target = load(t, digits[0])
    permissions.check(t, cmd.verb, target)  # merging hands the residents to the target's assignee: theirs to accept
    if target.state in lifecycle.TERMINAL:
        raise BadCommand("error.merge_closed", number=target.id)
    _check_alike(t, request, target)
    lifecycle.apply(request, "merge", t.now)
    request.duplicate_of = target.id
    t.uow.followups.cancel(request.id, schedule.ENDED)
    t.uow.requests.record(request, "merged", t.now, actor_id=t.person.id, into=target.id)
    for person_id in [request.reporter_id, *t.uow.requests.follower_ids(request.id)]:
        if person_id != target.reporter_id and t.uow.requests.follow(target.id, person_id, t.now):
            t.uow.requests.record(target, "followed", t.now, actor_id=person_id, merged_from=request.id)
    t.reply("staff.merged", ref=ref(t, request, t.lang), into=target.id)
    tell_residents(t, request, "resident.merged", attachments=t.msg.attachments, into=target.id)


def _check_alike(t: Turn, request: Request, target: Request) -> None:
    """Only the same problem merges: a gas smell merged into a lift repair would vanish from every list, and an
    urgent report merged into a routine one would lose its urgency."""
    label = t.svc.catalog.label
    if (request.kind, request.category) != (target.kind, target.category):
        raise BadCommand("error.merge_unlike", number=request.id, into=target.id,
                         what=label(t.lang, "category", request.category),
                         other=label(t.lang, "category", target.category))
    if request.urgent and not target.urgent:
        raise BadCommand("error.merge_urgent", number=request.id, into=target.id)


def reject(t: Turn, cmd: Command) -> None:
    """退回: not the community's to handle; the reporter is told why."""
    request = _managed(t, cmd)
    if not cmd.rest:
        raise BadCommand(f"error.note_missing.{cmd.verb}", number=request.id)
    lifecycle.apply(request, "reject", t.now)
    t.uow.followups.cancel(request.id, schedule.ENDED)
    t.uow.requests.record(request, "rejected", t.now, actor_id=t.person.id, note=cmd.rest)
    t.reply("staff.rejected", ref=ref(t, request, t.lang))
    tell_residents(t, request, "resident.rejected", attachments=t.msg.attachments, note=cmd.rest)


def show(t: Turn, cmd: Command) -> None:
    """详情: the request and its timeline, for whoever may read it in full; where it stands, for a follower (the
    reporter's words and name are hers); in a group, its state only."""
    request = load(t, cmd.number, cmd.verb)
    permissions.check(t, cmd.verb, request)
    if permissions.FULL_VIEW.isdisjoint(permissions.relations(t, t.person, request)):
        t.reply("show.body", body=line(t, request, t.lang))
        return
    lines = [detail_head(t, request, t.lang)]
    for_staff = t.staff_role() is not None or t.person.role in ("volunteer", "property")
    events = t.uow.requests.timeline(request.id)
    lines += [event_line(t, event, t.lang, for_staff=for_staff) for event in events]
    photos = tuple(a for e in events for a in (e.data or {}).get("attachments") or ()
                   if ":photo:" in a or ":image:" in a)
    if photos:
        lines.append(t.say.text(t.lang, "show.photos", count=len(photos)))
    t.reply_in_private("show.body", "show.group.", {"line": line(t, request, t.lang), "number": request.id},
                       attachments=photos, body="\n".join(lines))


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
    """A volunteer's points for claiming or fulfilling a micro-wish, recorded and told to her with her total."""
    points = getattr(t.community.points, moment)
    t.uow.requests.record(request, "points", t.now, actor_id=t.person.id, points=points, moment=moment)
    if points:
        t.reply(f"staff.points.{moment}", ref=ref(t, request, t.lang), points=points,
                total=t.uow.requests.points_of(t.person.id))


def work_list(t: Turn, page: int) -> tuple[str, int]:
    """One page of a staff member's work list: what is assigned to them; for the leader also what was escalated
    to his rung and what has no place yet; for the secretary what was escalated to hers and all that is overdue.
    Returns the page's text and how many the whole list holds."""
    ladder = t.community.escalation
    rung = ladder.index(t.person.staff_id) + 1 if t.person.staff_id in ladder else None
    role = t.person.role
    requests, total = t.uow.requests.work_of(t.person.id, t.now, escalated_from=rung, unplaced=role == "leader",
                                             overdue=role == "secretary", page=page, size=PAGE)
    head = {"leader": "mine.work_leader", "secretary": "mine.work_secretary"}.get(role, "mine.work")
    return listing(t, t.lang, head, [line(t, r, t.lang) for r in requests], total, page), total
