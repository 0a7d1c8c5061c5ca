"""Append-only rows (timeline events, follow-ups, outbox) written in one batch per table, just in time.

The ORM inserts rows that have an autoincrement key one statement at a time on SQLite, because it must learn
each key. Nothing reads these keys back while the change is being made, so they are kept as plain rows and
written with one executemany per table right before a statement that touches one of those tables, or at
commit, which keeps every read in the unit of work consistent with what it wrote.
"""
from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.sql.util import find_tables
from sqlmodel import Session, SQLModel

from storage import fast

# The tables a statement touches, remembered per statement: the hot ones are built once and run for every message.
_TABLES: WeakKeyDictionary = WeakKeyDictionary()


def _tables_of(statement) -> frozenset:
    tables = _TABLES.get(statement)
    if tables is None:
        tables = _TABLES[statement] = frozenset(find_tables(statement, include_crud=True))
    return tables


class Appends:
    """Rows waiting to be inserted, in the order they were added, for one session."""

    def __init__(self, session: AppendingSession) -> None:
        self.session = session
        self._rows: list[tuple[type[SQLModel], dict[str, Any]]] = []
        session.appends = self

    def add(self, model: type[SQLModel], **values: Any) -> None:
        """Queue one row of an append-only table."""
        self._rows.append((model, values))

    def write(self) -> None:
        """Insert every queued row now: consecutive rows of one table go in one executemany."""
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        start = 0
        for end in range(1, len(rows) + 1):
            if end == len(rows) or rows[end][0] is not rows[start][0]:
                model = rows[start][0]
                fast.insert_rows(self.session, model, [values for _, values in rows[start:end]])
                start = end

    def discard(self) -> None:
        """Forget queued rows: the unit of work is being abandoned."""
        self._rows.clear()

    def before_statement(self, statement) -> None:
        """Write the queued rows if this statement touches one of their tables."""
        if self._rows:
            waiting = {model.__table__ for model, _ in self._rows}
            if not waiting.isdisjoint(_tables_of(statement)):
                self.write()


class AppendingSession(Session):
    """A session that may carry an append buffer; listened to once here rather than per session."""

    appends: Appends | None = None


@event.listens_for(AppendingSession, "do_orm_execute")
def _before_statement(state) -> None:
    if state.session.appends is not None:
        state.session.appends.before_statement(state.statement)


@event.listens_for(AppendingSession, "before_commit")
def _before_commit(session: AppendingSession) -> None:
    if session.appends is not None:
        session.appends.write()
