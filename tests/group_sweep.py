"""The privacy sweep: every message any test makes the bot send to a group is checked for personal data.

A group may see a short acknowledgement with a request number and an @mention, nothing more (README, DESIGN
"Who hears what"): no phone number, no flat number but the addressee's own, no resident's words, no resident's
name but the addressee's own @mention. tests/conftest.py wraps the channels of every outbox sender with this.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path
from dataclasses import dataclass, field

from sqlmodel import select

from handlers.messages import Outbound
from storage.models import Event, Identity, Offer, Person, Request
from storage.uow import UnitOfWork

PHONE = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-\d{7,8})(?!\d)")
FLAT = re.compile(r"(?<!\d)(\d{3,4})\s*(?:室|号房|房间|户)")
_TAG = re.compile(r"^(?:@\S+\s*)*(?:[#＃]\S+\s*)?")
CATALOGS = Path(__file__).resolve().parents[1] / "handlers" / "catalogs"
WINDOW = 8  # characters of a resident's words that give them away
RESIDENT_WORDS = ("followed", "detail", "turned_urgent")  # timeline notes that are a resident's own text


@dataclass
class Known:
    """What the database knows that a group must not be told, as seen from one message's addressees."""

    names: set[str] = field(default_factory=set)       # residents other than the addressees
    words: set[str] = field(default_factory=set)       # residents' complaint and request texts
    flats: set[str] = field(default_factory=set)       # flats of requests that are not the addressees'
    own_flats: set[str] = field(default_factory=set)   # flats of the addressees' own requests


def leaks(text: str, known: Known) -> list[str]:
    """What in a group message's text is personal data, each as a short reason; empty when it is clean."""
    found = [f"phone number {m}" for m in PHONE.findall(text)]
    found += [f"flat {flat}" for flat in FLAT.findall(text) if flat not in known.own_flats]
    found += [f"flat {flat}" for flat in sorted(known.flats)
              if re.search(rf"(?<!\d){re.escape(flat)}(?!\d)", text) and flat not in known.own_flats]
    found += [f"resident's name {name}" for name in sorted(known.names) if name in text]
    for words in sorted(known.words):
        body = _TAG.sub("", words).strip()
        if len(body) >= 4 and any(piece in text and piece not in _bot_texts() for piece in _pieces(body)):
            found.append(f"resident's words {body!r}")
    return list(dict.fromkeys(found))


@functools.cache
def _bot_texts() -> str:
    """Everything the catalogs say: a resident who writes the help text's own example (「#投诉 3号楼电梯坏了」)
    has not had her words repeated when the help text is shown."""
    return "\n".join(path.read_text("utf-8") for path in CATALOGS.glob("*.yaml"))


def _pieces(body: str) -> list[str]:
    """Runs of a resident's words long enough to give them away: 8 characters of Chinese, 4 words of English."""
    if body.isascii():
        words = body.split()
        return [" ".join(words[i:i + 4]) for i in range(max(1, len(words) - 3))]
    return [body] if len(body) <= WINDOW else [body[i:i + WINDOW] for i in range(len(body) - WINDOW + 1)]


def known_for(uow: UnitOfWork, message: Outbound) -> Known:
    """What must not be in this group message, read from storage at the moment it is sent."""
    s = uow.session
    addressees = set(s.exec(select(Identity.person_id).where(
        Identity.channel == message.channel, Identity.external_id.in_(message.mention_ids or ("",)))))
    staff_names = set(s.exec(select(Person.name).where(Person.staff_id.is_not(None))))
    known = Known()
    for person in s.exec(select(Person).where(Person.staff_id.is_(None))):
        if person.id not in addressees and person.name not in staff_names and len(person.name) >= 2:
            known.names.add(person.name)
    for request in s.exec(select(Request)):
        known.words.add(request.text)
        if request.room:
            (known.own_flats if request.reporter_id in addressees else known.flats).add(request.room)
    known.words.update(s.exec(select(Offer.text)))
    known.words.update(n for n in s.exec(select(Event.note).where(Event.action.in_(RESIDENT_WORDS))) if n)
    known.flats -= known.own_flats
    return known


def is_group(channel, chat_id: str) -> bool:
    """Whether a chat of a channel is a group: console groups are named, Telegram's have negative ids."""
    if channel.name == "telegram":
        return chat_id.startswith("-")
    if channel.name == "wechat":  # room ids end in @chatroom; the real channel also remembers rooms heard from
        return chat_id.endswith("@chatroom") or getattr(channel, "_is_room", lambda _: False)(chat_id)
    return not chat_id.startswith("@")


class Sweep:
    """Wraps channels so that every group message they send is checked; collects what leaked."""

    def __init__(self) -> None:
        self.leaks: list[str] = []

    def guard(self, channel, db) -> None:
        """Check every group message this channel sends, against this database."""
        send = channel.send

        async def checked(message: Outbound):
            if is_group(channel, message.chat_id):
                with UnitOfWork(db) as uow:
                    found = leaks(message.text, known_for(uow, message))
                if found:
                    self.leaks.append(f"{message.chat_id}: {message.text!r} leaks {', '.join(found)}")
            return await send(message)

        channel.send = checked
