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
its channel when it falls due (the timer's tick is only a safety net). A chat that moved to a new id takes its
rows along (Moved); one that is lost (Unreachable) is reported once, and its rows dropped, by on_unreachable. A
platform that fails is tried again with backoff, 1 s doubling to 10 minutes, and one that asks to wait is waited
for, until the message is a day old: an outage of hours loses nothing, and a week-old reply never arrives as if
it were new.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta

from bot.channels.base import Channel, Moved, Rejected, RetryLater, Unreachable
from bot import combine
from bot.outage import Outage
from bot.pace import Pace
from handlers.clock import Clock
from handlers.messages import Outbound
from storage.db import Database
from storage.models import Outbox
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
# Long enough for a slowly paced chat's leased rows and a slow send; short, since a chat's later messages wait
# behind a row whose sender died until its lease runs out.
LEASE = timedelta(seconds=60)
GIVE_UP_AFTER = timedelta(days=1)  # a reply or reminder older than this is no use to anyone
MAX_BACKOFF = 600  # seconds
DUE_MARGIN = 0.01  # seconds: a wake-up for a row told to wait comes just after it falls due, never just before


class OutboxSender:
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
