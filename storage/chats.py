"""Group chats bound to buildings at run time, beside the ones config.yaml names, and what became of a chat: told
how to bind, lost (the bot removed), or moved to a new id."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, tuple_, update
from sqlmodel import Session

from storage.fast import Prepared
from storage.models import ChatBinding

# Asked for every report, so built once, and columns only.
_TABLE = ChatBinding.__table__
BUILDINGS = Prepared(select(_TABLE.c.buildings).where(_TABLE.c.channel == bindparam("channel"),
                                                      _TABLE.c.chat_id == bindparam("chat_id")))


class ChatRepository:
    """Chat bindings of one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session
        # What preload() read: each chat's row (None: it has none), held here so the session keeps it.
        self._rows: dict[tuple[str, str], ChatBinding | None] = {}

    def preload(self, chats: set[tuple[str, str]]) -> None:
        """Read at once what became of these (channel, chat) pairs, for a batch of follow-ups (one query)."""
        wanted = chats - self._rows.keys()
        if not wanted:
            return
        stmt = select(ChatBinding).where(tuple_(_TABLE.c.channel, _TABLE.c.chat_id).in_(sorted(wanted)))
        found = {(row.channel, row.chat_id): row for row in self.session.scalars(stmt)}
        self._rows.update({chat: found.get(chat) for chat in wanted})

    def buildings(self, channel: str, chat_id: str) -> list[str] | None:
        """The buildings a chat was bound to from inside it, or None if it never was."""
        row = BUILDINGS.first(self.session, {"channel": channel, "chat_id": chat_id})
        return list(row[0]) if row and row[0] else None  # a row without buildings only remembers the chat's state

    def bind(self, channel: str, chat_id: str, buildings: list[str], person_id: int, at: datetime) -> None:
        """Bind a chat to buildings, replacing an earlier binding."""
        binding = self._row(channel, chat_id, at)
        binding.buildings, binding.bound_by, binding.at = buildings, person_id, at
        self.session.add(binding)

    def hinted(self, channel: str, chat_id: str, at: datetime) -> bool:
        """Note that an unbound chat was told how to bind; False if it had been told before."""
        return self._first(channel, chat_id, at, "hinted_at")

    def lost(self, channel: str, chat_id: str, at: datetime) -> bool:
        """Mark a chat the bot can no longer post in; False if it was marked already."""
        return self._first(channel, chat_id, at, "unreachable_at")

    def _first(self, channel: str, chat_id: str, at: datetime, moment: str) -> bool:
        row = self._row(channel, chat_id, at)
        if getattr(row, moment) is not None:
            return False
        setattr(row, moment, at)
        self.session.add(row)
        return True

    def is_lost(self, channel: str, chat_id: str) -> bool:
        """Whether the bot can no longer post in this chat."""
        key = (channel, chat_id)
        row = self._rows[key] if key in self._rows else self.session.get(ChatBinding, key)
        return row is not None and row.unreachable_at is not None

    def heard_from(self, channel: str, chat_id: str) -> None:
        """A message came from the chat: the bot is in it (again)."""
        self._rows.pop((channel, chat_id), None)
        self.session.execute(update(_TABLE).where(_TABLE.c.channel == channel, _TABLE.c.chat_id == chat_id,
                                                  _TABLE.c.unreachable_at.is_not(None)).values(unreachable_at=None))

    def moved(self, channel: str, old: str, new: str, buildings: list[str], at: datetime) -> None:
        """A chat that now lives under a new id: the new id is bound to its buildings and keeps its state."""
        before = self._row(channel, old, at)
        after = self._row(channel, new, at)
        after.buildings = after.buildings or buildings
        after.bound_by, after.at, after.hinted_at = before.bound_by, at, before.hinted_at
        before.moved_to = new
        self.session.add_all([before, after])

    def _row(self, channel: str, chat_id: str, at: datetime) -> ChatBinding:
        self._rows.pop((channel, chat_id), None)  # a row it had not, it may have now
        return (self.session.get(ChatBinding, (channel, chat_id))
                or ChatBinding(channel=channel, chat_id=chat_id, buildings=[], at=at))
