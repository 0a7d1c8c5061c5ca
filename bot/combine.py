"""Notices queued for one person, sent as one message when a backlog builds.

Telegram takes about one message a second into a private chat. When reports come faster than that, a grid
member's notices would queue at 1/s, each minutes late (an earlier attempt measured a median of 36 s at 10
reports a second). Sending what is already queued for that chat as one message keeps each notice as fresh as
the chat's pace allows and costs the person fewer pings. Only plain notices are combined: a message that
mentions someone, that asks to be answered by replying to it (a rating or an offer), or that carries more than
one button stays alone. Each notice's one button (接单 N) stays, labelled with its request number, so a
combined message can still be answered button by button; the text is cut only where it would not fit.
"""
from __future__ import annotations

from collections import deque

from bot.channels.limits import MENTION_ROOM, fit
from handlers.messages import Choice
from storage.models import Outbox

SEPARATOR = "\n\n"
ALONE = frozenset({"bound", "rate", "offer"})  # purposes a reply or the adapter ties to this very message
# Buttons stay readable (Telegram takes 100) and the length limit still cuts it short. Room for twice what one
# second brings in a flood (5 a second to one person, issue 14's benchmark), so a backlog left by a 429 clears: at
# 10, with each try taking more than a second on a busy machine, it did not.
MAX_ROWS = 20


def combinable(row: Outbox) -> bool:
    """A plain notice to one person in private: may share a message with its neighbours in the queue."""
    return bool(row.person_id) and not row.mention_ids and len(row.choices) <= 1 and row.purpose not in ALONE


def take(queue: deque[Outbox], max_length: int | None, paced: bool) -> list[Outbox]:
    """The rows to send next as one message: the first, and the combinable ones right behind it that fit."""
    rows = [queue.popleft()]
    if not paced or not combinable(rows[0]):
        return rows
    room = (max_length - MENTION_ROOM) if max_length else None
    used = len(fit(rows[0].text, max_length))
    while queue and len(rows) < MAX_ROWS and combinable(queue[0]) and queue[0].person_id == rows[0].person_id:
        more = len(SEPARATOR) + len(fit(queue[0].text, max_length))
        if room is not None and used + more > room:
            break
        used += more
        rows.append(queue.popleft())
    return rows


def text_of(rows: list[Outbox], max_length: int | None) -> str:
    """The text of one or several rows, each cut to fit the platform on its own."""
    return SEPARATOR.join(fit(row.text, max_length) for row in rows)


def attachments_of(rows: list[Outbox]) -> tuple[str, ...]:
    """The photos the rows carry, in order."""
    return tuple(a for row in rows for a in row.attachments or ())


def choices_of(rows: list[Outbox]) -> tuple[Choice, ...]:
    """The buttons: one row's as they are; several rows' each labelled with its request (接单 12)."""
    if len(rows) == 1:
        return tuple(Choice(label, reply) for label, reply in rows[0].choices)
    return tuple(Choice(f"{label} {row.request_id}" if row.request_id else label, reply)
                 for row in rows for label, reply in row.choices)
