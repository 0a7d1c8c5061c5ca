"""Append-only rows (timeline events, follow-ups, outbox) written in one batch per table, just in time.

The ORM inserts rows that have an autoincrement key one statement at a time on SQLite, because it must learn
each key. Nothing reads these keys back while the change is being made, so they are kept as plain rows and
written with one executemany per table right before a statement that touches one of those tables, or at
commit, which keeps every read in the unit of work consistent with what it wrote.

Changes to rows already stored that nothing reads back in the meantime (follow-ups finished or cancelled) wait the
same way, one executemany per kind of change, so that a batch of a hundred follow-ups is a few statements, not a
few hundred. They run before the table's queued inserts: a change must commute with the other changes queued,
and one that would touch a queued row is applied to that row by whoever queued it (FollowUpRepository.cancel).
"""
from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.sql.util import find_tables
from sqlmodel import Session, SQLModel

from storage import fast
from storage.fast import Prepared

# The tables a statement touches, remembered per statement: the hot ones are built once and run for every message.
_TABLES: WeakKeyDictionary = WeakKeyDictionary()


def _tables_of(statement) -> frozenset:
    tables = _TABLES.get(statement)
    if tables is None:
        tables = _TABLES[statement] = frozenset(find_tables(statement, include_crud=True))
    return tables


class Appends:
    """Rows waiting to be inserted, in the order they were added, and changes waiting to run, for one session."""

    def __init__(self, session: AppendingSession) -> None:
        self.session = session
        self._rows: list[tuple[type[SQLModel], dict[str, Any]]] = []
        self._changes: list[tuple[type[SQLModel], Prepared, dict[str, Any]]] = []
        session.appends = self

    def add(self, model: type[SQLModel], **values: Any) -> dict[str, Any]:
        """Queue one row of an append-only table; returns its values, which may still be changed until written."""
        self._rows.append((model, values))
        return values

    def change(self, model: type[SQLModel], statement: Prepared, **values: Any) -> None:
        """Queue one run of a change (an UPDATE of stored rows of `model`'s table, never of queued ones)."""
        self._changes.append((model, statement, values))

    def write(self) -> None:
        """Write every queued change and row now: each kind of change in one executemany, then each table's rows in
        one executemany, in the order they were added."""
        if not (self._rows or self._changes):
            return
        changes: dict[Prepared, list[dict[str, Any]]] = {}
        for _, statement, values in self._changes:
            changes.setdefault(statement, []).append(values)
        tables: dict[type[SQLModel], list[dict[str, Any]]] = {}
        for model, values in self._rows:  # tables apart: no queued row refers to another's
            tables.setdefault(model, []).append(values)
        self._rows, self._changes = [], []
        for statement, rows in changes.items():
            statement.many(self.session, rows)
        for model, rows in tables.items():
            fast.insert_rows(self.session, model, rows)

    def discard(self) -> None:
        """Forget queued rows and changes: the unit of work is being abandoned."""
        self._rows.clear()
        self._changes.clear()

    def before_statement(self, statement) -> None:
        """Write the queued rows if this statement touches one of their tables."""
        if self._rows or self._changes:
            waiting = {model.__table__ for model, *_ in self._rows + self._changes}
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
