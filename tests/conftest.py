"""Shared fixtures: the shipped config, a movable clock, a SQLite file per test, a console harness."""
from __future__ import annotations

import asyncio
import io
import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import make_url, text
from sqlmodel import SQLModel

from bot.app import build_app
from bot.channels.console import ConsoleChannel, ConsoleSession
from bot.outbox import OutboxSender
from bot.settings import Settings
from handlers.clock import FakeClock
from storage.db import Database
from tests.group_sweep import Sweep

ROOT = Path(__file__).resolve().parents[1]
SHANGHAI = ZoneInfo("Asia/Shanghai")
# How long a test waits for something to happen before it fails: generous, since a loaded machine is slow, which
# is never what a test is about (none waits this long when all is well).
PATIENCE = 120

# The server and database named here; the tests use a database of their own beside it (see pytest_configure).
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pytest_configure(config) -> None:
    """Give this run a PostgreSQL database of its own, so two runs on one server (CI and a developer's, or two
    developers') never empty or take offline each other's tables; where one cannot be made, the one named."""
    global PG_URL
    PG_URL = _own_database(PG_URL, f"run{os.getpid()}")


def pytest_unconfigure(config) -> None:
    """Drop this run's own database."""
    if PG_URL.endswith(f"_run{os.getpid()}"):
        _admin(PG_URL, "DROP DATABASE IF EXISTS {} WITH (FORCE)")


def _own_database(url: str, suffix: str) -> str:
    own = make_url(url).set(database=f"{make_url(url).database}_{suffix}")
    made = _admin(own.render_as_string(hide_password=False), "DROP DATABASE IF EXISTS {} WITH (FORCE); CREATE DATABASE {}")
    return own.render_as_string(hide_password=False) if made else url


def _admin(url: str, statements: str) -> bool:
    """Run statements about the database of `url` (its name filled in) from the server's `postgres` database."""
    import psycopg
    target = make_url(url)
    try:
        with psycopg.connect(host=target.host, port=target.port, user=target.username, password=target.password,
                             dbname="postgres", autocommit=True, connect_timeout=2) as admin:
            for statement in statements.split("; "):
                admin.execute(statement.format(f'"{target.database}"'))
        return True
    except Exception:  # no server, or no right to make databases: the tests skip or use the one named
        return False


def local(*args: int) -> datetime:
    """A community-local time, e.g. local(2026, 11, 23, 10, 0)."""
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def settings(tmp_path) -> Settings:
    """The shipped config.yaml, on a fresh SQLite file (and its spool beside it)."""
    loaded = Settings.load(ROOT / "config.yaml", env={})
    return loaded.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'doorstep.db'}",
                                     "spool_path": tmp_path / "doorstep-spool.jsonl"})


@pytest.fixture(autouse=True)
def group_sweep(monkeypatch) -> Sweep:
    """Every test: whatever the bot sends to a group on any channel carries no resident's personal data."""
    sweep = Sweep()
    wire = OutboxSender.__init__

    def guarded(self, db, clock, channels, **options) -> None:
        wire(self, db, clock, channels, **options)
        for channel in channels.values():
            sweep.guard(channel, db)

    monkeypatch.setattr(OutboxSender, "__init__", guarded)
    yield sweep
    assert not sweep.leaks, "personal data sent to a group:\n" + "\n".join(sweep.leaks)


@pytest.fixture
def clock() -> FakeClock:
    """Monday 2026-11-23, 10:00 in the community: daytime, outside quiet hours."""
    return FakeClock(local(2026, 11, 23, 10, 0))


class Console:
    """Drives the console channel like a person at the terminal and shows what each participant saw."""

    def __init__(self, settings: Settings, clock: FakeClock) -> None:
        self.settings, self.clock = settings, clock
        self.out = io.StringIO()
        self.channel = ConsoleChannel(self.out, settings.community.community.bot_name)
        self.app = build_app(settings, clock=clock, channels={"console": self.channel})
        self.session = ConsoleSession(self.app, self.channel, speaker="王阿姨", chat="3号楼业主群", echo=True)
        self._mark = 0

    def run(self, script: str) -> list:
        """Play console lines; return the messages the bot sent while doing so."""
        asyncio.run(self.session.run(script.strip().splitlines()))
        new = self.channel.sent[self._mark:]
        self._mark = len(self.channel.sent)
        return new

    def restart(self) -> None:
        """A new process on the same database: new app, new channel, same clock."""
        self.app.db.dispose()
        self.channel = ConsoleChannel(self.out, self.settings.community.community.bot_name)
        self.app = build_app(self.settings, clock=self.clock, channels={"console": self.channel})
        self.session = ConsoleSession(self.app, self.channel, speaker="王阿姨", chat="3号楼业主群", echo=True)
        self._mark = 0

    def seen_by(self, name: str, messages: list | None = None) -> list[str]:
        """Texts a person received: in their private chat, or mentioned in a group."""
        messages = self.channel.sent if messages is None else messages
        return [m.text for _, m in messages if m.chat_id == f"@{name}" or name in m.mention_ids]

    def in_chat(self, chat: str, messages: list | None = None) -> list[str]:
        """Texts the bot posted in a group chat."""
        messages = self.channel.sent if messages is None else messages
        return [m.text for _, m in messages if m.chat_id == chat]

    def message_id(self, fragment: str) -> str:
        """The console id (m7) of the last bot message containing a fragment, for /reply."""
        return next(mid for mid, m in reversed(self.channel.sent) if fragment in m.text)


@pytest.fixture
def console(settings, clock) -> Console:
    """A console bot on the shipped config, its clock at Monday 10:00."""
    harness = Console(settings, clock)
    yield harness
    harness.app.db.dispose()


def fresh_postgres(settings):
    """The shipped settings on an emptied PostgreSQL test database."""
    db = Database(PG_URL)
    SQLModel.metadata.drop_all(db.engine)
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.dispose()
    return settings.model_copy(update={"database_url": PG_URL})


def pg_available() -> bool:
    """Whether the PostgreSQL server for the marked tests answers."""
    try:
        import psycopg
        with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=2):
            return True
    except Exception:
        return False


class LiveBot:
    """A bot on a channel that receives by itself: counts what it handled, so a test can wait for exactly that."""

    app = None

    def __init__(self) -> None:
        self.handled = 0

    def _handle(self, message) -> bool | None:
        try:
            return self.app.handle(message)
        finally:
            self.handled += 1

    async def until_handled(self, count: int) -> None:
        """Wait until the bot has handled `count` messages in all (fails after 10 s)."""
        async def wait() -> None:
            while self.handled < count:
                await asyncio.sleep(0.01)
        await asyncio.wait_for(wait(), PATIENCE)

    async def step(self, count: int) -> None:
        """Wait for the messages, then for the outbox to have sent what they produced."""
        await self.until_handled(count)
        await self.app.sender.idle()
        await self.app.drain()

