"""Binding accounts and chats: a staff member's account by one-time code, a group chat to its building."""
from __future__ import annotations

import re

from handlers import permissions
from handlers.commands import Command
from handlers.community import Community, Member
from handlers.context import Turn
from handlers.errors import UserError
from handlers.intake import Reading
from handlers.messages import Inbound
from handlers.telling import advice
from handlers.views import call_numbers, content
from storage.models import Offer

_BUILDING = re.compile(r"(\d{1,3})")
HELP = {"leader": "help.leader", "secretary": "help.leader", "grid_member": "help.staff", "volunteer": "help.volunteer"}


def help_key(role: str | None) -> str:
    """The help a person gets, by role: the commands she may use."""
    return HELP.get(role or "", "help.resident")


def bind(t: Turn, cmd: Command) -> None:
    """`/bind CODE` or `/start CODE` in a private chat: this account now belongs to the staff member of the code."""
    code = cmd.rest.strip()
    if not code:  # a plain /start: the first hello in a private chat
        t.reply(help_key(t.person.role))
        return
    member = _owner(t.community, code)
    if not t.msg.is_private:
        if member is None:
            raise UserError("bind.private_only")
        return _void(t, member, code)
    if member is None:
        raise UserError("bind.unknown")
    if not t.uow.ledger.use_code(code, t.now):
        raise UserError("bind.used")
    staff = t.uow.people.by_staff_id(member.id)
    t.uow.people.link(staff, t.msg.channel, t.msg.sender_id, t.msg.chat_id, t.now)
    t.say.release(staff)
    t.say.reply(t.msg, staff.language, "bind.done", purpose="bound", name=staff.name,
                role=t.svc.catalog.role_before(staff.language, staff.role, staff.name))


def screened(cmd: Command | None, msg: Inbound, community: Community) -> Command | None:
    """The command to act on. In a group, a message with someone's binding code in it, however put, is a binding
    to refuse (and the code to void); `绑定 X` without one is chatter (绑定手机号)."""
    if msg.is_private:
        return cmd
    code = next((m.bind_code for m in community.members if m.bind_code and _said(m.bind_code, msg.text)), None)
    if code is not None:
        return Command("bind", None, code, True)
    return None if cmd is not None and cmd.verb == "bind" and not cmd.slash else cmd


def _said(code: str, text: str) -> bool:
    """The code as a word of its own: 1234 is not in 13812341234. (Every group message asks: `in` first is cheap.)"""
    return code in text and re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text) is not None


def _owner(community: Community, code: str) -> Member | None:
    return next((m for m in community.members if m.bind_code and m.bind_code == code), None) if code else None


def _void(t: Turn, member: Member, code: str) -> None:
    """A binding code posted where others read it: spend it so nobody can take the account with it, say so in
    the group without naming whose it was, and tell its owner privately (or, before the owner has a private chat
    with the bot, the secretary) that a new code must be set in config.yaml."""
    t.uow.ledger.use_code(code, t.now)
    t.reply("bind.code_in_group")
    owner = t.uow.people.by_staff_id(member.id)
    chat = t.msg.chat_title or t.msg.chat_id
    if owner is not None and t.say.address(owner) is not None:
        t.say.to_person(owner, "bind.code_voided", urgent=True, chat=chat, id=member.id)
        return
    secretary = t.community.first_with_role("secretary")
    if secretary is not None and secretary.id != member.id:
        t.say.to_staff(secretary.id, "bind.code_voided_secretary", chat=chat, name=member.name, id=member.id)


def bind_chat(t: Turn, cmd: Command) -> None:
    """`/bindchat 3号楼` in a group, by the secretary or leader: reports here are filed for that building."""
    if t.msg.is_private:
        raise UserError("bind.chat_group_only")
    permissions.check(t, cmd.verb)
    known = {b for grid in t.community.grids for b in grid.buildings}
    buildings = [b for b in dict.fromkeys(_BUILDING.findall(cmd.rest)) if b in known]
    if not buildings:
        raise UserError("bind.chat_no_building", known="、".join(sorted(known, key=int)))
    t.uow.chats.bind(t.msg.channel, t.msg.chat_id, buildings, t.person.id, t.now)
    t.reply("bind.chat_done", buildings="、".join(
        t.svc.catalog.text(t.lang, "place.building", building=b) for b in buildings))


def known_chat(t: Turn, channel: str, chat_id: str) -> bool:
    """Whether a group is one of the community's: named in config.yaml or bound with /bindchat."""
    return t.community.chat(channel, chat_id) is not None or t.uow.chats.buildings(channel, chat_id) is not None


def unbound_report(t: Turn, reading: Reading) -> None:
    """A report from a group that is neither in config nor bound: filed for nobody, yet not lost. It is kept for
    the leader and the secretary (in their 我的 and the digest), and the group hears once how to bind it.

    An emergency cannot wait for a binding: the group is told the number to call every time, and the leader and
    the secretary hear of it privately at once."""
    msg = t.msg
    t.uow.ledger.add_offer(Offer(channel=msg.channel, chat_id=msg.chat_id, person_id=t.person.id, text=msg.text,
                                 message_id=msg.message_id, status="failed", created_at=t.now, expires_at=t.now))
    call = call_numbers(t, reading.call) if reading.urgent and reading.call else None
    if call:
        t.reply("ack.call_first", call=call, more=tuple(advice(t, t.lang, reading)))
        for role in ("leader", "secretary"):
            member = t.community.first_with_role(role)
            if member is not None:
                t.say.to_staff(member.id, "reach.unbound_urgent", chat=msg.chat_title or msg.chat_id,
                               name=msg.sender_name, text=content(t, msg.text), call=call)
    if t.uow.chats.hinted(msg.channel, msg.chat_id, t.now):
        t.reply("bind.chat_unbound")


def chat_buildings(t: Turn, channel: str, chat_id: str) -> tuple[str, ...]:
    """The buildings a group chat stands for: bound from inside the chat, else as config.yaml says."""
    bound = t.uow.chats.buildings(channel, chat_id)
    if bound is not None:
        return tuple(bound)
    chat = t.community.chat(channel, chat_id)
    return tuple(chat.buildings) if chat else ()
