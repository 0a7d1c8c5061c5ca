"""Engine and session set-up: SQLite with WAL, busy_timeout and BEGIN IMMEDIATE, or PostgreSQL.

Work that only reads (the digest, figures) opens a read session: on SQLite a deferred BEGIN, so under WAL it reads
a snapshot and never takes the write lock a report needs; on PostgreSQL a READ ONLY, REPEATABLE READ transaction,
so every figure of one digest is counted on the same snapshot.

SQLite waits at most BUSY_TIMEOUT for another writer's lock. Messages are handled in the event loop that also polls
Telegram and drives WeChat, so a long wait would stall every channel: past this short wait the message fails as
with the database away, is kept in the spool (bot/spool.py) in arrival order, and is handled before any later one.
Order per chat and the (channel, message id) ledger stay as they are, with no second thread to coordinate.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event, literal_column
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from storage.appends import AppendingSession

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT = 0.25  # seconds SQLite waits for another writer before the work fails as "database away"
# Seconds a background job (the sweep, pruning) leaves SQLite's write lock free between its transactions: a writer
# waiting for it (a report in the event loop) polls it every 25 ms at most while it has waited under a quarter
# second, and would otherwise find it taken again by the job's next transaction every time.
LOCK_GAP = 0.025
CONFLICT_TRIES = 5
# PostgreSQL: deadlock detected, serialization failure, and a unique key another transaction took meanwhile (two
# instances meeting one new resident at once, or one redelivered message): run again, the work sees that row.
CONFLICTS = ("40P01", "40001", "23505")
SQLITE_BUSY = 5
READ_ONLY = "doorstep_read_only"  # execution option of the read sessions' connections
T = TypeVar("T")
log = logging.getLogger(__name__)


class Database:
    """One database: its engine, how to open a session, and how to bring its schema up to date."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine(url)
        read = {READ_ONLY: True}
        if not self.is_sqlite:
            read.update(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        self.reader = self.engine.execution_options(**read)
        # Called after a commit that queued outbox messages, with their channels (the sender, once wired).
        self.on_outbox: Callable[[set[tuple[str, str]]], None] | None = None
        # Units of work open in this process that may write and are not background jobs (see writing()).
        self._writers = 0
        self._writers_changed = threading.Condition()

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite backend."""
        return self.engine.dialect.name == "sqlite"

    def session(self, *, read_only: bool = False) -> Session:
        """A new session; on SQLite its first statement takes the write lock (BEGIN IMMEDIATE), unless it is
        read_only: then it reads a snapshot and leaves the lock to writers."""
        return AppendingSession(self.reader if read_only else self.engine, expire_on_commit=False)

    def writer_began(self) -> None:
        """A unit of work that may write has begun in this process (a message, a command, the sender): on SQLite
        a background job (the sweep) steps aside until it ends, so it does not wait for the write lock."""
        with self._writers_changed:
            self._writers += 1

    def writer_ended(self) -> None:
        """That unit of work has ended."""
        with self._writers_changed:
            self._writers -= 1
            if not self._writers:
                self._writers_changed.notify_all()

    @property
    def others_writing(self) -> bool:
        """Whether a unit of work that may write is open (or waiting for the lock) in this process."""
        return self._writers > 0

    def wait_for_writers(self, timeout: float) -> None:
        """Wait until no unit of work that may write is open, at most `timeout` seconds."""
        with self._writers_changed:
            self._writers_changed.wait_for(lambda: not self._writers, timeout)

    def migrate(self) -> None:
        """Apply every migration not yet applied (alembic upgrade head)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def is_transient(error: BaseException) -> bool:
    """True when the database was away, busy or cut the connection: the same work can succeed later."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (OperationalError, InterfaceError))


def is_busy(error: BaseException) -> bool:
    """True when SQLite's write lock stayed taken past the busy timeout (another writer's long transaction)."""
    code = getattr(getattr(error, "orig", error), "sqlite_errorcode", None)
    return code is not None and code & 0xFF == SQLITE_BUSY


def lost_conflict(error: BaseException) -> bool:
    """True when PostgreSQL rolled the transaction back to break a deadlock or a serialization conflict, or
    another transaction inserted the same unique key first."""
    # Raised through SQLAlchemy (DBAPIError) or straight from the driver (storage/fast.py's hot statements).
    return getattr(getattr(error, "orig", error), "sqlstate", None) in CONFLICTS


def retry_conflicts(work: Callable[[], T], tries: int = CONFLICT_TRIES) -> T:
    """Run a whole transaction, again when it lost a deadlock or serialization conflict (the winner went on)."""
    for attempt in range(1, tries + 1):
        try:
            return work()
        except Exception as error:
            if attempt == tries or not lost_conflict(error):
                raise
            log.info("transaction lost a conflict (%s), trying again", getattr(error, "orig", error).sqlstate)
    raise AssertionError("unreachable")


def among(column, values: tuple[str, ...]):
    """`column IN ('a', 'b')` for constants of the code, written into the SQL itself.

    A Python list in `in_()` becomes an expanding parameter, which makes SQLAlchemy render the statement again on
    every execution; on the hot path that cost more than the query.
    """
    return column.in_([constant(value) for value in values])


def constant(value: str):
    """A string constant of the code written into the SQL, not bound: a partial index (pending rows only) serves a
    query only when the query names its condition's value."""
    return literal_column("'" + value.replace("'", "''") + "'")


def _engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    if not in_memory:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT},
        poolclass=StaticPool if in_memory else None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # pysqlite's own transaction handling starts transactions late and deferred; take it over.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # Take the write lock up front so two writers queue on busy_timeout instead of deadlocking. Straight on the
        # driver: every unit of work begins here. A read session takes no lock: WAL gives it a snapshot.
        read = connection.get_execution_options().get(READ_ONLY)
        connection.connection.driver_connection.execute("BEGIN" if read else "BEGIN IMMEDIATE")

    return engine
