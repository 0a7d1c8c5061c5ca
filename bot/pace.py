"""When the outbox may next send to a chat: its own gap and window, the channel's overall slot, an earlier process.

The sender asks `closed()` before it leases, and leases nothing for a chat that may not be sent to yet: rows are
taken when the chat's turn has come, so every notice queued for a person up to that moment goes in the message
(bot.combine), not only those queued before the previous message went. `turn()` then waits out what remains
(the overall slot; after a restart, the earlier process's last send).
"""
from __future__ import annotations

import asyncio
import time

from bot.channels.base import Channel
from bot.windows import Windows
from handlers.clock import Clock
from storage.db import Database
from storage.uow import UnitOfWork


class Pace:
    """When each chat of each channel last had a message, and when it may have the next one (time.monotonic())."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock
        self._last: dict[tuple[str, str | None], float] = {}  # (channel, chat), and (channel, None) for overall
        self._windows = Windows()  # a chat that takes only so many in a minute (bot.windows)
        self._slot: dict[str, asyncio.Lock] = {}  # per channel: one message at a time takes the overall pace
        self._previous: dict[str, float] = {}  # per channel: when an earlier process last sent (see _before)

    def closed(self, channel: Channel) -> dict[str, float]:
        """The channel's chats that may not be sent to now, each with the seconds until it may."""
        now, shut = time.monotonic(), {}
        for (name, chat), last in self._last.items():
            if name == channel.name and chat is not None and (wait := last + channel.pacing(chat) - now) > 0:
                shut[chat] = wait
        for chat in self._windows.full(channel):
            shut[chat] = max(shut.get(chat, 0.0), self._windows.opens_in(channel, chat))
        return shut

    def room(self, channel: Channel, chat_id: str) -> float:
        """How many more messages the chat's window takes now (no limit without a window)."""
        return self._windows.room(channel, chat_id)

    def opens_in(self, channel: Channel, chat_id: str) -> float:
        """Seconds until a chat whose window is full takes a message again."""
        return self._windows.opens_in(channel, chat_id)

    async def turn(self, channel: Channel, chat_id: str) -> None:
        """Wait out the chat's own gap and window, then take the channel's next overall slot (one chat at a
        time)."""
        key = (channel.name, chat_id)
        wait = self._last.get(key, self._before(channel)) + channel.pacing(chat_id) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        while self._windows.room(channel, chat_id) <= 0:
            await asyncio.sleep(self._windows.opens_in(channel, chat_id))
        if channel.overall_gap > 0:
            async with self._slot.setdefault(channel.name, asyncio.Lock()):
                wait = (self._last.get((channel.name, None), self._before(channel)) + channel.overall_gap
                        - time.monotonic())
                if wait > 0:
                    await asyncio.sleep(wait)
                self._last[(channel.name, None)] = time.monotonic()
        self._last[key] = time.monotonic()
        self._windows.sent(channel, chat_id, self._last[key])

    def ended(self, channel: Channel, chat_id: str) -> None:
        """A send ended: the gaps count from now too, so a slow send never brings the next one closer to it."""
        now = time.monotonic()
        self._last[(channel.name, chat_id)] = now
        if channel.overall_gap > 0:
            self._last[(channel.name, None)] = max(self._last.get((channel.name, None), 0.0), now)

    def _before(self, channel: Channel) -> float:
        """When (time.monotonic()) an earlier process last sent on the channel, so a restart keeps the pace: every
        chat's first message after it waits as if that had been the chat's own last (one indexed query)."""
        if channel.name not in self._previous:
            with UnitOfWork(self.db) as uow:
                at = uow.outbox.last_sent_at(channel.name)
            ago = (self.clock.now() - at).total_seconds() if at is not None else None
            self._previous[channel.name] = time.monotonic() - max(0.0, ago) if ago is not None else 0.0
        return self._previous[channel.name]
