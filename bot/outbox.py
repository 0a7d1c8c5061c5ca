"""The outbox sender: takes due rows under a lease, sends them through their channel, marks them sent.

A row is leased (status 'sending') in one short transaction and marked sent in another, so no database lock is
held while a platform is slow. If the process dies in between, the lease runs out and the row is sent again:
at most the one message in flight is sent twice. A platform that fails (network down, server errors) is tried
again with backoff, 2 s doubling to 10 minutes, and one that asks to wait is waited for, until the message is a
day old: an outage of hours loses nothing, and a week-old reply never arrives as if it were new.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta

from bot.channels.base import Channel, Rejected, RetryLater, Unreachable
from bot.outage import Outage
from handlers.clock import Clock
from handlers.messages import Choice, Outbound
from storage.db import Database
from storage.models import Outbox
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=120)
GIVE_UP_AFTER = timedelta(days=1)  # a reply or reminder older than this is no use to anyone
MAX_BACKOFF = 600  # seconds


class OutboxSender:
    """Drains the outbox of the channels this process runs."""

    def __init__(self, db: Database, clock: Clock, channels: Mapping[str, Channel], *,
                 batch: int = 50, on_unreachable: Callable[[Outbox], None] | None = None) -> None:
        self.db, self.clock, self.channels = db, clock, channels
        self.batch = batch
        self.on_unreachable = on_unreachable
        self._last_sent: dict[tuple[str, str | None], float] = {}
        self._draining: dict[str, asyncio.Task] = {}
        self._woken: set[str] = set()  # channels woken while their drain was running
        self._sent: dict[str, int] = {}  # per channel, messages sent by this process
        self._outages: dict[str, Outage] = {}  # per channel: a drain failing run after run (the database away)

    def wake(self, channels: Iterable[str] | None = None) -> None:
        """Start draining these channels (or all) in the background, unless one is being drained already.

        Called after every commit that queued messages, so replies go out at once, and by the timer every second.
        A paced channel's backlog can take minutes to send; callers return at once instead of waiting for it.
        Without a running event loop (a script, a synchronous test, a timer's worker thread) nothing starts: the
        caller or the next tick drains.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        for name in self.channels if channels is None else channels:
            if name in self.channels:  # else queued for a channel this process does not run
                self._drainer(name)

    async def kick(self) -> None:
        """The outbox timer's job: wake every channel (in the event loop, hence a coroutine)."""
        self.wake()

    async def idle(self) -> None:
        """Wait until the background drains running now have finished."""
        await asyncio.gather(*(t for t in self._draining.values() if not t.done()), return_exceptions=True)

    async def stop(self) -> None:
        """Cancel background drains; a row cancelled before it was sent waits out its lease and goes next time."""
        for task in self._draining.values():
            task.cancel()
        await self.idle()

    async def drain(self, channel: str | None = None) -> int:
        """Send everything due now on one channel, or on every channel side by side; return how many were sent.

        There is one drainer per channel however many callers ask: a caller joins the one running (which goes
        round once more for what the caller queued), so two drains never pace a channel twice over.
        """
        names = [channel] if channel else list(self.channels)
        before = {name: self._sent.get(name, 0) for name in names}
        await asyncio.gather(*(asyncio.shield(self._drainer(name)) for name in names))
        return sum(self._sent.get(name, 0) - before[name] for name in names)

    def _drainer(self, name: str) -> asyncio.Task:
        """The channel's running drain, told to go round again, or a new one."""
        task = self._draining.get(name)
        if task is None or task.done():
            task = self._draining[name] = asyncio.ensure_future(self._drain_channel(name))
            task.add_done_callback(lambda done: self._settled(name, done))
        else:
            self._woken.add(name)
        return task

    def _settled(self, name: str, task: asyncio.Task) -> None:
        """Log a drain that failed once per outage (the timer starts one every second), and the outage's end."""
        if task.cancelled():
            return
        outage = self._outages.setdefault(name, Outage(log, f"outbox drain of {name}"))
        error = task.exception()
        if error is not None:
            outage.failed(error)
        else:
            outage.worked()

    async def _drain_channel(self, name: str) -> None:
        channel = self.channels[name]
        # A slowly paced channel leases few rows at a time, so none outlives its lease waiting for its turn.
        gap = channel.overall_gap
        batch = min(self.batch, max(1, int(LEASE.total_seconds() / (4 * gap)))) if gap else self.batch
        while True:
            self._woken.discard(name)
            rows = self._lease(name, batch)
            for row in rows:
                self._sent[name] = self._sent.get(name, 0) + await self._deliver(channel, row)
            # A short batch took all that was due; go on only if something new was queued meanwhile.
            if len(rows) < batch and name not in self._woken:
                return

    def _lease(self, channel: str, batch: int) -> list[Outbox]:
        now = self.clock.now()
        with UnitOfWork(self.db) as uow:
            rows = uow.outbox.claim_due(channel, now, batch)
            for row in rows:
                row.status, row.attempts, row.next_attempt_at = "sending", row.attempts + 1, now + LEASE
                uow.session.add(row)
            uow.commit()
            return rows

    async def _deliver(self, channel: Channel, row: Outbox) -> int:
        await self._pace(channel, row.chat_id)
        message = Outbound(channel=row.channel, chat_id=row.chat_id, text=row.text, outbox_id=row.id,
                           choices=tuple(Choice(label, reply) for label, reply in row.choices),
                           mention_ids=tuple(row.mention_ids), purpose=row.purpose)
        stale = self.clock.now() - row.created_at >= GIVE_UP_AFTER
        try:
            platform_id = await channel.send(message)
        except RetryLater as wait:
            if stale:
                log.error("gave up waiting to send: channel=%s outbox=%s: %s", row.channel, row.id, wait)
            self._settle(row.id, "failed" if stale else "pending", delay=timedelta(seconds=wait.seconds),
                         error=str(wait))
            return 0
        except Unreachable as gone:
            log.warning("chat unreachable: channel=%s chat=%s outbox=%s", row.channel, row.chat_id, row.id)
            self._settle(row.id, "failed", error=f"unreachable: {gone}", unreachable=True)
            if self.on_unreachable is not None:
                self.on_unreachable(row)
            return 0
        except Rejected as refused:
            log.error("message refused: channel=%s chat=%s outbox=%s: %s", row.channel, row.chat_id, row.id, refused)
            self._settle(row.id, "failed", error=f"rejected: {refused}"[:500])
            return 0
        except Exception as error:  # a passing platform or network failure: back off and try again
            log.log(logging.ERROR if stale else logging.WARNING, "send failed%s: channel=%s outbox=%s attempt=%s: %r",
                    ", giving up" if stale else "", row.channel, row.id, row.attempts, error)
            backoff = timedelta(seconds=min(2 ** row.attempts, MAX_BACKOFF))
            self._settle(row.id, "failed" if stale else "pending", delay=backoff, error=repr(error)[:500])
            return 0
        with UnitOfWork(self.db) as uow:
            uow.outbox.mark_sent(row.id, self.clock.now(), platform_id)
            uow.commit()
        return 1

    async def _pace(self, channel: Channel, chat_id: str) -> None:
        """Wait out the channel's gap per chat and, where it has one, its gap between any two messages."""
        for key, gap in (((channel.name, chat_id), channel.pacing(chat_id)),
                         ((channel.name, None), channel.overall_gap)):
            if gap <= 0:
                continue
            wait = self._last_sent.get(key, 0.0) + gap - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        now = time.monotonic()
        self._last_sent[(channel.name, chat_id)] = self._last_sent[(channel.name, None)] = now

    def _settle(self, outbox_id: int, status: str, *, delay: timedelta = timedelta(), error: str | None = None,
                unreachable: bool = False) -> None:
        now = self.clock.now()
        with UnitOfWork(self.db) as uow:
            row = uow.outbox.get(outbox_id)
            row.status, row.next_attempt_at, row.last_error = status, now + delay, error
            if unreachable and row.person_id:
                identity = uow.people.identity_on(row.person_id, row.channel)
                if identity is not None and identity.private_chat == row.chat_id:
                    identity.unreachable = True
                    uow.session.add(identity)
                if uow.people.get(row.person_id).staff_id is not None:
                    row.status = "held"  # a staff notice waits for its person; it never goes to a group instead
            uow.session.add(row)
            uow.commit()
