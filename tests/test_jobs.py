"""The background jobs at scale: due follow-ups fired in batches exactly once (shared by instances on PostgreSQL),
retried after a failure, `tick` sweeping off the event loop, and old history pruned."""
from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import text

from bot import retention
from bot.app import build_app
from handlers import followups
from handlers.messages import Inbound
from storage.uow import UnitOfWork
from tests.bulk import KINDS, NOW, fill
from tests.conftest import PG_URL, fresh_postgres, pg_available
from tests.test_reliability import Recorder

# What firing each kind leaves in the outbox (fill() gives every request one due follow-up, kinds in turn): an
# escalation for lateness tells the leader, the assignee and the reporter, a re-ask asks the reporter, closing
# unrated tells the assignee and the reporter. fill()'s unclaimed ones are past their resolve-by too: they pass
# both rungs at once, and the secretary is told as well (the assignee and the reporter still hear it once).
MESSAGES = {"escalate_respond": 4, "escalate_resolve": 3, "rate_reask": 1, "close_unrated": 2}
RUNGS = {"escalate_respond": 2, "escalate_resolve": 1}


def _app(settings, clock):
    clock.now_is(NOW)
    return build_app(settings, clock=clock, channels={"console": Recorder()})


def _scalars(app, sql: str) -> list:
    with app.db.engine.connect() as connection:
        return list(connection.execute(text(sql)))


def _assert_each_fired_once(app, n: int) -> None:
    assert _scalars(app, f"select count(*) from followup where id <= {n} and status <> 'done'") == [(0,)]
    messages = Counter({r: c for r, c in _scalars(app, "select request_id, count(*) from outbox group by request_id")})
    escalated = Counter({r: c for r, c in _scalars(app, "select request_id, count(*) from event "
                                                       "where action = 'escalated' group by request_id")})
    for number in range(1, n + 1):
        kind = KINDS[(number - 1) % len(KINDS)][0]
        assert messages[number] == MESSAGES[kind], (number, kind)
        assert escalated[number] == RUNGS.get(kind, 0), (number, kind)
    closed = {r for (r,) in _scalars(app, "select id from request where state = 'closed'")}
    assert closed == {n for n in range(1, n + 1) if KINDS[(n - 1) % len(KINDS)][0] == "close_unrated"}


def test_a_backlog_of_due_follow_ups_fires_in_batches_each_once_with_its_messages(settings, clock):
    app = _app(settings, clock)
    fill(app, 450)  # more than two batches
    assert app.sweep() == 450
    _assert_each_fired_once(app, 450)
    assert app.sweep() == 0  # the escalations' next rung is a day away
    _assert_each_fired_once(app, 450)
    app.db.dispose()


def test_a_follow_up_that_fails_is_retried_later_and_its_batch_goes_out(settings, clock, monkeypatch, caplog):
    app = _app(settings, clock)
    fill(app, 8)
    escalate, broken = followups._FIRE["escalate_respond"], {5}

    def flaky(t, request):
        if request.id in broken:  # a failure of the moment, until it passes
            raise RuntimeError("a passing failure")
        escalate(t, request)

    monkeypatch.setitem(followups._FIRE, "escalate_respond", flaky)
    assert app.sweep() == 7
    assert "follow-up failed: id=5 kind=escalate_respond" in caplog.text
    assert _scalars(app, "select status, attempts from followup where id = 5") == [("pending", 1)]
    assert _scalars(app, "select count(*) from followup where id <= 8 and status = 'done'") == [(7,)]
    assert app.sweep() == 0  # it waits out its backoff: a minute
    clock.advance(timedelta(minutes=1))
    assert app.sweep() == 0
    assert _scalars(app, "select status, attempts from followup where id = 5") == [("pending", 2)]
    broken.clear()
    clock.advance(timedelta(minutes=1))
    assert app.sweep() == 0  # twice as long the second time
    clock.advance(timedelta(minutes=1))
    assert app.sweep() == 1
    assert _scalars(app, "select status, level from followup join request on request.id = request_id "
                         "where followup.id = 5") == [("done", 2)]
    assert _scalars(app, "select count(*) from outbox where request_id = 5") == [(MESSAGES["escalate_respond"],)]
    app.db.dispose()


def test_a_follow_up_that_keeps_failing_is_given_up_after_its_attempts(settings, clock, monkeypatch, caplog):
    app = _app(settings, clock)
    fill(app, 1)

    def broken(t, request):
        raise RuntimeError("a lasting failure")

    monkeypatch.setitem(followups._FIRE, "escalate_respond", broken)
    for _ in range(6):
        app.sweep()
        clock.advance(timedelta(hours=1))
    assert _scalars(app, "select status, attempts from followup where id = 1") == [("failed", 6)]
    assert "follow-up given up after 6 attempts: id=1" in caplog.text
    app.db.dispose()


def test_tick_sweeps_in_a_worker_thread_and_the_loop_goes_on(settings, clock, monkeypatch):
    """A sweep that cannot finish until the loop has run: in the loop it would wait for ever."""
    app = _app(settings, clock)
    fill(app, 4)
    loop_ran, escalate = threading.Event(), followups._FIRE["escalate_respond"]

    def waits_for_the_loop(t, request):
        assert loop_ran.wait(10), "the loop stood still while the sweep ran"
        escalate(t, request)

    monkeypatch.setitem(followups._FIRE, "escalate_respond", waits_for_the_loop)

    async def run() -> None:
        tick = asyncio.ensure_future(app.tick())
        await asyncio.sleep(0)
        loop_ran.set()
        await tick

    asyncio.run(run())
    _assert_each_fired_once(app, 4)
    app.db.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not pg_available(), reason=f"PostgreSQL not reachable at {PG_URL}")
def test_instances_share_the_backlog_on_postgres_and_pass_over_what_another_holds(settings, clock):
    settings = fresh_postgres(settings)
    first, second = _app(settings, clock), _app(settings, clock)
    fill(first, 60)
    with UnitOfWork(first.db) as held:  # the first instance is half-way through a batch of 10
        claimed = held.followups.claim_due(clock.now(), 10)
        assert second.sweep() == 50  # the second fires the rest, passing over those rows and their requests
        for row, request in claimed:
            followups.fire(first._turn(held), row, request)
        held.commit()
    assert first.sweep() == 0 and second.sweep() == 0
    _assert_each_fired_once(first, 60)
    first.db.dispose()
    second.db.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not pg_available(), reason=f"PostgreSQL not reachable at {PG_URL}")
def test_two_instances_sweeping_at_once_on_postgres_fire_each_follow_up_once(settings, clock):
    settings = fresh_postgres(settings)
    apps = [_app(settings, clock), _app(settings, clock)]
    fill(apps[0], 600)
    start, fired = threading.Barrier(2), []

    def sweep(app) -> None:
        start.wait()
        fired.append(app.sweep())

    workers = [threading.Thread(target=sweep, args=(app,)) for app in apps]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert sum(fired) == 600
    _assert_each_fired_once(apps[0], 600)
    for app in apps:
        app.db.dispose()


def test_pruning_deletes_only_old_finished_history_and_keeps_requests_and_their_timelines(settings, clock):
    app = _app(settings, clock)
    fill(app, 8, old=30)  # 8 requests with follow-ups due now; 30 closed four months ago, with their history
    app.sweep()
    app.handle(Inbound(channel="console", chat_id="3号楼业主群", chat_kind="group", sender_id="王阿姨",
                       sender_name="王阿姨", text="#投诉 3号楼电梯坏了", message_id="today-1"))
    asyncio.run(app.drain())
    with app.db.engine.begin() as connection:  # old, yet still waiting: a notice held for its person, a follow-up
        connection.execute(text("update outbox set status = 'held' where id = 1"))
        connection.execute(text("update followup set status = 'pending', retry_at = :later where request_id = 9"),
                           {"later": clock.now() + timedelta(hours=1)})
    before = {table: _scalars(app, f"select count(*) from {table}")[0][0]
              for table in ("request", "event", "rating", "outbox", "followup", "processedmessage")}

    deleted = retention.prune(app.db, app.clock, timedelta(days=90), batch=7)  # several batches of each

    assert deleted == {"outbox": 30 * 4 - 1, "followup": 30 - 1, "ledger": 30 * 4}
    after = {table: _scalars(app, f"select count(*) from {table}")[0][0] for table in before}
    assert {table: before[table] - after[table] for table in before} == {
        "request": 0, "event": 0, "rating": 0, "outbox": 119, "followup": 29, "processedmessage": 120}
    assert _scalars(app, "select id, status from outbox where request_id <= 38 and request_id > 8") == [(1, "held")]
    assert _scalars(app, "select request_id, status from followup where request_id > 8 and request_id <= 38") == [
        (9, "pending")]
    assert _scalars(app, "select message_id from processedmessage") == [("today-1",)]
    assert _scalars(app, "select count(*) from sqlite_stat1") != [(0,)]  # the planner's statistics were refreshed
    assert retention.prune(app.db, app.clock, timedelta(days=90)) == {"outbox": 0, "followup": 0, "ledger": 0}
    app.db.dispose()
