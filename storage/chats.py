"""Group chats bound to buildings at run time, beside the ones config.yaml names."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
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

    def buildings(self, channel: str, chat_id: str) -> list[str] | None:
        """The buildings a chat was bound to from inside it, or None if it never was."""
        row = BUILDINGS.first(self.session, {"channel": channel, "chat_id": chat_id})
        return list(row[0]) if row else None

    def bind(self, channel: str, chat_id: str, buildings: list[str], person_id: int, at: datetime) -> None:
        """Bind a chat to buildings, replacing an earlier binding."""
        binding = self.session.get(ChatBinding, (channel, chat_id)) or ChatBinding(channel=channel, chat_id=chat_id)
        binding.buildings, binding.bound_by, binding.at = buildings, person_id, at
        self.session.add(binding)
