"""The console's dev-mode time, kept in the database it moved."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.models import DevClock


class DevClockRepository:
    """Reads and keeps the one dev-mode time of a database."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def moved_to(self) -> datetime | None:
        """The time the console's clock was last moved to, if it ever was."""
        row = self.session.get(DevClock, 1)
        return row.now if row else None

    def keep(self, now: datetime) -> None:
        """Remember the dev-mode time."""
        row = self.session.get(DevClock, 1) or DevClock(id=1, now=now)
        row.now = now
        self.session.add(row)
