"""Everything the bot says is written here as outbox rows, inside the change's own transaction."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from handlers.catalog import Catalog
from handlers.community import Community
from handlers.deadlines import quiet_until
from handlers.messages import Inbound
from storage.models import Person, Request
from storage.people import Address
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

Choices = tuple[tuple[str, str], ...]
PHONE = re.compile(r"(?<!\d)(1[3-9]\d|0\d{2,3}-)(\d{3,4})(\d{4})(?!\d)")


@dataclass
class Say:
    """Queues messages for one unit of work; texts come from the catalog in the recipient's language."""

    uow: UnitOfWork
    catalog: Catalog
    community: Community
    now: datetime
    running: frozenset[str] | None = None  # the channels this process sends on (None: any, as in handler tests)

    def reply(self, msg: Inbound, lang: str, key: str, *, choices: Choices = (), purpose: str | None = None,
              request_id: int | None = None, more: tuple[str, ...] = (), attachments: tuple[str, ...] = (),
              first: tuple[str, ...] = (), **params: Any) -> None:
        """Answer a message where it was sent, with `first` lines before (what to do now, in an emergency) and
        `more` lines after; in a group, mention the sender. Goes out at once."""
        self._queue(msg.channel, msg.chat_id, lang, key, params, choices=choices, purpose=purpose, more=more,
                    first=first,
                    request_id=request_id, mention_ids=() if msg.is_private else (msg.sender_id,),
                    in_group=not msg.is_private, attachments=attachments)

    def to_person(self, person: Person, key: str, *, urgent: bool = False, request: Request | None = None,
                  choices: Choices = (), purpose: str | None = None, attachments: tuple[str, ...] = (),
                  **params: Any) -> None:
        """A private message. Who it is for decides where it may go when there is no private chat:

        a resident is mentioned in her request's group instead; a notice for staff never goes to a group (it
        carries residents' names, words and flats) but is held until they can be reached, and the leader and
        the secretary are told. Messages to residents wait for the end of quiet hours unless they, or their
        request, are urgent.
        """
        send_at, more = self.now, ()
        urgent = urgent or (request is not None and request.urgent)  # her mother is in the lift: no night wait
        if person.staff_id is None and not urgent:
            send_at = quiet_until(self.community, self.now) or self.now
            if self._day(send_at) != self._day(self.now):  # "明天上门" written at 23:00 means the day she reads it
                at = self.now.astimezone(self.community.zone).strftime("%m-%d %H:%M")
                more = (self.catalog.text(person.language, "say.written_at", at=at),)
        address = self.address(person)
        if address is not None:
            channel, chat_id, mentions = address.channel, address.private_chat, ()
        elif person.staff_id is not None:
            first = not self.uow.outbox.held_for(person.id)
            if first:  # loud: until they write to the bot on a running channel, their notices go nowhere
                log.error("staff member %s has no private chat on a running channel (%s): notices held, the "
                          "leader and the secretary told", person.staff_id, ", ".join(sorted(self.running or ())))
            self._queue("", "", person.language, key, params, choices=choices, purpose=purpose,
                        request_id=request.id if request else None, mention_ids=(), person_id=person.id,
                        status="held", attachments=attachments)
            if first:
                self.unreachable(person)
            return
        elif request is not None and request.source_kind == "group":
            identity = self.uow.people.identity_on(person.id, request.channel)
            if identity is None or self.uow.chats.is_lost(request.channel, request.source_chat):
                return  # a group the bot was removed from: its grid member was told once, nothing more queues
            channel, chat_id, mentions = request.channel, request.source_chat, (identity.external_id,)
        else:
            return
        self._queue(channel, chat_id, person.language, key, params, choices=choices, purpose=purpose,
                    request_id=request.id if request else None, mention_ids=mentions,
                    person_id=person.id, send_at=send_at, in_group=bool(mentions), more=more,
                    attachments=attachments)

    def _day(self, at: datetime):
        return at.astimezone(self.community.zone).date()

    def unreachable(self, staff: Person) -> None:
        """Tell the leader and the secretary, privately, that a staff member's notices wait for them."""
        for role in ("leader", "secretary"):
            member = self.community.first_with_role(role)
            boss = self.uow.people.by_staff_id(member.id) if member and member.id != staff.staff_id else None
            if boss is not None:
                self.to_person(boss, "reach.staff_unreachable", urgent=True, purpose="reach", name=staff.name,
                               role=self.catalog.role_before(boss.language, staff.role, staff.name))

    def address(self, person: Person) -> Address | None:
        """The private chat to reach a person in, on a channel that is running (see PeopleRepository)."""
        return self.uow.people.private_address(person.id, self.running)

    def release(self, person: Person) -> bool:
        """Send what waits for a staff member to where they can now be reached privately; False if nowhere."""
        address = self.address(person)
        if address is None:
            return False
        self.uow.outbox.release_held(person.id, address.channel, address.private_chat, self.now)
        return True

    def to_staff(self, staff_id: str, key: str, *, request: Request | None = None, choices: Choices = (),
                 **params: Any) -> None:
        """A private message to a member from config, by config id."""
        person = self.uow.people.by_staff_id(staff_id)
        if person is not None:
            self.to_person(person, key, urgent=True, request=request, choices=choices, **params)

    def text(self, lang: str, key: str, **params: Any) -> str:
        """A catalog text, for handlers that assemble a message from parts."""
        return self.catalog.text(lang, key, **params)

    def _queue(self, channel: str, chat_id: str, lang: str, key: str, params: dict[str, Any], *,
               choices: Choices, purpose: str | None, request_id: int | None, mention_ids: tuple[str, ...],
               person_id: int | None = None, send_at: datetime | None = None, in_group: bool = False,
               status: str = "pending", more: tuple[str, ...] = (), attachments: tuple[str, ...] = (),
               first: tuple[str, ...] = ()) -> None:
        if in_group and params.get("contact"):  # a staff work phone is for the resident, not the whole building
            params = {**params, "contact": ""}
        text = "\n".join((*first, self.catalog.text(lang, key, **params), *more))
        if in_group:  # no phone number in a group, even one staff wrote in a note; no photo (it may show a home)
            text = PHONE.sub(lambda m: m[1] + "*" * len(m[2]) + m[3], text)
            attachments = ()
        self.uow.outbox.add(
            channel=channel, chat_id=chat_id, person_id=person_id, request_id=request_id, purpose=purpose,
            text=text,
            choices=[[self.catalog.text(lang, label), answer] for label, answer in choices],
            mention_ids=list(mention_ids), next_attempt_at=send_at or self.now, created_at=self.now, status=status,
            attachments=list(attachments))


@dataclass
class SayOnPage(Say):
    """Say for a command given on the web workbench: the answers to the staff member are kept as texts for the page
    to show (she is looking at it); everything said to anyone else goes through the outbox as from the chat."""

    answers: list[str] = field(default_factory=list)

    def reply(self, msg: Inbound, lang: str, key: str, *, choices: Choices = (), purpose: str | None = None,
              request_id: int | None = None, more: tuple[str, ...] = (), attachments: tuple[str, ...] = (),
              first: tuple[str, ...] = (), **params: Any) -> None:
        """Keep the answer for the page."""
        self.answers.append("\n".join((*first, self.catalog.text(lang, key, **params), *more)))
