"""Every hot query keeps its index plan once the planner has statistics (ANALYZE after a realistic fill: most
messages sent, most follow-ups fired), on SQLite and on PostgreSQL: a query that scans a whole table costs in
proportion to all of history, and the outbox claim runs every second per channel."""
from __future__ import annotations

import asyncio
import re
import traceback

import psycopg
import pytest
from sqlalchemy import event

from bot.app import build_app
from handlers.messages import Inbound
from storage.schedule import _cancelling, pending_of
from storage.uow import UnitOfWork
from tests.bulk import NOW, fill
from tests.conftest import PG_URL, fresh_postgres, pg_available
from tests.test_reliability import Recorder

# Tables that grow with history; a few small ones (people, chats, bindings) may be read whole.
GROWING = ("request", "event", "followup", "outbox", "processedmessage", "offer", "rating", "identity", "follower")
FULL_SCAN = {"sqlite": re.compile(rf"^SCAN ({'|'.join(GROWING)})\b"),
             "postgresql": re.compile(rf"Seq Scan on ({'|'.join(GROWING)})\b")}


def _message(text: str, number: int, *, sender: str = "王阿姨", private: bool = False) -> Inbound:
    return Inbound(channel="console", chat_id=f"@{sender}" if private else "3号楼业主群",
                   chat_kind="private" if private else "group", sender_id=sender, sender_name=sender, text=text,
                   message_id=f"plan-{number}")


def _workload(app) -> None:
    """What runs all day: reports filed (one again, redelivered), a claim, progress and a rating, the sweep and
    the outbox drain."""
    app.handle(_message("#投诉 3号楼电梯坏了，困了好久", 1))
    app.handle(_message("#投诉 3号楼电梯坏了，困了好久", 1))  # a redelivery
    app.handle(_message("3号楼楼道灯不亮了", 2, sender="李大爷"))  # untagged: an offer
    app.handle(_message("1", 3, sender="李大爷"))
    app.handle(_message("我的诉求", 4, private=True))
    number = app.sweep() and None
    asyncio.run(app.drain())
    with UnitOfWork(app.db) as uow:
        number = max(r.id for r in uow.requests.own_page(
            uow.people.by_identity("console", "王阿姨").id, app.clock.now())[0])
    app.handle(_message(f"接单 {number}", 5, sender="李建国", private=True))
    app.handle(_message(f"办结 {number} 已修好", 6, sender="李建国", private=True))
    asyncio.run(app.drain())
    app.handle(_message("满意", 7, private=True))
    asyncio.run(app.drain())


def _recorded(app) -> list[tuple[str, object]]:
    """Run the workload, recording every statement sent to the database, with its parameters."""
    seen: list[tuple[str, object]] = []
    dialect = app.db.engine.dialect.name

    def keep(sql: str, params) -> None:
        # Not the privacy check every test runs on group messages (tests/group_sweep.py): it reads everything.
        if not any(frame.filename.endswith("group_sweep.py") for frame in traceback.extract_stack()):
            seen.append((sql, params))

    @event.listens_for(app.db.engine, "connect")
    def _record(dbapi_connection, _record) -> None:
        if dialect == "sqlite":
            dbapi_connection.set_trace_callback(lambda sql: keep(sql, None))
        else:
            class Recording(psycopg.Cursor):
                def execute(self, query, params=None, **kw):
                    keep(query, params)
                    return super().execute(query, params, **kw)
            dbapi_connection.cursor_factory = Recording

    app.db.engine.dispose()  # connections from here on record
    _workload(app)
    event.remove(app.db.engine, "connect", _record)
    app.db.engine.dispose()
    return seen


def _plans(app, statements) -> dict[str, list[str]]:
    plans = {}
    with app.db.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        for sql, params in statements:
            if not re.match(r"\s*(SELECT|UPDATE|DELETE|INSERT INTO \w+ \([^)]*\) SELECT|WITH)", sql, re.I) or sql in plans:
                continue
            if app.db.is_sqlite:
                plans[sql] = [row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + sql)]
            else:
                with raw.cursor() as cursor:
                    cursor.execute("EXPLAIN " + sql, params)
                    plans[sql] = [row[0] for row in cursor.fetchall()]
                raw.rollback()
    return plans


def _check(settings, clock, old: int) -> None:
    clock.now_is(NOW)
    app = build_app(settings, clock=clock, channels={"console": Recorder()})
    fill(app, 200, old=old)  # `old` closed requests, each with 4 sent messages, 4 ledger rows and a fired follow-up
    with app.db.engine.begin() as connection:  # exact statistics, not sampled as the daily job takes them: the
        connection.exec_driver_sql("ANALYZE")  # outbox claim chose a full scan with these
    plans = _plans(app, _recorded(app))
    assert len(plans) > 20  # the workload ran its queries
    pattern = FULL_SCAN[app.db.engine.dialect.name]
    scanned = {name for plan in plans.values() for line in plan for name in pattern.findall(line.strip())}
    big = _big_tables(app, scanned)
    scans = {sql: plan for sql, plan in plans.items()
             if any(found in big for line in plan for found in pattern.findall(line.strip()))}
    assert not scans, "\n\n".join(f"{sql}\n  " + "\n  ".join(plan) for sql, plan in scans.items())
    app.db.dispose()


def _big_tables(app, names: set[str]) -> set[str]:
    """On PostgreSQL, the tables among these that hold thousands of rows: reading a table of a few rows whole is
    what its planner rightly does, and SQLite scans only what no index serves, however small."""
    if app.db.is_sqlite:
        return names
    with app.db.engine.connect() as connection:
        return {name for name in names
                if connection.exec_driver_sql(f"select reltuples from pg_class where relname = '{name}'").scalar()
                >= 5000}


def test_hot_queries_keep_their_index_plans_with_statistics_on_sqlite(settings, clock):
    _check(settings, clock, old=3000)


@pytest.mark.postgres
@pytest.mark.skipif(not pg_available(), reason=f"PostgreSQL not reachable at {PG_URL}")
def test_hot_queries_keep_their_index_plans_with_statistics_on_postgres(settings, clock):
    _check(fresh_postgres(settings), clock, old=12000)  # enough rows that an index beats reading the table


def _backlog_after_statistics(app) -> int:
    """Statistics taken at a quiet moment (nothing pending among many fired follow-ups), then a backlog falls due
    before the planner learns it; returns a request with pending follow-ups."""
    fill(app, 200, old=12000)
    with app.db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE followup SET status = 'quiet' WHERE status = 'pending'")
        connection.exec_driver_sql("ANALYZE")
        connection.exec_driver_sql("UPDATE followup SET status = 'pending' WHERE status IN ('quiet', 'done')")
    return 1


def _plan_of(app, statement, values: dict) -> str:
    compiled = statement.compile(dialect=app.db.engine.dialect)
    params = compiled.construct_params(values)
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    with app.db.engine.connect() as connection:
        if app.db.is_sqlite:
            return "\n".join(row[3] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled.string,
                                                                            params))
        return "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + compiled.string, params))


def _check_one_requests_followups(settings, clock) -> None:
    clock.now_is(NOW)
    app = build_app(settings, clock=clock, channels={"console": Recorder()})
    request = _backlog_after_statistics(app)
    for statement in (_cancelling(("remind", "escalate")).statement, pending_of(request)):
        plan = _plan_of(app, statement, {"request": request})
        assert "ix_followup_request_id" in plan and "ix_followup_due" not in plan, plan
    app.db.dispose()


def test_one_requests_follow_ups_are_found_by_its_index_when_a_backlog_falls_due_on_sqlite(settings, clock):
    _check_one_requests_followups(settings, clock)


@pytest.mark.postgres
@pytest.mark.skipif(not pg_available(), reason=f"PostgreSQL not reachable at {PG_URL}")
def test_one_requests_follow_ups_are_found_by_its_index_when_a_backlog_falls_due_on_postgres(settings, clock):
    _check_one_requests_followups(fresh_postgres(settings), clock)
