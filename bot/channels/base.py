"""What every channel adapter offers, and the errors it may raise when sending.

    ChannelError
    ├── RetryLater     the platform asked to wait (rate limit, not connected yet); retry after `seconds`
    ├── Unreachable    the chat will never accept messages (bot blocked or removed); do not retry
    ├── Moved          the chat lives on under a new id (a Telegram group become a supergroup); send there
    ├── Rejected       the platform refused this message itself (malformed, too long); retrying cannot help
    └── NoPicture      the platform cannot give a picture's bytes now (not connected, gone, refused)
Any other exception from send() is treated as passing (network down, server errors) and retried with backoff.

A picture a message carried is kept as a reference `channel:kind:id` (telegram:photo:<file id>, wechat:image:<message
id>); the web workbench asks the channel named in it for its bytes, through picture(), and never sees the platform.
"""
from __future__ import annotations

from typing import Protocol

from handlers.messages import Outbound


class ChannelError(Exception):
    """Base of errors a channel raises on purpose."""


class RetryLater(ChannelError):
    """The platform is rate-limiting: try this message again after `seconds`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"retry after {seconds}s")


class Unreachable(ChannelError):
    """The chat cannot be reached any more."""


class Moved(ChannelError):
    """The chat now has another id: the bot follows it there."""

    def __init__(self, new_chat_id: str) -> None:
        self.new_chat_id = new_chat_id
        super().__init__("chat moved to a new id")


class Rejected(ChannelError):
    """The platform refused this very message; another try would be refused too."""


class NoPicture(ChannelError):
    """The platform did not give the picture: not connected, no longer kept, or refused."""


PICTURE_KINDS = ("photo", "image")  # the kinds of attachment reference that are pictures (not voice, not a URL)


def picture_channel(ref: str) -> str | None:
    """The channel that can give the bytes of this attachment, or None when it is no picture of a channel."""
    channel, _, rest = ref.partition(":")
    kind, _, key = rest.partition(":")
    return channel if kind in PICTURE_KINDS and key else None


class Channel(Protocol):
    """A chat platform as the rest of the bot sees it."""

    name: str
    overall_gap: float  # seconds to leave between any two messages of the channel
    max_length: int | None  # characters one message may have (None: no limit); longer texts are cut to fit

    async def send(self, message: Outbound) -> str | None:
        """Deliver one message; return the platform's id for it."""

    def private_chat_for(self, external_id: str) -> str:
        """The private chat in which the bot reaches this account."""

    def pacing(self, chat_id: str) -> float:
        """Seconds to leave between two messages to this chat (0 for none)."""

    # Optional: window(chat_id) -> (count, seconds) | None, at most `count` messages to the chat in any `seconds`
    # (Telegram's 20 a minute into a group, which allows a short burst where an even gap would not).
    # Optional: async picture(ref) -> bytes, the bytes of a picture this channel received (a ref of its own);
    # NoPicture when it cannot give them.
