"""Filing: a read message becomes a request (or joins an open one), routed, with deadlines and notices."""
from __future__ import annotations

from handlers import binding, lifecycle, news, schedule
from handlers.commands import says_me_too
from handlers.context import Turn
from handlers.deadlines import deadlines
from handlers.intake import Reading
from handlers.routing import route
from handlers.telling import first_steps
from handlers.views import about, content
from storage.models import Offer, Person, Request

CLAIM_CHOICE = (("choice.claim", "接单 {number}"),)


def file_request(t: Turn, reading: Reading, text: str) -> Request:
    """File a message as a request, or link a complaint to an open one of the same category and place.

    A micro-wish is personal (her light bulb is not her neighbour's parcel): never linked, nor linked to.
    """
    msg, community = t.msg, t.community
    chat_buildings = binding.chat_buildings(t, msg.channel, msg.chat_id)
    building, source = reading.building, reading.building_source
    if building is None and len(chat_buildings) == 1:
        building, source = chat_buildings[0], "chat"
    kind = reading.kind if reading.kind != "none" else "complaint"
    category = reading.category or "other"
    if building and kind == "complaint":
        since = t.now - community.schedule.duplicate_window
        alike = t.uow.requests.open_like(category, building, reading.unit, since)[::-1]  # the latest first
        existing = next((r for i, r in enumerate(alike) if _same_problem(t, r, reading, text, latest=i == 0)), None)
        if existing is not None:
            return _join(t, existing, text, reading)
    way = route(community, building, category, kind, chat_buildings)
    assignee = t.uow.people.by_staff_id(way.assignee)
    respond_by, resolve_by = deadlines(community, category, reading.urgent, t.now)
    request = t.uow.requests.new(
        kind=kind, category=category, urgent=reading.urgent, building=building, unit=reading.unit,
        room=reading.room, building_source=source, text=text, evidence=list(reading.evidence),
        language=t.lang, reporter_id=t.person.id, channel=msg.channel, source_chat=msg.chat_id,
        source_kind=msg.chat_kind, grid=way.grid, respond_by=respond_by, resolve_by=resolve_by,
        created_at=t.now, updated_at=t.now)
    # Assigned before it is first written, so filing costs one INSERT and no UPDATE.
    lifecycle.apply(request, "assign", t.now)
    request.assignee_id = assignee.id
    t.uow.requests.add(request)
    t.uow.requests.record(request, "filed", t.now, actor_id=t.person.id, building_source=source,
                          message_id=msg.message_id, attachments=list(msg.attachments))
    t.uow.requests.record(request, "assigned", t.now, to=way.assignee, grid=way.grid)
    schedule.for_response(t, request)
    schedule.for_resolution(t, request)
    _announce(t, request, reading, way.inform, way.volunteers)
    return request


def _announce(t: Turn, request: Request, reading: Reading, inform: tuple[str, ...], volunteers: tuple[str, ...]):
    """The group's short acknowledgement, the assignee's private notice, and whoever else must know."""
    # A wish with no place reaches no volunteers: the reporter hears who has it instead, like any request.
    ack = "ack.urgent" if request.urgent else "ack.wish" if volunteers else "ack.complaint"
    # One message, not several: a group takes only 20 a minute on Telegram, and each one pings everybody. In an
    # emergency what to do now comes first: on a phone, the number to call is the line she reads.
    first = tuple(first_steps(t, t.lang, reading)) if request.urgent else ()
    more = []
    if request.building is None:  # the grid leader has it meanwhile; where it is decides whose it is
        more.append(t.say.text(t.lang, "ack.ask_place", number=request.id))
    account = t.account
    if account is not None and account.invited_at is None and not (account.private_chat and not account.unreachable):
        t.uow.people.invited(account, t.now)  # once per account: asking on every report would nag
        more.append(t.say.text(t.lang, f"ack.invite.{t.msg.channel}"))
    t.say.reply(t.msg, t.lang, ack, request_id=request.id, first=first, more=tuple(more),
                and_leader=_and_leader(t, request),
                **about(t, request, t.lang))
    assignee = t.uow.people.get(request.assignee_id)
    notice = "notice.urgent" if request.urgent else "notice.new"
    choice = claim_choice(request)
    t.say.to_person(assignee, notice, urgent=True, request=request, choices=choice, attachments=t.msg.attachments,
                    **about(t, request, assignee.language), reporter=t.person.name)
    if request.urgent:
        _alert_leader(t, request, assignee)
    for staff_id in inform:
        _tell_staff(t, staff_id, "notice.inform", request)
    for staff_id in volunteers:
        _tell_staff(t, staff_id, "notice.wish_offer", request, choices=choice)


def _same_problem(t: Turn, existing: Request, reading: Reading, text: str, latest: bool) -> bool:
    """Whether a report of the same category and place is the same problem, so she follows it rather than files.

    It must name the same thing (a building's lift is one, however named): a leaking kitchen pipe is not a
    neighbour's blocked toilet (both plumbing), a broken door entry not a loose handrail. Where trouble may be
    inside a flat, each household's home is its own, unless it is a supply that fails for many at once ("家里停水
    了"), or both give the same flat. She may say it is the same ("+1 我家也被淹了"): as the latest, or as the one
    of the same thing. 安全隐患 holds dangers that have nothing to do with each other: a fire is not the gas smell
    reported before it, and each needs its own alert and advice. A wrong link loses a problem nobody then works
    on; a missed one costs staff a merge.
    """
    reader = t.svc.reader
    before, now = reader.spoken_of(existing.text, existing.category), reader.spoken_of(text, existing.category)
    same_flat = bool(existing.room) and existing.room == reading.room
    # "+1 我家也被淹了": the same as the latest, or as the one it names, in her own home or not
    me_too = says_me_too(text) and (latest or before.things & now.things or before.outage and now.outage)
    other_flat = existing.room and reading.room and not same_flat
    own_home = (before.at_home or now.at_home) and not (before.outage and now.outage) and not same_flat
    if not me_too and (other_flat or not before.things & now.things or own_home):
        return False
    if existing.category != "safety":
        return True
    earlier = reader.read(existing.text)
    return (earlier.urgent, earlier.advice) == (reading.urgent, reading.advice)


def _join(t: Turn, existing: Request, text: str, reading: Reading) -> Request:
    """A second report of an open problem: the reporter follows the first and is told so.

    If the new report says someone is in danger now, the open request becomes urgent with everything that goes
    with it: otherwise a person trapped in a lift already reported as broken would be one more 'me too'.
    """
    turned_urgent = reading.urgent and not existing.urgent
    if turned_urgent:
        _turn_urgent(t, existing, text)
    mine = existing.reporter_id == t.person.id
    # A new neighbour follows; what the reporter or a follower writes again is a detail. The assignee hears of
    # it (coalesced); the urgent alert carries it already, and the timeline keeps it either way.
    action = "followed" if not mine and t.uow.requests.follow(existing.id, t.person.id, t.now) else "detail"
    if turned_urgent:  # the timeline has her words once, in 转为紧急; a new neighbour is recorded as following
        if action == "followed":
            t.uow.requests.record(existing, action, t.now, actor_id=t.person.id)
    else:
        news.tell(t, existing, action, text, urgent=reading.urgent, message_id=t.msg.message_id)
    ack = "ack.already_yours" if mine else "ack.followed"
    first = tuple(first_steps(t, t.lang, reading)) if reading.urgent else ()
    t.say.reply(t.msg, t.lang, "ack.turned_urgent" if turned_urgent else ack, first=first,
                and_leader=_and_leader(t, existing), **about(t, existing, t.lang))
    return existing


def _turn_urgent(t: Turn, request: Request, text: str) -> None:
    """Urgent deadlines (never later than those it had), follow-ups to match, and the urgent alerts."""
    respond_by, resolve_by = deadlines(t.community, request.category, True, t.now)
    request.urgent = True
    request.resolve_by = min(request.resolve_by, resolve_by)
    t.uow.followups.cancel(request.id, schedule.RESOLUTION)
    schedule.for_resolution(t, request)
    if request.state == "assigned":  # nobody has claimed it yet: the response deadline tightens too
        request.respond_by = min(request.respond_by, respond_by)
        t.uow.followups.cancel(request.id, schedule.RESPONSE)
        schedule.for_response(t, request)
    t.uow.requests.record(request, "turned_urgent", t.now, actor_id=t.person.id, note=text,
                          message_id=t.msg.message_id)
    assignee = t.uow.people.get(request.assignee_id)
    if assignee is not None:
        t.say.to_person(assignee, "notice.turned_urgent", urgent=True, request=request,
                        choices=claim_choice(request) if request.state == "assigned" else (),
                        **{**about(t, request, assignee.language), "text": content(t, text)}, reporter=t.person.name)
    _alert_leader(t, request, assignee, text)


def place_found(t: Turn, request: Request) -> bool:
    """The reporter named the place of a request filed without one: unless someone has claimed it already, it
    goes from whoever triaged it to that grid's member. True if it moved."""
    way = route(t.community, request.building, request.category, request.kind)
    member = t.uow.people.by_staff_id(way.assignee)
    if request.state != "assigned" or member is None or member.id == request.assignee_id:
        return False
    before = t.uow.people.get(request.assignee_id)
    lifecycle.apply(request, "transfer", t.now)
    request.assignee_id, request.grid = member.id, way.grid
    t.uow.requests.record(request, "transferred", t.now, to=way.assignee, grid=way.grid)
    t.say.to_person(member, "notice.placed", urgent=True, request=request, choices=claim_choice(request),
                    **about(t, request, member.language))
    if before is not None:
        t.say.to_person(before, "notice.placed_away", urgent=True, request=request, name=member.name,
                        **about(t, request, before.language))
    return True


def claim_choice(request: Request) -> tuple[tuple[str, str], ...]:
    """The 接单 button (or hint) under a notice that asks someone to take a request."""
    return tuple((label, answer.format(number=request.id)) for label, answer in CLAIM_CHOICE)


def _and_leader(t: Turn, request: Request) -> str:
    """「和网格长」 in an urgent acknowledgement, unless the grid leader is the one who has the request."""
    assignee = t.uow.people.get(request.assignee_id)
    alerted = assignee is None or assignee.staff_id not in t.community.escalation[:1]
    return t.say.text(t.lang, "ack.and_leader") if alerted else ""


def _alert_leader(t: Turn, request: Request, assignee: Person | None, text: str | None = None) -> None:
    """An urgent request goes at once to the first rung of the escalation ladder too, unless that is the assignee."""
    for staff_id in t.community.escalation[:1]:
        if assignee is None or staff_id != assignee.staff_id:
            _tell_staff(t, staff_id, "notice.urgent_leader", request, text=text)


def _tell_staff(t: Turn, staff_id: str, key: str, request: Request, *, choices=(), text: str | None = None) -> None:
    """A notice about the request to a member from config, in her own language (not the reporter's); `text`
    quotes a new message instead of the request's own."""
    person = t.uow.people.by_staff_id(staff_id)
    if person is not None:
        params = about(t, request, person.language)
        if text is not None:
            params["text"] = content(t, text)
        t.say.to_person(person, key, urgent=True, request=request, choices=choices, **params)


def offer(t: Turn, reading: Reading) -> None:
    """Keep an untagged request-like message and ask whether to file it."""
    msg = t.msg
    t.uow.ledger.add_offer(Offer(
        channel=msg.channel, chat_id=msg.chat_id, person_id=t.person.id, text=msg.text, message_id=msg.message_id,
        created_at=t.now, expires_at=t.now + t.community.schedule.offer_expires_after))
    t.say.reply(msg, t.lang, "offer.ask_wish" if reading.kind == "wish" else "offer.ask", purpose="offer",
                choices=(("choice.file", "1"), ("choice.skip", "2")),
                category=t.svc.catalog.label(t.lang, "category", reading.category))


def answer_offer(t: Turn, pending: Offer, yes: bool) -> None:
    """File the kept message, or let it go, as the resident answered."""
    if not yes:
        pending.status = "declined"
        t.uow.session.add(pending)
        t.reply("offer.declined")
        return
    pending.status = "filed"
    t.uow.session.add(pending)
    buildings = binding.chat_buildings(t, pending.channel, pending.chat_id)
    chat_building = buildings[0] if len(buildings) == 1 else None
    reading = t.svc.reader.read(pending.text, chat_building=chat_building)
    file_request(t, reading, pending.text)
