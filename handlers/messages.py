"""The neutral message types every channel adapter translates to and from."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Literal

ChatKind = Literal["group", "private"]


@dataclass(frozen=True)
class Inbound:
    """One message as a channel received it, stripped of anything platform-specific."""

    channel: str
    chat_id: str
    chat_kind: ChatKind
    sender_id: str
    sender_name: str
    text: str
    message_id: str
    mentions_bot: bool = False
    reply_to: str | None = None
    attachments: tuple[str, ...] = ()
    chat_title: str | None = None
    sender_chat: str | None = None  # the private chat the sender can be reached in, where the platform allows
    quoted: str | None = None       # the text of a quoted message, where the platform quotes rather than replies
    moved_from: str | None = None   # the platform says this group is the one that had this id (a new supergroup)

    @property
    def is_private(self) -> bool:
        """True for a one-to-one chat with the bot."""
        return self.chat_kind == "private"

    def storable(self) -> Inbound:
        """This message with what no database can store taken out: NUL (PostgreSQL refuses it in text) and lone
        surrogates (not UTF-8 at all), in every text field, the sender's name included."""
        changed = {f.name: _storable(value) for f in fields(self) if isinstance(value := getattr(self, f.name), str)}
        changed["attachments"] = tuple(_storable(a) for a in self.attachments)
        return replace(self, **changed)


def _storable(text: str) -> str:
    # UTF-16 with surrogatepass joins a pair that came apart into its character; a lone half becomes U+FFFD.
    return text.replace("\x00", "").encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


@dataclass(frozen=True)
class Choice:
    """A quick answer offered with a message: a button where the platform has them, a hint where not."""

    label: str
    reply: str


@dataclass(frozen=True)
class Outbound:
    """One message to send: where, what, and what the recipient may answer."""

    channel: str
    chat_id: str
    text: str
    choices: tuple[Choice, ...] = ()
    mention_ids: tuple[str, ...] = ()
    outbox_id: int | None = None
    purpose: str | None = None  # what it is for ("rate", "offer", "bound"), where a platform has more to do
    attachments: tuple[str, ...] = ()  # photos to send with the text, as Inbound refers to them (telegram:photo:…)
