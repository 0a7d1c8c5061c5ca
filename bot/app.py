"""build_app(): the one place that wires storage, handlers, channels, the outbox sender and the scheduler."""
from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot import retention
from bot.channels.base import Channel
from bot.outage import Outage
from bot.outbox import OutboxSender
from bot.settings import Settings
from bot.spool import Spool
from bot.sweep import Sweep
from handlers import digest, reach
from handlers.catalog import Catalog
from handlers.clock import Clock, SystemClock
from handlers.context import Services, Turn
from handlers.dispatcher import Dispatcher
from handlers.intake import Reader
from handlers.messages import Inbound
from handlers.say import Say
from handlers.signin_links import SignInLinks
from storage.db import Database, is_transient
from storage.models import Outbox
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class App:
    """A wired bot: hand it messages, let it sweep follow-ups, send the digest and drain the outbox."""

    settings: Settings
    db: Database
    clock: Clock
    services: Services
    dispatcher: Dispatcher
    spool: Spool
    channels: dict[str, Channel] = field(default_factory=dict)
    sender: OutboxSender | None = None
    outage: Outage = field(default_factory=lambda: Outage(log, "message intake (database unavailable)"))

    def handle(self, message: Inbound) -> bool | None:
        """Handle one inbound message from any channel; one the database cannot take is kept for later.

        Returns whether it did what was asked (see Dispatcher.handle); None when kept, or chatter."""
        message = message.storable()
        self._replay()  # what was kept goes first, so a rating never overtakes its report
        if self.spool.waiting:  # the database is still away: this one waits behind the others
            self.spool.keep(message)
            log.warning("message kept for when the database is back: channel=%s chat=%s message=%s (%d waiting)",
                        message.channel, message.chat_id, message.message_id, self.spool.waiting)
            return None
        try:
            done = self.dispatcher.handle(message)
        except Exception as error:  # the dispatcher answers every other failure itself; this is storage gone
            self.outage.failed(error)  # the traceback once per outage; each message then one line
            self.spool.keep(message)
            log.warning("message kept for when the database is back: channel=%s chat=%s message=%s: %s",
                        message.channel, message.chat_id, message.message_id, type(error).__name__)
            return None
        self.outage.worked()
        return done

    async def retry_kept(self) -> int:
        """Handle the messages kept while the database was unavailable; in the event loop, where they are kept."""
        return self._replay()

    def _replay(self) -> int:
        if not self.spool.waiting:
            return 0
        handled = self.spool.replay(self.dispatcher.handle, transient=is_transient, dead=self._dead_letter)
        if not self.spool.waiting:
            self.outage.worked()
        return handled

    def _dead_letter(self, message: Inbound) -> None:
        """A kept message that kept failing was set aside in a file: the secretary hears so, without its text."""
        secretary = self.services.community.first_with_role("secretary")
        if secretary is None:
            return
        with UnitOfWork(self.db) as uow:
            self._turn(uow).say.to_staff(secretary.id, "notice.dead_letter", channel=message.channel,
                                          file=self.spool.dead_path.name)
            uow.commit()

    def sweep(self, limit: int | None = None) -> int:
        """Fire every follow-up that is due (at most `limit`), in batches; return how many fired. Blocks: the
        timer runs it in a worker thread, `tick` too."""
        return Sweep(self.db, self.clock, self._turn)(limit)

    def prune(self) -> dict[str, int]:
        """The daily job: history older than `schedule.keep_history` leaves the hot tables; blocks (a timer's
        worker thread runs it)."""
        return retention.prune(self.db, self.clock, self.services.community.schedule.keep_history)

    def send_digest_if_due(self) -> bool:
        """Send today's digest if its time has come and it has not gone out yet.

        Computed in a read transaction, which on SQLite leaves the write lock to the reports that keep coming in;
        only claiming the day and queueing the messages write. The timer runs this in a worker thread."""
        with UnitOfWork(self.db, read_only=True) as uow:
            turn = self._turn(uow)
            day = digest.due_today(turn)
            if day is None:
                return False
            bodies = digest.prepare(turn)
        with UnitOfWork(self.db) as uow:
            sent = digest.send(self._turn(uow), day, bodies)
            uow.commit()
            return sent

    def digest_text(self, lang: str | None = None) -> str:
        """Today's digest as the secretary would get it, without sending anything (in a read transaction)."""
        with UnitOfWork(self.db, read_only=True) as uow:
            turn = self._turn(uow)
            return digest.render(turn, digest.compute(turn), lang or self.services.community.community.language)

    def keep_dev_time(self) -> None:
        """Remember where the console's dev-mode clock stands, so a restart and `doorstep digest` see that day."""
        with UnitOfWork(self.db) as uow:
            uow.dev_clock.keep(self.clock.now())
            uow.commit()

    def dev_time(self) -> datetime | None:
        """Where the console's dev-mode clock was last moved to on this database, if ever."""
        with UnitOfWork(self.db) as uow:
            return uow.dev_clock.moved_to()

    async def drain(self, channel: str | None = None) -> int:
        """Send what is due in the outbox, on one channel or on all."""
        return await self.sender.drain(channel) if self.sender else 0

    async def tick(self, wait_for: str | None = None) -> None:
        """Everything the timers do, at once: for the console's /advance, start-up and tests.

        Waits for the outbox of one channel (or all); the others go on draining in the background.
        """
        await self.retry_kept()
        # In a worker thread with its own sessions, as the timers run them: hundreds due must not stall the loop.
        await asyncio.to_thread(self.sweep)
        await asyncio.to_thread(self.send_digest_if_due)
        self.sender.wake()
        await self.drain(wait_for)

    def chat_lost(self, row: Outbox) -> None:
        """An outbox row found its chat unreachable: tell whoever is responsible, in one transaction."""
        try:
            with UnitOfWork(self.db) as uow:
                reach.chat_lost(self._turn(uow), row.channel, row.chat_id, person_id=row.person_id,
                                request_id=row.request_id, purpose=row.purpose)
                uow.commit()
        except Exception:
            log.exception("could not report lost chat: channel=%s chat=%s", row.channel, row.chat_id)

    def chat_moved(self, row: Outbox, new_chat_id: str) -> None:
        """An outbox row found its group under a new id: follow it there."""
        with UnitOfWork(self.db) as uow:
            reach.chat_moved(self._turn(uow), row.channel, row.chat_id, new_chat_id)
            uow.commit()

    def _turn(self, uow: UnitOfWork) -> Turn:
        now = self.clock.now()
        services = self.services
        return Turn(services, uow, Say(uow, services.catalog, services.community, now, services.running), now)


def build_app(settings: Settings, *, clock: Clock | None = None,
              channels: Mapping[str, Channel] | None = None, migrate: bool = True) -> App:
    """Wire a bot from settings; tests pass a FakeClock and in-memory channels."""
    clock = clock or SystemClock()
    community = settings.community
    db = Database(settings.database_url)
    if migrate:
        db.migrate()
    channels = dict(channels or {})
    services = Services(community, Catalog.load(community.community.language),
                        Reader.from_file(bot_name=community.community.bot_name), links=_sign_in_links(settings),
                        running=frozenset(channels) or None)
    _sync_staff(db, settings, clock, channels)
    app = App(settings, db, clock, services, Dispatcher(services, db, clock), Spool(settings.spool_path), channels)
    app.sender = OutboxSender(db, clock, channels, on_unreachable=app.chat_lost, on_moved=app.chat_moved)
    db.on_outbox = app.sender.queued  # what a change queued goes out at once, not at the next tick
    return app


def _sign_in_links(settings: Settings) -> SignInLinks | None:
    """The web workbench's sign-in links, when it runs: signed with DOORSTEP_WEB_SECRET, else a key of this process
    (links and sessions then end with it)."""
    web = settings.web
    if not web.enabled:
        return None
    secret = settings.env.get("DOORSTEP_WEB_SECRET") or secrets.token_urlsafe(32)
    return SignInLinks(secret, web.public_url, web.links_per_hour)


def _sync_staff(db: Database, settings: Settings, clock: Clock, channels: Mapping[str, Channel]) -> None:
    """Staff from config become people with identities, so routing and permissions can find them."""
    with UnitOfWork(db) as uow:
        for m in settings.community.members:
            private = {ch: (channels[ch].private_chat_for(ext) if ch in channels else ext)
                       for ch, ext in m.contacts.items()}
            uow.people.ensure_staff(m.id, m.name, m.role, m.language, dict(m.contacts), private, clock.now())
        uow.commit()
