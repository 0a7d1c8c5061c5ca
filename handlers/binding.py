"""Binding accounts and chats: a staff member's account by one-time code, a group chat to its building."""
from __future__ import annotations

import re

from handlers import permissions
from handlers.commands import Command
from handlers.context import Turn
from handlers.errors import UserError

_BUILDING = re.compile(r"(\d{1,3})")


def bind(t: Turn, cmd: Command) -> None:
    """`/bind CODE` or `/start CODE` in a private chat: this account now belongs to the staff member of the code."""
    code = cmd.rest.strip()
    if not code:  # a plain /start: the first hello in a private chat
        t.reply("help.staff" if t.staff_role() else "help.resident")
        return
    if not t.msg.is_private:
        raise UserError("bind.private_only")
    member = next((m for m in t.community.members if m.bind_code and m.bind_code == code), None)
    if member is None:
        raise UserError("bind.unknown")
    if not t.uow.ledger.use_code(code, t.now):
        raise UserError("bind.used")
    staff = t.uow.people.by_staff_id(member.id)
    t.uow.people.link(staff, t.msg.channel, t.msg.sender_id, t.msg.chat_id, t.now)
    t.say.release(staff)
    t.say.reply(t.msg, staff.language, "bind.done", name=staff.name,
                role=t.svc.catalog.label(staff.language, "role", staff.role))


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


def chat_buildings(t: Turn, channel: str, chat_id: str) -> tuple[str, ...]:
    """The buildings a group chat stands for: bound from inside the chat, else as config.yaml says."""
    bound = t.uow.chats.buildings(channel, chat_id)
    if bound is not None:
        return tuple(bound)
    chat = t.community.chat(channel, chat_id)
    return tuple(chat.buildings) if chat else ()
