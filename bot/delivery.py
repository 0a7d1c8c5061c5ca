"""Sending one chat's leased rows, in order, and settling each: sent, back to wait, given up, or the chat lost.

A chat that moved to a new id takes its rows along (Moved); one that is lost (Unreachable) is reported once, and
its rows dropped, by on_unreachable. A platform that fails is tried again with backoff, 1 s doubling to 10
minutes, and one that asks to wait is waited for, until the message is a day old: an outage of hours loses
nothing, and a week-old reply never arrives as if it were new.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable
from datetime import timedelta

from bot.channels.base import Channel, Moved, Rejected, RetryLater, Unreachable
from bot import combine
from bot.pace import Pace
from handlers.clock import Clock
from handlers.messages import Outbound
from storage.db import Database
from storage.models import Outbox
from storage.uow import UnitOfWork

log = logging.getLogger("bot.outbox")  # the sender logs under one name, whichever half of it speaks
GIVE_UP_AFTER = timedelta(days=1)  # a reply or reminder older than this is no use to anyone
MAX_BACKOFF = 600  # seconds
DUE_MARGIN = 0.01  # seconds: a wake-up for a row told to wait comes just after it falls due, never just before


class Delivery:
    """The per-chat half of the outbox sender (bot.outbox.OutboxSender, which sets up what it uses)."""

    db: Database
    clock: Clock
    on_unreachable: Callable[[Outbox], None] | None
    on_moved: Callable[[Outbox, str], None] | None
    _pace: Pace
    _retries: set[asyncio.TimerHandle]
    _sent: dict[str, int]
    _in_flight: set[int]
    _stopping: bool
    wake: Callable[[Iterable[str] | None], None]

    def _wake_in(self, name: str, seconds: float) -> None:
        """Wake the channel when a row told to wait falls due, rather than at the timer's next tick."""
        def due() -> None:
            self._retries.discard(timer)
            self.wake([name])
        timer = asyncio.get_running_loop().call_later(seconds + DUE_MARGIN, due)
        self._retries.add(timer)

    async def _send_chat(self, channel: Channel, queue: deque[Outbox]) -> None:
        """Send one chat's rows in order; if one must wait, the rest wait behind it (back to pending, due now).
        Notices queued for one person go as one message when the chat's pace would make them wait (bot.combine)."""
        max_length = getattr(channel, "max_length", None)
        while queue:
            if self._stopping:  # what has not yet gone goes back, for the next process
                self._release([row.id for row in queue])
                return queue.clear()
            paced = channel.pacing(queue[0].chat_id) > 0
            rows = combine.take(queue, max_length, paced=paced)
            try:
                go_on = await self._deliver(channel, rows)
            except asyncio.CancelledError:  # stopped while pacing: given back now (the drain gives back the queue)
                self._release([row.id for row in rows if row.id not in self._in_flight])
                raise
            # A notice left over (more than one message holds) goes back, to be leased at the chat's next turn with
            # what is queued meanwhile: kept here, it would go alone, and a backlog would never clear (seen: 10
            # and a remainder every 2.2 s, each notice waiting up to that, while 5 a second came in).
            if not go_on or paced and queue and combine.combinable(queue[0]):
                self._release([row.id for row in queue])
                queue.clear()

    async def _deliver(self, channel: Channel, rows: list[Outbox]) -> bool:
        """Send rows of one chat as one message; True if the chat may go on to its next message."""
        row, ids = rows[0], [r.id for r in rows]
        await self._pace.turn(channel, row.chat_id)
        message = Outbound(channel=row.channel, chat_id=row.chat_id,
                           text=combine.text_of(rows, getattr(channel, "max_length", None)), outbox_id=row.id,
                           choices=combine.choices_of(rows), mention_ids=tuple(row.mention_ids), purpose=row.purpose,
                           attachments=combine.attachments_of(rows))
        stale = self.clock.now() - row.created_at >= GIVE_UP_AFTER
        self._in_flight.update(ids)  # from here a cancelled send may have gone out: its lease keeps it
        try:
            platform_id = await channel.send(message)
        except RetryLater as wait:
            if stale:
                log.error("gave up waiting to send: channel=%s outbox=%s: %s", row.channel, ids, wait)
            self._settle(ids, "failed" if stale else "pending", delay=timedelta(seconds=wait.seconds),
                         error=str(wait), failure=False)
            if not stale:
                self._wake_in(channel.name, wait.seconds)
            return stale
        except Moved as moved:  # the chat's rows, these first, go to the new id (leased again from pending)
            log.info("chat moved: channel=%s outbox=%s", row.channel, ids)
            if self.on_moved is not None:
                self.on_moved(row, moved.new_chat_id)
            return False
        except Unreachable as gone:
            log.warning("chat unreachable: channel=%s outbox=%s", row.channel, ids)
            for lost in rows:  # one by one, as each was queued: whoever must hear of it hears once
                self._settle([lost.id], "failed", error=f"unreachable: {gone}", unreachable=True)
                if self.on_unreachable is not None:
                    self.on_unreachable(lost)  # a lost group's other rows fail there: the chat stops here
            return False
        except Rejected as refused:
            log.error("message refused: channel=%s outbox=%s: %s", row.channel, ids, refused)
            self._settle(ids, "failed", error=f"rejected: {refused}"[:500])
            return True
        except Exception as error:  # a passing platform or network failure: back off and try again
            log.log(logging.ERROR if stale else logging.WARNING, "send failed%s: channel=%s outbox=%s attempt=%s: %r",
                    ", giving up" if stale else "", row.channel, ids, row.attempts, error)
            backoff = timedelta(seconds=min(2 ** (row.attempts - 1), MAX_BACKOFF))
            self._settle(ids, "failed" if stale else "pending", delay=backoff, error=repr(error)[:500])
            if not stale:
                self._wake_in(channel.name, backoff.total_seconds())
            return stale
        finally:
            self._in_flight.difference_update(ids)
            self._pace.ended(channel, row.chat_id)
        with UnitOfWork(self.db) as uow:
            for sent in ids:
                uow.outbox.mark_sent(sent, self.clock.now(), platform_id)
            uow.commit()
        self._sent[channel.name] = self._sent.get(channel.name, 0) + len(ids)
        return True

    def _release(self, outbox_ids: list[int]) -> None:
        """Leased rows that wait behind an earlier one of their chat: pending again, due now, still in order."""
        if outbox_ids:
            with UnitOfWork(self.db) as uow:
                uow.outbox.release(outbox_ids, self.clock.now())
                uow.commit()

    def _settle(self, outbox_ids: list[int], status: str, *, delay: timedelta = timedelta(),
                error: str | None = None, unreachable: bool = False, failure: bool = True) -> None:
        """Put rows back (or give them up). A wait the platform asked for (`failure=False`) takes the lease's try
        back off the count: each 429 has its own wait, and counted it would lengthen the backoff of the next
        failure of an unlucky row as if the platform had been failing all along (seen: 16 s after 429, 502, 429,
        502, the chat fine in between)."""
        now = self.clock.now()
        with UnitOfWork(self.db) as uow:
            for outbox_id in outbox_ids:
                row = uow.outbox.get(outbox_id)
                row.status, row.next_attempt_at, row.last_error = status, now + delay, error
                row.attempts -= 0 if failure else 1
                if unreachable and row.person_id:
                    identity = uow.people.identity_on(row.person_id, row.channel)
                    if identity is not None and identity.private_chat == row.chat_id:
                        identity.unreachable = True
                        uow.session.add(identity)
                    if uow.people.get(row.person_id).staff_id is not None:
                        row.status = "held"  # a staff notice waits for its person; never goes to a group instead
                uow.session.add(row)
            uow.commit()
