"""The outbox sender: a queue per (channel, chat), one drainer per channel, rows leased, sent, marked sent.

A row is leased (status 'sending') in one short transaction and marked sent in another, so no database lock is
held while a platform is slow. If the process dies in between, the lease runs out and the row is sent again:
at most the one message in flight is sent twice.

Each channel has one drainer per process, however many callers ask it to drain: it leases what is due and hands
each chat's rows, in order, to that chat's own task. A chat that must wait (a group's per-minute limit, a 429,
a backoff) holds up only itself: the storage query never leases a row while an earlier row of the same chat is
still waiting, so a chat's messages never overtake one another, and other chats go on. The channel's overall
pace is one slot at a time under a lock, so concurrent chats never send in a burst; a chat is leased only when
its turn has come (bot.pace) and no more than its window takes (a Telegram group's 20 a minute, bot.windows), so
the notices queued for one person up to that moment go as one message (bot.combine). A row told to wait wakes
its channel when it falls due (the timer's tick is only a safety net). A chat's task sends its rows and settles
each (bot.delivery).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta

from bot.channels.base import Channel
from bot.delivery import Delivery
from bot.outage import Outage
from bot.pace import Pace
from handlers.clock import Clock
from storage.db import Database
from storage.models import Outbox
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
# Long enough for a slowly paced chat's leased rows and a slow send; short, since a chat's later messages wait
# behind a row whose sender died until its lease runs out.
LEASE = timedelta(seconds=60)


class OutboxSender(Delivery):
    """Drains the outbox of the channels this process runs."""

    def __init__(self, db: Database, clock: Clock, channels: Mapping[str, Channel], *,
                 batch: int = 50, on_unreachable: Callable[[Outbox], None] | None = None,
                 on_moved: Callable[[Outbox, str], None] | None = None) -> None:
        self.db, self.clock, self.channels = db, clock, channels
        self.batch = batch
        self.on_unreachable, self.on_moved = on_unreachable, on_moved
        self._pace = Pace(db, clock)
        self._come_back: dict[str, float | None] = {}  # per channel: when (monotonic) a chat held back opens
        self._news: dict[str, set[str] | None] = {}  # per channel: chats queued for since it last leased (None: any)
        self._retries: set[asyncio.TimerHandle] = set()  # wake-ups for when rows told to wait fall due
        self._draining: dict[str, asyncio.Task] = {}
        self._woken: dict[str, asyncio.Event] = {}  # per channel: something was queued while its drain ran
        self._sent: dict[str, int] = {}  # per channel, messages sent by this process
        self._in_flight: set[int] = set()  # rows handed to a platform and not yet answered
        self._outages: dict[str, Outage] = {}  # per channel: a drain failing run after run (the database away)
        self._stopping = False

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

    def queued(self, chats: set[tuple[str, str]]) -> None:
        """A commit queued messages for these (channel, chat)s: wake their channels (db.on_outbox). A running
        drain leases again only if one of the chats may be sent to now; for one that must wait it comes back when
        its turn comes, so a flood of reports into paced chats does not cost a claim query each."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        for name, chat in chats:
            if name in self.channels:
                self._drainer(name, chat)

    async def kick(self) -> None:
        """The outbox timer's job: wake every channel (in the event loop, hence a coroutine)."""
        self.wake()

    async def idle(self) -> None:
        """Wait until the background drains running now have finished."""
        await asyncio.gather(*(t for t in self._draining.values() if not t.done()), return_exceptions=True)

    async def stop(self, grace: float = 0.0) -> None:
        """Stop draining. Sends under way may finish for up to `grace` seconds, so after an ordinary restart no
        chat waits out the lease of a message that had in fact gone; then drains are cancelled. A row cancelled
        while being sent waits out its lease and goes next time; the others go back at once."""
        self._stopping = True
        deadline = time.monotonic() + grace
        while self._in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for timer in self._retries:
            timer.cancel()
        self._retries.clear()
        for task in self._draining.values():
            task.cancel()
        await self.idle()
        self._stopping = False

    async def drain(self, channel: str | None = None) -> int:
        """Send everything due now on one channel, or on every channel side by side; return how many were sent.

        A caller joins the channel's running drainer (which goes round once more for what the caller queued), so
        two drains never pace a channel twice over.
        """
        names = [channel] if channel else list(self.channels)
        before = {name: self._sent.get(name, 0) for name in names}
        await asyncio.gather(*(asyncio.shield(self._drainer(name)) for name in names))
        return sum(self._sent.get(name, 0) - before[name] for name in names)

    def _drainer(self, name: str, chat: str | None = None) -> asyncio.Task:
        """The channel's running drain, told to go round again (for news of one chat, or of any), or a new one."""
        task = self._draining.get(name)
        if task is None or task.done():
            self._woken[name] = asyncio.Event()
            task = self._draining[name] = asyncio.ensure_future(self._drain_channel(name))
            task.add_done_callback(lambda done: self._settled(name, done))
        else:
            news = self._news.get(name)
            if chat is None:
                self._news[name] = None
            elif news is not None:
                news.add(chat)
            self._woken[name].set()
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
        """Lease what is due, give each chat its rows, and lease again whenever a chat is done or news came."""
        channel, woken = self.channels[name], self._woken[name]
        chats: dict[asyncio.Task, tuple[str, deque[Outbox]]] = {}  # each chat being sent to: its id and rows
        failure: BaseException | None = None
        lease = True
        try:
            while True:
                woken.clear()
                if lease:
                    held = sum(len(queue) for _, queue in chats.values())
                    self._come_back[name], self._news[name] = None, set()
                    for rows in [] if self._stopping else self._lease(name, channel, held):
                        queue = deque(rows)
                        chats[asyncio.ensure_future(self._send_chat(channel, queue))] = (rows[0].chat_id, queue)
                opens = None if self._stopping else self._come_back[name]  # a chat held back: come back for it
                if not chats and opens is None:
                    if failure is not None:
                        raise failure
                    return
                news = asyncio.ensure_future(woken.wait())
                timer = ({asyncio.ensure_future(asyncio.sleep(max(0.0, opens - time.monotonic())))}
                         if opens is not None else set())
                done, _ = await asyncio.wait({*chats, news, *timer}, return_when=asyncio.FIRST_COMPLETED)
                for task in timer:
                    task.cancel()
                news.cancel()
                lease = bool(done - {news}) or self._news_may_go(name, channel, {c for c, _ in chats.values()})
                for task in done - {news} - timer:
                    del chats[task]
                    failure = failure or task.exception()
        finally:  # stopped: what was leased and not yet on its way goes back, so the next drain need not wait
            for task in chats:
                task.cancel()
            self._release([row.id for _, queue in chats.values() for row in queue if row.id not in self._in_flight])

    def _news_may_go(self, name: str, channel: Channel, busy: set[str]) -> bool:
        """Whether a chat queued for since the last lease may be sent to now. One being sent to is leased again
        when its task ends; one whose turn has not come, when it comes (the drain's come-back)."""
        news, self._news[name] = self._news.get(name), set()
        if news is None:
            return True
        closed = self._pace.closed(channel)
        for chat in news - busy:
            if chat not in closed:
                return True
            self._hold_back(name, closed[chat])
        return False

    def _lease(self, name: str, channel: Channel, held: int = 0) -> list[list[Outbox]]:
        """Due rows of the chats whose turn has come, grouped by chat in order: no more per chat, nor in all (with
        the `held` ones still being sent), than the channel's pace sends well within the lease, so no lease runs
        out while its row waits. A chat whose turn has not come is left out (the drain comes back for it), so
        what is queued for it meanwhile goes in its next message."""
        budget = LEASE.total_seconds() / 2
        limit = min(self.batch, int(budget / channel.overall_gap) - held) if channel.overall_gap else self.batch
        if limit <= 0:
            return []
        now = self.clock.now()
        closed = self._pace.closed(channel)  # left out of the claim, so their backlog never fills it
        with UnitOfWork(self.db) as uow:
            for chat in uow.outbox.due_chats(name, now, tuple(closed)) if closed else ():
                self._hold_back(name, closed[chat])
            rows = uow.outbox.claim_due(name, now, limit, tuple(closed))
            chats: dict[str, list[Outbox]] = {}
            for row in rows:
                taken = chats.setdefault(row.chat_id, [])
                gap = max(channel.pacing(row.chat_id), channel.overall_gap)
                if taken and len(taken) * gap >= budget:
                    continue  # the rest of this chat waits, still pending, until these are sent
                if len(taken) >= self._pace.room(channel, row.chat_id):  # no lease waits out a window
                    self._hold_back(name, self._pace.opens_in(channel, row.chat_id))
                    continue
                row.status, row.attempts, row.next_attempt_at = "sending", row.attempts + 1, now + LEASE
                uow.session.add(row)
                taken.append(row)
            uow.commit()
            return [taken for taken in chats.values() if taken]

    def _hold_back(self, name: str, seconds: float) -> None:
        """A chat with a due row may not be sent to for `seconds`: the drain comes back for it then."""
        at, current = time.monotonic() + seconds, self._come_back.get(name)
        self._come_back[name] = at if current is None else min(current, at)
