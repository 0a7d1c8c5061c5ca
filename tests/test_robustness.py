"""No single message stops intake: what the database cannot store, brief connection errors, deadlocks, a busy
SQLite file and an outage's log, on SQLite and (marked) PostgreSQL."""
from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from bot.app import build_app
from bot.spool import MAX_TRIES
from handlers.messages import Inbound
from storage.db import BUSY_TIMEOUT
from storage.models import FollowUp, Offer, Request
from storage.uow import UnitOfWork
from tests.conftest import PG_URL, Console, fresh_postgres, pg_available
from tests.test_reliability import Recorder, database_away, group, rows

POSTGRES = pytest.param("postgres", marks=[
    pytest.mark.postgres, pytest.mark.skipif(not pg_available(), reason=f"PostgreSQL not reachable at {PG_URL}")])


@pytest.fixture(params=["sqlite", POSTGRES])
def on_each_backend(request, settings):
    """The shipped settings on SQLite, and again on PostgreSQL where it answers."""
    return fresh_postgres(settings) if request.param == "postgres" else settings


@pytest.fixture
def console_on(on_each_backend, clock):
    harness = Console(on_each_backend, clock)
    yield harness
    harness.app.db.dispose()


def private(text, message_id, sender="王阿姨"):
    return Inbound(channel="console", chat_id=f"@{sender}", chat_kind="private", sender_id=sender,
                   sender_name=sender, text=text, message_id=message_id, sender_chat=f"@{sender}")


def test_nul_bytes_and_lone_surrogates_are_filed_and_intake_goes_on(console_on):
    """12#5: on PostgreSQL a NUL in a report (or a sender's name) used to stop all intake for good."""
    app = console_on.app
    app.handle(group("#投诉 3号楼电梯\x00坏了", "m1", sender="王\x00阿姨"))
    app.handle(group("#投诉 3号楼路灯不亮\ud800", "m2", sender="李\udfff大爷"))
    app.handle(private("我的", "m3"))
    asyncio.run(app.drain())
    assert app.spool.waiting == 0
    assert [r.text for r in rows(app, Request)] == ["#投诉 3号楼电梯坏了", "#投诉 3号楼路灯不亮\ufffd"]
    assert console_on.in_chat("3号楼业主群")[:2] and all("诉求#" in t for t in console_on.in_chat("3号楼业主群")[:2])
    assert console_on.seen_by("王阿姨")[-1].startswith("我的诉求")


def test_a_kept_message_that_keeps_failing_is_set_aside_and_the_rest_go_on(settings, clock, monkeypatch):
    """12#5: a kept message failing for a reason other than the database used to block the spool forever."""
    channel = Recorder()
    app = build_app(settings, clock=clock, channels={"console": channel})
    app.spool.keep(group("#投诉 3号楼电梯坏了", "poison"))
    handle = app.dispatcher.handle

    def fails_on_poison(message):
        if message.message_id == "poison":
            raise ValueError("nothing the database can be blamed for")
        handle(message)
    monkeypatch.setattr(app.dispatcher, "handle", fails_on_poison)
    for n in range(MAX_TRIES):
        app.handle(group(f"#投诉 {n + 3}号楼路灯不亮", f"m{n}"))
    assert app.spool.waiting == 0 and not settings.spool_path.exists()
    assert [r.text for r in rows(app, Request)] == [f"#投诉 {n + 3}号楼路灯不亮" for n in range(MAX_TRIES)]
    [dead] = [json.loads(line) for line in app.spool.dead_path.read_text("utf-8").splitlines()]
    assert (dead["message_id"], dead["error"]) == ("poison", "ValueError")
    asyncio.run(app.drain())
    [notice] = [m.text for m in channel.sent if m.chat_id == "@赵书记"]
    assert "多次处理失败" in notice and app.spool.dead_path.name in notice and "电梯" not in notice


def brief_connection_error(monkeypatch, times=1):
    """The database connection cut under the first `times` reports, as a restart of PostgreSQL does."""
    from handlers import dispatcher
    real, left = dispatcher.file_request, [times]

    def cut(*args, **kwargs):
        if left[0]:
            left[0] -= 1
            raise OperationalError("INSERT ...", {}, ConnectionError("server closed the connection unexpectedly"))
        return real(*args, **kwargs)
    monkeypatch.setattr(dispatcher, "file_request", cut)


def test_a_brief_connection_error_files_the_report_instead_of_apologising(settings, clock, monkeypatch):
    """12#6: 3 of 240 reports during connection cuts got an apology and a failed row nobody reads."""
    channel = Recorder()
    app = build_app(settings, clock=clock, channels={"console": channel})
    brief_connection_error(monkeypatch)
    app.handle(group("#投诉 3号楼电梯坏了", "m1"))
    assert app.spool.waiting == 1 and rows(app, Offer) == []
    app.handle(group("#投诉 3号楼路灯不亮", "m2"))  # the connection is back: the kept one goes first
    asyncio.run(app.drain())
    assert [r.text for r in rows(app, Request)] == ["#投诉 3号楼电梯坏了", "#投诉 3号楼路灯不亮"]
    assert not any("系统出了点问题" in m.text for m in channel.sent)


def test_a_message_kept_after_a_real_failure_is_shown_to_the_secretary_until_handled(console, monkeypatch):
    """12#6: the kept message is in the digest until the secretary (or leader) says it is handled."""
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr("handlers.dispatcher.file_request", broken)
    sent = console.run("#投诉 3号楼电梯坏了")
    assert console.seen_by("王阿姨", sent) == ["抱歉，系统出了点问题。您的消息已保存，工作人员会跟进。"]
    monkeypatch.undo()
    digest = console.app.digest_text()
    assert "留存消息待处理（1）" in digest and "王阿姨：#投诉 3号楼电梯坏了" in digest
    sent = console.run("/as 李建国\n/in 私聊\n已处理 1\n/as 赵书记\n已处理 1\n已处理 1")
    assert console.seen_by("李建国", sent) == ["抱歉，只有网格长或书记可以处理留存消息。"]
    assert console.seen_by("赵书记", sent) == ["留存消息 1 已标记为处理完毕。", "没有编号为 1 的待处理留存消息（机器人没能处理、留给您跟进的居民消息），请检查编号；发「我的」可看到清单。"]
    assert "留存" not in console.app.digest_text()


def test_an_outage_logs_one_traceback_and_one_line_per_message(settings, clock, tmp_path, caplog):
    """12#8: every message during an outage logged a full traceback (249 lines in 60 s)."""
    app = build_app(settings, clock=clock, channels={"console": Recorder()})
    with database_away(app, tmp_path):
        for n in range(5):
            app.handle(group(f"#投诉 {n + 3}号楼电梯坏了", f"m{n}"))
    app.handle(group("#投诉 9号楼电梯坏了", "m9"))
    said = [r for r in caplog.records if r.name == "bot.app"]
    assert sum(r.exc_info is not None for r in said) == 1
    assert [r.levelname for r in said] == ["ERROR"] + ["WARNING"] * 5 + ["WARNING"]
    assert "works again" in said[-1].getMessage() and len(rows(app, Request)) == 6


def test_a_busy_sqlite_file_never_stalls_the_event_loop(settings, clock):
    """12#9: while another process held the write lock, each message blocked the loop for 2 × 10 s."""
    app = build_app(settings, clock=clock, channels={"console": Recorder()})
    other = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing
    try:
        started = time.monotonic()
        app.handle(group("#投诉 3号楼电梯坏了", "m1"))
        app.handle(group("#投诉 3号楼路灯不亮", "m2"))
        assert time.monotonic() - started < 4 * BUSY_TIMEOUT + 1, "each message waits at most the short timeout"
        assert app.spool.waiting == 2
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert asyncio.run(app.retry_kept()) == 2
    assert [r.text for r in rows(app, Request)] == ["#投诉 3号楼电梯坏了", "#投诉 3号楼路灯不亮"]


@pytest.mark.postgres
@pytest.mark.skipif(not pg_available(), reason=f"PostgreSQL not reachable at {PG_URL}")
def test_the_sweep_and_a_claim_never_deadlock(settings, clock):
    """12#7: the sweep locked a follow-up, then its request; a claim the other way round; the loser failed."""
    console = Console(fresh_postgres(settings), clock)
    app = console.app
    console.run("#投诉 3号楼电梯坏了")
    clock.advance(timedelta(minutes=61))  # the reminder and the escalation are due
    with UnitOfWork(app.db) as staff:  # a claim, half-way: the request changed, its follow-ups not yet
        request = staff.requests.get(1)
        request.state = "claimed"
        staff.session.add(request)
        staff.session.flush()
        sweep = threading.Thread(target=app.sweep)
        sweep.start()
        sweep.join(10)  # it passes over the busy request instead of waiting for it
        assert not sweep.is_alive()
        staff.followups.cancel(1, ("remind_respond", "escalate_respond"))
        staff.commit()
    statuses = {f.kind: f.status for f in rows(app, FollowUp)}
    assert (statuses["remind_respond"], statuses["escalate_respond"]) == ("cancelled", "cancelled")
    assert "failed" not in statuses.values()
    app.db.dispose()
