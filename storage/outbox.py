"""Outbox rows: added with the change they report, claimed by the sender, marked sent or retried."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.appends import Appends
from storage.db import among, constant
from storage.fast import Prepared
from storage.models import Outbox

_OUTBOX = Outbox.__table__
MARK_SENT = Prepared(update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row"))
                     .values(status="sent", sent_at=bindparam("at"), next_attempt_at=bindparam("at"),
                             last_error=None, platform_message_id=bindparam("platform_id")))
RECENT_ROWS = 1000  # a restart looks this far back for the channel's last send: minutes of traffic, not history


class OutboxRepository:
    """Outbox of one unit of work."""

    def __init__(self, session: Session, appends: Appends) -> None:
        self.session, self.appends = session, appends
        self.queued: set[tuple[str, str]] = set()  # (channel, chat) this unit of work queued messages for

    def add(self, *, channel: str, chat_id: str, text: str, next_attempt_at: datetime, created_at: datetime,
            person_id: int | None = None, request_id: int | None = None, purpose: str | None = None,
            choices: list[list[str]] | None = None, mention_ids: list[str] | None = None,
            status: str = "pending", attachments: list[str] | None = None) -> None:
        """Queue a message, to be sent from next_attempt_at on; a 'held' one waits for its person instead."""
        if status == "pending":
            self.queued.add((channel, chat_id))
        self.appends.add(Outbox, channel=channel, chat_id=chat_id, text=text, next_attempt_at=next_attempt_at,
                         created_at=created_at, person_id=person_id, request_id=request_id, purpose=purpose,
                         choices=choices or [], mention_ids=mention_ids or [], status=status, attempts=0,
                         attachments=attachments or None)

    def answered(self, channel: str, chat_id: str, at: datetime) -> list[str]:
        """What was queued for a chat that is answered in place (an API client, in its HTTP response): the texts,
        oldest first, marked sent."""
        stmt = (select(Outbox.id, Outbox.text)
                .where(Outbox.channel == channel, Outbox.chat_id == chat_id, Outbox.status == "pending")
                .order_by(col(Outbox.id)))
        rows = list(self.session.exec(stmt))
        if rows:
            self.session.execute(update(_OUTBOX).where(_OUTBOX.c.id.in_([row_id for row_id, _ in rows]))
                                 .values(status="sent", sent_at=at))
        return [text for _, text in rows]

    def held_for(self, person_id: int) -> list[int]:
        """The messages waiting for a person who cannot be reached privately."""
        stmt = select(Outbox.id).where(col(Outbox.status) == constant("held"), Outbox.person_id == person_id)
        return list(self.session.exec(stmt))

    def release_held(self, person_id: int, channel: str, chat_id: str, at: datetime) -> int:
        """Send what waited for a person to the private chat they can now be reached in; return how many."""
        released = self.session.exec(
            update(Outbox).where(col(Outbox.status) == constant("held"), Outbox.person_id == person_id)
            .values(status="pending", channel=channel, chat_id=chat_id, next_attempt_at=at, attempts=0,
                    last_error=None)).rowcount
        if released:
            self.queued.add((channel, chat_id))
        return released

    def claim_due(self, channel: str, now: datetime, limit: int, skip_chats: tuple[str, ...] = ()) -> list[Outbox]:
        """Messages for a channel whose time has come (or whose sender's lease ran out), oldest first.

        A row waits while an earlier row of its chat is not yet due (being sent, or told to wait), so a chat's
        messages go out in order. Rows locked by another sender are skipped, and so are the chats the sender
        cannot send to now (a full window), so their backlog never fills the batch ahead of other chats.
        """
        earlier = aliased(Outbox)
        waiting_ahead = (select(earlier.id)
                         .where(earlier.channel == Outbox.channel, earlier.chat_id == Outbox.chat_id,
                                earlier.id < Outbox.id, among(col(earlier.status), ("pending", "sending")),
                                earlier.next_attempt_at > now)
                         .exists())
        stmt = (select(Outbox)
                .where(among(col(Outbox.status), ("pending", "sending")), Outbox.channel == channel,
                       Outbox.next_attempt_at <= now, ~waiting_ahead,
                       *([col(Outbox.chat_id).not_in(skip_chats)] if skip_chats else []))
                .order_by(col(Outbox.id))
                .limit(limit)
                .with_for_update(skip_locked=True))
        return list(self.session.exec(stmt))

    def last_sent_at(self, channel: str, recent: int = RECENT_ROWS) -> datetime | None:
        """When the channel last sent a message, among the newest `recent` rows: a range of the primary key, never
        a scan of history (sent rows are in no other index); None if none of them went out on it."""
        newest = self.session.exec(select(func.max(Outbox.id))).one()
        if newest is None:
            return None
        stmt = select(func.max(Outbox.sent_at)).where(Outbox.id > newest - recent, Outbox.channel == channel,
                                                      Outbox.status == constant("sent"))
        return self.session.exec(stmt).one()

    def due_chats(self, channel: str, now: datetime, chats: tuple[str, ...]) -> list[str]:
        """Which of these chats have a message due."""
        stmt = (select(Outbox.chat_id).distinct()
                .where(among(col(Outbox.status), ("pending", "sending")), Outbox.channel == channel,
                       col(Outbox.chat_id).in_(chats), Outbox.next_attempt_at <= now))
        return list(self.session.exec(stmt))

    def mark_sent(self, outbox_id: int, at: datetime, platform_message_id: str | None) -> None:
        """Record that a message went out; one statement, as this runs for every message sent."""
        MARK_SENT.run(self.session, {"row": outbox_id, "at": at, "platform_id": platform_message_id})

    def release(self, outbox_ids: list[int], now: datetime) -> None:
        """Leased rows given back unsent: pending again and due now (they still wait for the rows ahead)."""
        # Not tried, so the lease's count comes off: a row released often would otherwise back off as if it had
        # failed as often, the next time it really fails.
        self.session.execute(update(_OUTBOX).where(_OUTBOX.c.id.in_(outbox_ids), _OUTBOX.c.status == "sending")
                             .values(status="pending", next_attempt_at=now, attempts=_OUTBOX.c.attempts - 1))

    def drop_chat(self, channel: str, chat_id: str, error: str) -> int:
        """A chat the bot cannot post in any more: what still waits for it fails; return how many."""
        return self.session.execute(
            update(_OUTBOX).where(_OUTBOX.c.channel == channel, _OUTBOX.c.chat_id == chat_id,
                                  among(_OUTBOX.c.status, ("pending", "sending")))
            .values(status="failed", last_error=error)).rowcount

    def move_chat(self, channel: str, old: str, new: str, now: datetime) -> int:
        """A chat now under a new id: what waits for it goes there, in the same order, from now on."""
        moved = self.session.execute(
            update(_OUTBOX).where(_OUTBOX.c.channel == channel, _OUTBOX.c.chat_id == old,
                                  among(_OUTBOX.c.status, ("pending", "sending")))
            .values(chat_id=new, status="pending", next_attempt_at=now)).rowcount
        if moved:
            self.queued.add((channel, new))
        return moved

    def get(self, outbox_id: int) -> Outbox | None:
        """One outbox row."""
        return self.session.get(Outbox, outbox_id)

    def sent_as(self, channel: str, chat_id: str, platform_message_id: str) -> Outbox | None:
        """The outbox row that became this platform message, to understand replies to it."""
        stmt = select(Outbox).where(Outbox.channel == channel, Outbox.chat_id == chat_id,
                                    Outbox.platform_message_id == platform_message_id)
        return self.session.exec(stmt).first()
