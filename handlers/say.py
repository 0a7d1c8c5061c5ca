"""Everything the bot says is written here as outbox rows, inside the change's own transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handlers.catalog import Catalog
from handlers.community import Community
from handlers.deadlines import quiet_until
from handlers.messages import Inbound
from storage.models import Person, Request
from storage.uow import UnitOfWork

Choices = tuple[tuple[str, str], ...]


@dataclass
class Say:
    """Queues messages for one unit of work; texts come from the catalog in the recipient's language."""

    uow: UnitOfWork
    catalog: Catalog
    community: Community
    now: datetime

    def reply(self, msg: Inbound, lang: str, key: str, *, choices: Choices = (), purpose: str | None = None,
              request_id: int | None = None, **params: Any) -> None:
        """Answer a message where it was sent; in a group, mention the sender. Goes out at once."""
        self._queue(msg.channel, msg.chat_id, lang, key, params, choices=choices, purpose=purpose,
                    request_id=request_id, mention_ids=() if msg.is_private else (msg.sender_id,),
                    in_group=not msg.is_private)

    def to_person(self, person: Person, key: str, *, urgent: bool = False, request: Request | None = None,
                  choices: Choices = (), purpose: str | None = None, **params: Any) -> None:
        """A private message; a resident with no private chat is mentioned in the request's group instead.

        Non-urgent messages to residents wait for the end of quiet hours.
        """
        send_at = self.now
        if person.staff_id is None and not urgent:
            send_at = quiet_until(self.community, self.now) or self.now
        address = self.uow.people.private_address(person.id)
        if address is not None:
            channel, chat_id, mentions = address.channel, address.private_chat, ()
        elif request is not None and request.source_kind == "group":
            identity = self.uow.people.identity_on(person.id, request.channel)
            if identity is None:
                return
            channel, chat_id, mentions = request.channel, request.source_chat, (identity.external_id,)
        else:
            return
        self._queue(channel, chat_id, person.language, key, params, choices=choices, purpose=purpose,
                    request_id=request.id if request else None, mention_ids=mentions,
                    person_id=person.id, send_at=send_at, in_group=bool(mentions))

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
               person_id: int | None = None, send_at: datetime | None = None, in_group: bool = False) -> None:
        if in_group and params.get("contact"):  # a staff work phone is for the resident, not the whole building
            params = {**params, "contact": ""}
        self.uow.outbox.add(
            channel=channel, chat_id=chat_id, person_id=person_id, request_id=request_id, purpose=purpose,
            text=self.catalog.text(lang, key, **params),
            choices=[[self.catalog.text(lang, label), answer] for label, answer in choices],
            mention_ids=list(mention_ids), next_attempt_at=send_at or self.now, created_at=self.now)
