"""What residents can do with their own requests: list them, withdraw, add detail, rate."""
from __future__ import annotations

import re
from datetime import timedelta

from handlers import binding, chasing, lifecycle, news, permissions, schedule
from handlers.commands import Command, is_greeting, is_status_question, is_thanks, parse_rating
from handlers.context import Turn
from handlers.errors import BadCommand
from handlers.filing import place_found
from handlers.kept import kept_lines
from handlers.intake import Reading
from handlers.rating import check_rateable, named_request, rate
from handlers.staff import load, work_list
from handlers.views import PAGE, about, line, listing, ref
from storage.models import Request
from storage.requests import OPEN_STATES


def mine(t: Turn, cmd: Command) -> None:
    """我的诉求 / 我的 / 列表: the sender's own and followed requests, ten a page, overdue first, then the newest
    (我的诉求 2: the next page); for staff, their work list first (我的 2: its next page).

    Never listed in a group: asked there, the list goes to the private chat and the group hears the count.
    """
    page = max(cmd.number or 1, 1)
    parts, count = [], 0
    if t.staff_role() or t.person.role == "volunteer":
        work, count = work_list(t, page)
        parts.append(work)
        if page == 1 and t.staff_role() in ("leader", "secretary") and (kept := kept_lines(t, t.lang)):
            parts.append("\n".join(kept))  # messages the bot failed on, until someone handles them
    own_count = 0
    if page == 1 or not parts:  # a later page of the work list does not repeat their own requests
        own, own_count = t.uow.requests.own_page(t.person.id, t.now, page=page, size=PAGE)
        if own_count or not parts:
            lines = [line(t, r, t.lang) for r in own]
            if parts:  # staff: 我的 2 is the work list's next page; their own requests show their first page only
                parts.append("\n".join([t.say.text(t.lang, "mine.own", count=own_count), *lines]))
            else:
                parts.append(listing(t, t.lang, "mine.own", lines, own_count, page, more="list.more_own"))
    if not t.msg.is_private and count + own_count == 0:  # nothing to send privately: say so where asked
        return t.reply("mine.group.none")
    t.reply_in_private("mine.body", "mine.group.", {"count": count + own_count}, body="\n\n".join(parts))


def _own(t: Turn, cmd: Command):
    request = load(t, cmd.number, cmd.verb)
    permissions.check(t, cmd.verb, request)
    return request


def withdraw(t: Turn, cmd: Command) -> None:
    """撤回 N: the reporter no longer needs it; the assignee is told. Neighbours who said they have the same problem
    still have it: the request stays open, the first of them its reporter (see _hand_on)."""
    request = _own(t, cmd)
    lifecycle.check(request, "withdraw")
    if followers := t.uow.requests.follower_ids(request.id):
        return _hand_on(t, request, cmd.rest or None, followers)
    lifecycle.apply(request, "withdraw", t.now)
    t.uow.followups.cancel(request.id, schedule.ENDED)
    t.uow.requests.record(request, "withdrawn", t.now, actor_id=t.person.id, note=cmd.rest or None)
    t.reply("resident.withdrawn", ref=ref(t, request, t.lang))
    told = [t.uow.people.get(request.assignee_id)]
    if request.urgent:  # the leader was alerted with the assignee: he stands down too
        told += [t.uow.people.by_staff_id(staff_id) for staff_id in t.community.escalation[:1]]
    for person in {p.id: p for p in told if p is not None}.values():
        t.say.to_person(person, "notice.withdrawn", request=request, **about(t, request, person.language))


def _hand_on(t: Turn, request: Request, note: str | None, followers: list[int]) -> None:
    """Her problem is gone (or she gave up on it), theirs is not: withdrawing would silently drop their report.
    The first neighbour who followed becomes its reporter, in his own words where he gave any (hers, and her
    flat, are hers); he hears that it goes on with him, and the assignee that it is still wanted."""
    heir = t.uow.people.get(followers[0])
    words = [e.note for e in t.uow.requests.timeline(request.id)
             if e.actor_id == heir.id and e.action in ("followed", "detail") and e.note]
    t.uow.requests.record(request, "withdrawn", t.now, actor_id=t.person.id, note=note, handed_to=heir.id)
    t.uow.requests.hand_to(request, heir.id)
    request.room = None
    if words:
        request.text = words[-1]
    t.reply("resident.withdrawn_kept", ref=ref(t, request, t.lang))
    t.say.to_person(heir, "resident.handed_on", urgent=True, request=request, **about(t, request, heir.language))
    assignee = t.uow.people.get(request.assignee_id) if request.assignee_id else None
    if assignee is not None:
        t.say.to_person(assignee, "notice.withdrawn_kept", request=request, name=heir.name, count=len(followers),
                        **about(t, request, assignee.language))


def add_detail(t: Turn, cmd: Command) -> None:
    """补充 N text: more detail (or a photo) for the assignee; from a neighbour with the same problem, he follows it."""
    request = load(t, cmd.number, cmd.verb)
    neighbour = _neighbour(t, request)
    if not neighbour:
        permissions.check(t, cmd.verb, request)
    if not cmd.rest and not t.msg.attachments:
        raise BadCommand(f"error.note_missing.{cmd.verb}", number=request.id)
    lifecycle.check(request, "add_detail")
    if neighbour:  # "补充 13 我家也停水了 802": the assignee hears it, he hears of progress and is asked to rate
        chasing.follow(t, request, cmd.rest or None)
        return
    t.reply("resident.detail_added", ref=ref(t, request, t.lang))
    found = t.svc.reader.read(cmd.rest) if cmd.rest else None
    placed = False
    if found is not None and _fills_place(request, found, cmd.rest):  # the place the ack or the member asked for
        moved = bool(found.building) and found.building != request.building  # none yet, or the chat's guess
        if moved:
            request.building, request.building_source, request.unit = found.building, "text", None
        request.unit, request.room = request.unit or found.unit, request.room or found.room
        placed = moved and place_found(t, request)
    detail = {"note": cmd.rest or None, "attachments": list(t.msg.attachments)}
    if placed:  # the grid member's notice and the triager's carry the place
        t.uow.requests.record(request, "detail", t.now, actor_id=t.person.id, **detail)
    else:
        news.tell(t, request, "detail", urgent=bool(found and found.urgent), **detail)


PLACE_WINDOW = timedelta(hours=12)  # "7号楼2单元" the same evening answers "在哪里？"; days later it is chatter


def placed(t: Turn, reading: Reading, text: str) -> bool:
    """Where her fresh report is, said in plain words ("7号楼2单元", "我家是2单元301 下午都在家") rather than as
    补充 N: a report filed without a building (an emergency said in the community's big group) or a flat the grid
    member asked for. Added to the latest of hers it completes, as 补充 would (routed to the building's grid
    member); a new report ("5号楼电梯又坏了") or words about something else are not."""
    if not reading.mostly_place or reading.kind != "none" and reading.confident:
        return False
    mine = [r for r in t.uow.requests.open_own_since(t.person.id, t.now - PLACE_WINDOW)
            if r.reporter_id == t.person.id and r.kind == "complaint" and _fills_place(r, reading, text)
            and chasing.here(t, r)]
    if not mine:
        return False
    add_detail(t, Command("add", mine[0].id, text))
    return True


_ELSEWHERE = re.compile(r"也|还有|另外|别的|其他|隔壁|对面|also|another")  # "楼下2单元的也停了": another place


def _fills_place(request: Request, found: Reading, text: str) -> bool:
    """Whether words name what a request's place lacks, and nothing that contradicts it. Where its building is
    known, only words that are little more than a place complete it ("是2单元那部", "2单元301"), not news of
    another ("楼下2单元的也停了")."""
    if _ELSEWHERE.search(text):
        return False
    if request.building is None:
        return bool(found.building)
    if found.building and found.building != request.building:  # her words say where; the chat's was a guess
        return request.building_source == "chat" and found.mostly_place
    return found.mostly_place and (request.unit is None and bool(found.unit)
                                   or request.room is None and bool(found.room))


def _neighbour(t: Turn, request: Request) -> bool:
    """A resident, not yet on this open complaint, adding to it: in private, or in a group of its building."""
    if t.person.staff_id is not None or request.kind != "complaint" or permissions.allowed(t, "add", request):
        return False
    msg = t.msg
    here = msg.is_private or request.building in binding.chat_buildings(t, msg.channel, msg.chat_id)
    return here and request.state in OPEN_STATES


def reason_after_score(t: Turn, reading: Reading, text: str) -> bool:
    """Her first private words after "哪里不满意？" (asked only when her low score came without a reason, and only
    for a short while) are the reason, if they read like one: the assignee hears them. A command, a question, words
    about another problem or request, or anything said later is handled as it would be otherwise."""
    request = t.uow.requests.reopened_by_score_of(t.person.id, t.now - schedule.REASON_WINDOW)
    if request is None or not any(f.kind in schedule.REASON and f.due_at > t.now
                                  for f in t.uow.followups.pending(request.id)):
        return False
    t.uow.followups.cancel(request.id, schedule.REASON)  # asked once: her next words answer it, or never
    if not _reads_like_reason(t, reading, text, request):
        return False
    new_problem = reading.kind != "none"
    t.reply("resident.reason_added_or_new" if new_problem else "resident.reason_added", ref=ref(t, request, t.lang))
    news.tell(t, request, "detail", text, attachments=list(t.msg.attachments))
    return True


def _reads_like_reason(t: Turn, reading: Reading, text: str, request: Request) -> bool:
    """'还在滴水', '师傅根本没来': no command ("/foo"), no question, no other category, place or request named."""
    line = text.strip()
    if line[:1] in "/／#＃" or is_status_question(line) or is_greeting(line) or is_thanks(line):
        return False
    named = named_request(t.svc.catalog, line)
    category = chasing.named_category(t, reading, line)
    elsewhere = reading.building and request.building and reading.building != request.building
    return (named in (None, request.id) and category in (None, "other", request.category) and not elsewhere
            and not reading.urgent)


def rate_command(t: Turn, cmd: Command) -> None:
    """评价 N 5 [comment]: rate a request by number."""
    request = load(t, cmd.number, cmd.verb)
    check_rateable(t, request)  # "评价 2" on a request rated already is told so, not asked for a score
    rating = parse_rating(cmd.rest)
    if rating is None:
        raise BadCommand("error.rating_form", number=request.id)
    rate(t, request, *rating)
