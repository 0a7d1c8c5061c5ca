"""The tables: requests and their timeline, people, follow-ups, outbox, and the exactly-once ledgers."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _at(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class Person(SQLModel, table=True):
    """A resident as they appear in chats, or a staff member from config (staff_id set)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str
    staff_id: str | None = Field(default=None, unique=True)
    role: str = "resident"
    language: str = "zh-CN"
    language_heard: str | None = None  # another language her last clear message was in; a second one switches
    language_chosen: bool = False      # chosen with 语言 / /lang: what she writes no longer switches it
    created_at: datetime = _at()


class Identity(SQLModel, table=True):
    """A person's account on one channel, and the private chat the bot can reach them in."""

    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    channel: str
    external_id: str
    private_chat: str | None = None
    unreachable: bool = False
    last_seen_at: datetime | None = _at(default=None)
    invited_at: datetime | None = _at(default=None)  # asked once to open a private chat with the bot


_OPEN = sql_text("state IN ('new', 'assigned', 'claimed', 'reopened')")  # storage.lists.OPEN_STATES


class Request(SQLModel, table=True):
    """A complaint or micro-wish; its id is the number residents and staff speak (诉求#37)."""

    # open_place: a report finds an open one like it; state_due: the open backlog, what is overdue and what was
    # escalated, counted from the index alone; assignee_state: a staff member's work list, overdue first, without
    # reading her finished requests or any row but the page shown (urgent ones first). Both carry the number (SQLite's indexes always
    # do) so that PostgreSQL too answers from the index alone. open_like holds open requests only: finding an open
    # one like a new report stays an index search however many are closed, whatever the statistics say of `state`.
    __table_args__ = (Index("ix_request_open_place", "state", "building", "category"),
                      Index("ix_request_state_due", "state", "level", "responded_at", "respond_by", "resolve_by",
                            "urgent", postgresql_include=["id"]),
                      Index("ix_request_assignee_state", "assignee_id", "state", "responded_at", "respond_by",
                            "resolve_by", "urgent", postgresql_include=["id"]),
                      Index("ix_request_open_like", "category", "building", "id", sqlite_where=_OPEN,
                            postgresql_where=_OPEN))
    id: int | None = Field(default=None, primary_key=True)
    kind: str
    category: str
    urgent: bool = False
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    building_source: str | None = None
    text: str
    evidence: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    language: str = "zh-CN"
    reporter_id: int = Field(foreign_key="person.id", index=True)
    channel: str
    source_chat: str
    source_kind: str = "group"
    grid: str | None = None
    assignee_id: int | None = Field(default=None, foreign_key="person.id")
    state: str = "new"
    level: int = 0
    respond_by: datetime = _at()
    resolve_by: datetime = _at()
    responded_at: datetime | None = _at(default=None)
    done_at: datetime | None = _at(default=None)
    rating_round: int = 0  # how many times it was done: ratings are asked, and taken, for the latest 办结 only
    closed_at: datetime | None = _at(default=None)
    rating: int | None = None
    rating_comment: str | None = None
    duplicate_of: int | None = Field(default=None, foreign_key="request.id")
    created_at: datetime = _at(index=True)
    updated_at: datetime = _at()


class Follower(SQLModel, table=True):
    """A resident who reported the same problem and hears of its progress."""

    request_id: int = Field(foreign_key="request.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True, index=True)  # what she follows
    created_at: datetime = _at(index=True)  # second reports in the digest's window


class Event(SQLModel, table=True):
    """One entry of a request's timeline: append-only, never rewritten."""

    __table_args__ = (Index("ix_event_action_at", "action", "at"),)  # the digest counts a day's claims and 办结
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    at: datetime = _at(index=True)
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    action: str
    note: str | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class Rating(SQLModel, table=True):
    """A score one person gave one request's outcome."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    score: int
    comment: str | None = None
    round: int = 0  # the request's rating_round the score answered
    at: datetime = _at(index=True)


class FollowUp(SQLModel, table=True):
    """A pending reminder, escalation, rating prompt or re-ask: a row swept when due."""

    # Pending rows only, where the backend can: finished ones (most of the table) cost the sweep nothing.
    __table_args__ = (Index("ix_followup_due", "due_at", "id", sqlite_where=sql_text("status = 'pending'"),
                            postgresql_where=sql_text("status = 'pending'")),)
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    kind: str
    due_at: datetime = _at()  # kept when a retry waits: a news window is named by it
    status: str = "pending"
    fired_at: datetime | None = _at(default=None)
    attempts: int = 0  # failed firings so far
    retry_at: datetime | None = _at(default=None)  # after a failure, not fired again before this


_UNSENT = sql_text("status IN ('pending', 'sending')")
_HELD = sql_text("status = 'held'")


class Outbox(SQLModel, table=True):
    """A message written in the same transaction as the change it reports; the worker sends it."""

    # The indexes hold only unsent (or held) rows: finding what to send stays cheap however much was sent.
    __table_args__ = (Index("ix_outbox_due", "channel", "next_attempt_at", sqlite_where=_UNSENT,
                            postgresql_where=_UNSENT),
                      Index("ix_outbox_chat_queue", "channel", "chat_id", "id", sqlite_where=_UNSENT,
                            postgresql_where=_UNSENT),
                      Index("ix_outbox_held", "person_id", sqlite_where=_HELD, postgresql_where=_HELD))
    id: int | None = Field(default=None, primary_key=True)
    channel: str
    chat_id: str
    person_id: int | None = Field(default=None, foreign_key="person.id")
    request_id: int | None = Field(default=None, foreign_key="request.id")
    purpose: str | None = None
    text: str
    choices: list[list[str]] = Field(default_factory=list, sa_column=Column(JSON))
    mention_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    attachments: list[str] | None = Field(default=None, sa_column=Column(JSON))  # photos sent with the text
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime = _at()
    created_at: datetime = _at()
    sent_at: datetime | None = _at(default=None)
    platform_message_id: str | None = Field(default=None, index=True)
    last_error: str | None = None


class Offer(SQLModel, table=True):
    """An untagged message that reads like a request, kept until the resident says whether to file it."""

    id: int | None = Field(default=None, primary_key=True)
    channel: str
    chat_id: str
    person_id: int = Field(foreign_key="person.id", index=True)
    text: str
    message_id: str
    status: str = Field(default="pending", index=True)  # pending, filed, declined, failed (kept), handled
    created_at: datetime = _at()
    expires_at: datetime = _at()


class ProcessedMessage(SQLModel, table=True):
    """A platform message already handled: a redelivery of it changes nothing."""

    channel: str = Field(primary_key=True)
    message_id: str = Field(primary_key=True)
    at: datetime = _at(index=True)  # pruned by age


class DigestRun(SQLModel, table=True):
    """One row per community and day: the digest goes out once, however many instances run."""

    __table_args__ = (UniqueConstraint("community", "day"),)
    id: int | None = Field(default=None, primary_key=True)
    community: str
    day: str
    at: datetime = _at()


class ChatBinding(SQLModel, table=True):
    """A group chat the secretary bound to its building(s) from inside the chat (/bindchat 3号楼)."""

    channel: str = Field(primary_key=True)
    chat_id: str = Field(primary_key=True)
    buildings: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    bound_by: int | None = Field(default=None, foreign_key="person.id")
    at: datetime = _at()
    # A chat the bot met unbound and told how to bind (once), lost (403: told once, no more queued to it), or
    # left for a new id (a Telegram group become a supergroup): its row stays, empty of buildings, to remember.
    hinted_at: datetime | None = _at(default=None)
    unreachable_at: datetime | None = _at(default=None)
    moved_to: str | None = None


class DevClock(SQLModel, table=True):
    """Where the console's dev-mode clock was moved to, so a restart and `doorstep digest` see the same day."""

    id: int = Field(default=1, primary_key=True)
    now: datetime = _at()
