"""Per-chat sending windows: at most `count` messages to a chat in any `span` seconds (Telegram: 20 a minute into
a group), kept by the outbox sender for the chats whose channel names a window.

An even gap (one message every 3 s) would meet the same limit, but keeps a group's first replies after a quiet
spell waiting for nothing; the window lets them go a second apart and holds back only what would break it.
"""
from __future__ import annotations

import time
from collections import deque

from bot.channels.base import Channel


class Windows:
    """When each windowed chat's recent messages went, and when a full one opens again."""

    def __init__(self) -> None:
        self._recent: dict[tuple[str, str], deque[float]] = {}

    def room(self, channel: Channel, chat_id: str) -> float:
        """How many more messages the chat takes now (no limit without a window)."""
        window = getattr(channel, "window", lambda _chat: None)(chat_id)
        if window is None:
            return float("inf")
        count, span = window
        recent = self._recent.setdefault((channel.name, chat_id), deque())
        while recent and recent[0] <= time.monotonic() - span:
            recent.popleft()
        return count - len(recent)

    def full(self, channel: Channel) -> tuple[str, ...]:
        """The channel's chats that take nothing now."""
        return tuple(chat for (name, chat) in self._recent if name == channel.name and self.room(channel, chat) <= 0)

    def opens_in(self, channel: Channel, chat_id: str) -> float:
        """Seconds until a full chat takes a message again."""
        recent, (_, span) = self._recent[(channel.name, chat_id)], channel.window(chat_id)
        return max(0.01, recent[0] + span - time.monotonic()) if recent else 0.01

    def sent(self, channel: Channel, chat_id: str, at: float) -> None:
        """A message went to the chat at `at` (time.monotonic())."""
        if (channel.name, chat_id) in self._recent:
            self._recent[(channel.name, chat_id)].append(at)
