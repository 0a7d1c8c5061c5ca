"""Cost that does not grow with history: the digest and the lists on 10k and 30k requests of bulk-inserted history.

Costs are counted, not timed: statements run, rows read into objects, and SQLite's own VM instructions (its
progress handler), so the figures are the same on a busy machine. Plans are read with EXPLAIN after ANALYZE, as a
long-running database has statistics. bench/scale.py measures time and memory at 100k and 1M.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import event, text

from bot.app import build_app
from bot.settings import Settings
from handlers.digest import LINES_AT_MOST
from handlers.clock import FakeClock
from storage.models import Event, Follower, Rating, Request
from tests.conftest import PG_URL, ROOT, fresh_postgres, local, pg_available
from tests.history import ask, build

PER_DAY = 30  # 10k requests are a year of history, 30k three: the 30-day window holds the same number of requests
FULL_SCAN = re.compile(r"\bSCAN (request|event|rating|follower)\b(?! USING (COVERING )?INDEX ix_\w+ \()")


def bot(tmp_path_factory, n: int, url: str | None = None):
    settings = Settings.load(ROOT / "config.yaml", env={})
    path = tmp_path_factory.mktemp(f"h{n}")
    settings = settings.model_copy(update={"database_url": url or f"sqlite:///{path / 'doorstep.db'}",
                                           "spool_path": path / "spool.jsonl"})
    clock = FakeClock(local(2026, 11, 23, 10, 0))
    app = build_app(settings, clock=clock, channels={})
    build(app.db, settings.community, n, clock.now(), per_day=PER_DAY, extras=False)
    return app


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    app = bot(tmp_path_factory, 10_000)
    yield app
    app.db.dispose()


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    app = bot(tmp_path_factory, 30_000)
    yield app
    app.db.dispose()


class Cost:
    """What one piece of work cost the database: statements, ORM rows loaded, SQLite VM instructions (in 1,000s)."""

    def __init__(self, app) -> None:
        self.app, self.statements, self.loaded, self.steps = app, [], 0, 0

    def __enter__(self) -> Cost:
        engine = self.app.db.engine
        engine.dispose()  # new connections, each with the progress handler
        event.listen(engine, "connect", self._connect)
        event.listen(engine, "before_cursor_execute", self._statement)
        for model in (Request, Event, Rating, Follower):
            event.listen(model, "load", self._load)
        return self

    def __exit__(self, *exc) -> None:
        engine = self.app.db.engine
        event.remove(engine, "connect", self._connect)
        event.remove(engine, "before_cursor_execute", self._statement)
        for model in (Request, Event, Rating, Follower):
            event.remove(model, "load", self._load)
        engine.dispose()

    def _connect(self, dbapi_connection, _record) -> None:
        dbapi_connection.set_progress_handler(self._step, 1000)

    def _step(self) -> int:
        self.steps += 1
        return 0

    def _statement(self, _conn, _cursor, statement, parameters, _context, _many) -> None:
        self.statements.append((statement, parameters))

    def _load(self, _target, _context) -> None:
        self.loaded += 1


def test_the_digests_cost_does_not_grow_with_history(small, large):
    costs = {}
    for name, app in (("10k", small), ("30k", large)):
        with Cost(app) as cost:
            digest = app.digest_text()
        costs[name] = cost
        assert "还有" in digest
    small_cost, large_cost = costs["10k"], costs["30k"]
    assert len(large_cost.statements) == len(small_cost.statements) <= 40, "a fixed number of queries"
    # Only the overdue requests it lists are read as objects (the old digest loaded all of the last 30 days).
    assert small_cost.loaded == large_cost.loaded <= 12
    assert large_cost.steps <= 3 * small_cost.steps, (small_cost.steps, large_cost.steps)


def test_the_digest_is_a_one_minute_read_with_hundreds_overdue(small):
    digest = small.digest_text()
    lines = digest.splitlines()
    with small.db.engine.connect() as connection:
        overdue = connection.execute(text(
            "SELECT count(*) FROM request WHERE state IN ('new', 'assigned', 'claimed', 'reopened') AND "
            "((responded_at IS NULL AND respond_by < :now) OR resolve_by < :now)"),
            {"now": "2026-11-23 02:00:00.000000"}).scalar()
    assert overdue > 300
    assert len(lines) <= LINES_AT_MOST == 60 and len(digest) <= 4096, (len(lines), len(digest))
    assert lines[3] == f"在办 {lines[3].split()[1]} 件，其中超时 {overdue} 件："
    assert sum(line.startswith("  ⚠️ #") for line in lines) == 10
    assert f"  …还有 {overdue - 10} 件超时，见「超时」或网页" in lines
    en = small.digest_text("en")
    assert len(en.splitlines()) <= 60 and f"… {overdue - 10} more overdue: send /overdue" in en


def lists(app) -> list[tuple[str, str]]:
    """The lists people ask for, as each asker: a grid member's 我的 and its page 2, the secretary's 我的 and 超时 2,
    a resident's 我的诉求."""
    asked = [("李建国", "我的"), ("李建国", "我的 2"), ("赵书记", "我的"), ("赵书记", "超时 2"), ("r60", "我的诉求")]
    return [(who, ask(app, who, what)) for who, what in asked]


def test_lists_page_and_read_only_their_page(small, large):
    loaded = {}
    for name, app in (("10k", small), ("30k", large)):
        with Cost(app) as cost:
            answers = lists(app)
        loaded[name] = cost.loaded
        for who, answer in answers:
            assert len(answer) <= 2000 and len(answer.splitlines()) <= 25, (who, answer)
        member = answers[0][1].splitlines()
        assert member[0].startswith("待我处理：") and member[1].startswith("⚠️ #") and member[-1] == "更多：我的 2"
        assert answers[3][1].splitlines()[-1] == "更多：超时 3"
    # Five lists of at most ten lines: each reads its page (and the request a line names), whatever the history.
    assert loaded["10k"] <= 60 and loaded["30k"] <= 60, loaded


def plans_sqlite(app) -> list[str]:
    """EXPLAIN QUERY PLAN of every statement the digest and the lists run, on SQLite."""
    with Cost(app) as cost:
        app.digest_text()
        lists(app)
    raw = app.db.engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()
        return [" | ".join(row[-1] for row in cursor.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall())
                + "  <- " + sql for sql, params in cost.statements if sql.lstrip().upper().startswith("SELECT")]
    finally:
        raw.close()


def test_digest_and_list_queries_use_indexes_on_sqlite(small):
    plans = plans_sqlite(small)
    assert len(plans) > 15
    scans = [plan for plan in plans if FULL_SCAN.search(plan.split("  <- ")[0])]
    assert not scans, "\n".join(scans)


@pytest.mark.postgres
@pytest.mark.skipif(not pg_available(), reason=f"PostgreSQL not reachable at {PG_URL}")
def test_digest_and_list_queries_use_indexes_on_postgres(tmp_path_factory, settings):
    fresh_postgres(settings)
    app = bot(tmp_path_factory, 10_000, PG_URL)
    try:
        statements = []
        listen = lambda *a: statements.append((a[2], a[3]))  # noqa: E731
        event.listen(app.db.engine, "before_cursor_execute", listen)
        app.digest_text()
        lists(app)
        event.remove(app.db.engine, "before_cursor_execute", listen)
        raw = app.db.engine.raw_connection()
        try:
            cursor = raw.driver_connection.cursor()
            # With sequential scans priced out of reach, one that remains is a query no index can serve.
            cursor.execute("SET enable_seqscan = off")
            scans = []
            for sql, params in statements:
                if sql.lstrip().upper().startswith("SELECT"):
                    plan = "\n".join(row[0] for row in cursor.execute("EXPLAIN " + sql, params).fetchall())
                    if re.search(r"Seq Scan on (request|event|rating|follower)\b", plan):
                        scans.append(f"{sql}\n{plan}")
            assert not scans, "\n\n".join(scans)
        finally:
            raw.close()
    finally:
        app.db.dispose()
