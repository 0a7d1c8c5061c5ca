"""Hot statements compiled once per database and run on the driver's cursor inside the session's transaction.

On the path every report takes, SQLAlchemy's work per execution (cache key, parameter and result set-up) cost
more than SQLite's. A `Prepared` statement is compiled once per dialect (and per set of inserted columns); each
run applies the columns' own bind and result processors, so what is stored and read back is exactly what
SQLAlchemy would have stored and read. Only for statements with plain, known parameters: no expanding IN lists.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import configure_mappers, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session, SQLModel


class _Compiled:
    """One statement compiled for one dialect and one set of parameter names."""

    def __init__(self, statement, dialect, keys: tuple[str, ...] | None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys is not None else None)
        self.sql = compiled.string
        self.names = tuple(compiled.positiontup) if compiled.positional else None
        self.processors = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                           for name, bind in compiled.binds.items()}
        # For positional drivers (sqlite3), each place's name and processor in order: rows of a batch of follow-ups
        # are a few thousand a second, and this is their cost.
        self.plan = [(name, self.processors.get(name)) for name in self.names] if self.names is not None else None
        # Values written into the statement (a LIMIT, `.values(status="sent")`) and, for the columns an INSERT
        # names but the caller did not pass, their scalar defaults, as Core would fill them.
        self.fixed: dict[str, Any] = {}
        for name, bind in compiled.binds.items():
            if keys is not None and name in keys:
                continue
            column = statement.table.c.get(name) if isinstance(statement, Insert) else None
            if column is not None:
                if column.default is None or not column.default.is_scalar:
                    raise ValueError(f"{statement.table.name}.{name} needs a value")
                self.fixed[name] = column.default.arg
            elif not bind.required:
                self.fixed[name] = bind.effective_value
        self.results = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                        for column in getattr(statement, "selected_columns", ())] or None

    def parameters(self, values: dict[str, Any]):
        """The driver's parameters for one execution, each value through its column's bind processor."""
        row = {**self.fixed, **values} if self.fixed else values
        if self.plan is not None:
            return tuple([value if (value := row[name]) is None or processor is None else processor(value)
                          for name, processor in self.plan])
        processors = self.processors
        return {name: value if value is None or (processor := processors.get(name)) is None else processor(value)
                for name, value in row.items()}

    def row(self, raw: tuple) -> tuple:
        """One driver row with each value through its column's result processor."""
        if self.results is None:
            return tuple(raw)
        return tuple(p(v) if p is not None else v for p, v in zip(self.results, raw))


class Prepared:
    """A Core statement to run many times on the hot path; compiled lazily for each database it meets."""

    def __init__(self, statement) -> None:
        self.statement = statement
        self._compiled: dict[tuple, _Compiled] = {}

    def _for(self, session: Session, keys: tuple[str, ...] | None):
        connection = session.connection()
        key = (connection.dialect.name, keys)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self.statement, connection.dialect, keys)
        appends = getattr(session, "appends", None)
        if appends is not None:  # rows queued for this statement's tables go in first, as for ORM statements
            appends.before_statement(self.statement)
        return connection.connection.cursor(), compiled

    def rows(self, session: Session, values: dict[str, Any]) -> list[tuple]:
        """Run once and return the rows of a SELECT (or of RETURNING), processed."""
        session.flush()  # as the ORM's own queries do, so the answer includes what this unit of work changed
        keys = tuple(values) if isinstance(self.statement, Insert) else None
        cursor, compiled = self._for(session, keys)
        try:
            cursor.execute(compiled.sql, compiled.parameters(values))
            return [compiled.row(raw) for raw in cursor.fetchall()] if cursor.description else []
        finally:
            cursor.close()

    def first(self, session: Session, values: dict[str, Any]) -> tuple | None:
        """The first row `rows` would return, or None."""
        found = self.rows(session, values)
        return found[0] if found else None

    def run(self, session: Session, values: dict[str, Any]) -> int:
        """Run once (an UPDATE or INSERT without RETURNING); return how many rows it touched."""
        session.flush()
        cursor, compiled = self._for(session, None)
        try:
            cursor.execute(compiled.sql, compiled.parameters(values))
            return cursor.rowcount
        finally:
            cursor.close()

    def many(self, session: Session, rows: list[dict[str, Any]]) -> None:
        """Run once for each of many rows with the same keys (an INSERT, or an UPDATE), in one executemany."""
        cursor, compiled = self._for(session, tuple(rows[0]) if isinstance(self.statement, Insert) else None)
        try:
            cursor.executemany(compiled.sql, [compiled.parameters(row) for row in rows])
        finally:
            cursor.close()


_INSERT: dict[type, Prepared] = {}
_INSERT_RETURNING_ID: dict[type, Prepared] = {}
_UPDATE: dict[tuple[type, tuple[str, ...]], Prepared] = {}


def insert_rows(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    """Insert plain rows of one table, all with the same columns, in one executemany."""
    prepared = _INSERT.get(model)
    if prepared is None:
        prepared = _INSERT[model] = Prepared(insert(model.__table__))
    prepared.many(session, rows)


def save_changes(session: Session, objects: list[SQLModel]) -> None:
    """Write what changed in many loaded objects of one model: one executemany per set of changed columns.

    The ORM's flush writes one UPDATE per run of rows with the same changed columns, in primary key order: a batch
    of follow-ups that escalates one request and closes the next would cost a statement per request."""
    groups: dict[tuple[str, ...], list[SQLModel]] = {}
    for obj in objects:
        state = sa_inspect(obj)
        if state.persistent and state.committed_state:
            groups.setdefault(tuple(sorted(state.committed_state)), []).append(obj)
    for keys, changed in groups.items():
        model = type(changed[0])
        prepared = _UPDATE.get((model, keys))
        if prepared is None:
            table = model.__table__
            prepared = _UPDATE[model, keys] = Prepared(
                update(table).where(table.c.id == bindparam("row_id"))
                .values({key: bindparam(f"new_{key}", type_=table.c[key].type) for key in keys}))
        prepared.many(session, [{"row_id": obj.id, **{f"new_{key}": obj.__dict__[key] for key in keys}}
                                for obj in changed])
        for obj in changed:  # written: the flush has nothing left to write for them
            for key in keys:
                set_committed_value(obj, key, obj.__dict__[key])


def add(session: Session, obj: SQLModel) -> None:
    """Store a new object with one INSERT … RETURNING id and make it this session's, like add() and flush()."""
    model = type(obj)
    prepared = _INSERT_RETURNING_ID.get(model)
    if prepared is None:
        table = model.__table__
        prepared = _INSERT_RETURNING_ID[model] = Prepared(insert(table).returning(table.c.id))
    values = {column.key: getattr(obj, column.key) for column in model.__table__.columns if column.key != "id"}
    obj.id = prepared.first(session, values)[0]
    make_transient_to_detached(obj)  # now it is the stored row: later changes are tracked as updates
    session.add(obj)


def build(model: type[SQLModel], **values: Any) -> SQLModel:
    """A new, unsaved object with these values and every other field's default, as the constructor would make it,
    without its per-field validation and events (it costs more than the INSERT that follows)."""
    for name, field in model.model_fields.items():
        if name not in values:
            if field.is_required():
                raise TypeError(f"{model.__name__}.{name} is required")
            values[name] = field.get_default(call_default_factory=True)
    obj = _blank(model)
    obj.__dict__.update(values)
    return obj


def _blank(model: type[SQLModel]) -> SQLModel:
    configure_mappers()  # as the first query would; at once when done before
    return sa_inspect(model).class_manager.new_instance()


def adopt(session: Session, model: type[SQLModel], values: dict[str, Any]) -> SQLModel:
    """A row just read, as a persistent object of this session (the one it holds already, if any)."""
    known = session.identity_map.get(session.identity_key(model, values["id"]))
    if known is not None:
        return known
    # Built the way the ORM builds a loaded row, without __init__ and its per-field validation and events.
    obj = _blank(model)
    obj.__dict__.update(values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj

