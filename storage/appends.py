"""Append-only rows (timeline events, follow-ups, outbox) written in one batch per table, just in time.

The ORM inserts rows that have an autoincrement key one statement at a time on SQLite, because it must learn
each key. Nothing reads these keys back while the change is being made, so they are kept as plain rows and
written with one executemany per table right before a statement that touches one of those tables, or at
commit, which keeps every read in the unit of work consistent with what it wrote.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.sql.util import find_tables
from sqlmodel import Session, SQLModel


class Appends:
    """Rows waiting to be inserted, in the order they were added, for one session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._rows: list[tuple[type[SQLModel], dict[str, Any]]] = []
        event.listen(session, "do_orm_execute", self._before_statement)
        event.listen(session, "before_commit", self._before_commit)

    def add(self, model: type[SQLModel], **values: Any) -> None:
        """Queue one row of an append-only table."""
        self._rows.append((model, values))

    def write(self) -> None:
        """Insert every queued row now: consecutive rows of one table go in one executemany."""
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        connection = self.session.connection()
        start = 0
        for end in range(1, len(rows) + 1):
            if end == len(rows) or rows[end][0] is not rows[start][0]:
                model = rows[start][0]
                connection.execute(insert(model.__table__), [values for _, values in rows[start:end]])
                start = end

    def discard(self) -> None:
        """Forget queued rows: the unit of work is being abandoned."""
        self._rows.clear()

    def _before_statement(self, state) -> None:
        if self._rows:
            waiting = {model.__table__ for model, _ in self._rows}
            if waiting.intersection(find_tables(state.statement, include_crud=True)):
                self.write()

    def _before_commit(self, _session) -> None:
        self.write()
