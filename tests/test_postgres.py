"""The same loop on PostgreSQL, the scale-out backend; skipped where no server answers."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import make_url, text

from handlers.messages import Inbound
from tests.conftest import PG_URL, Console, fresh_postgres, pg_available

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not pg_available(), reason=f"PostgreSQL not reachable at {PG_URL}")]


@pytest.fixture
def pg_settings(settings):
    return fresh_postgres(settings)


def test_closed_loop_on_postgres(pg_settings, clock):
    console = Console(pg_settings, clock)
    console.run("#投诉 3号楼电梯坏了\n/as 李大爷\n#投诉 3号楼电梯又停了")
    sent = console.run("/as 李建国\n/in 私聊\n接单 1\n办结 1 修好了\n/as 王阿姨\n满意")
    assert console.seen_by("王阿姨", sent)[-1] == "谢谢您的评价！诉求#1 已关闭。有需要随时找我。"
    assert any("请您评价" in t for t in console.seen_by("李大爷", sent))
    console.app.handle(Inbound(channel="console", chat_id="3号楼业主群", chat_kind="group", sender_id="王阿姨",
                               sender_name="王阿姨", text="#投诉 3号楼电梯坏了",
                               message_id=f"c{console.session.run_id}-1"))
    with console.app.db.engine.connect() as connection:
        assert connection.execute(text("select count(*) from request")).scalar() == 1, "redelivery is a no-op"
        assert connection.execute(text("select state from request where id = 1")).scalar() == "closed"
    console.app.db.dispose()


def test_follow_ups_are_claimed_once_across_instances(pg_settings, clock):
    first = Console(pg_settings, clock)
    first.run("#投诉 3号楼电梯坏了")
    second = Console(pg_settings, clock)
    clock.advance(timedelta(minutes=61))
    fired = first.app.sweep() + second.app.sweep()
    assert fired == 2  # the reminder and the escalation, each fired by one instance only
    with first.app.db.engine.connect() as connection:
        assert connection.execute(text("select level from request where id = 1")).scalar() == 1
    first.app.db.dispose()
    second.app.db.dispose()


def test_messages_sent_while_the_database_is_down_are_handled_when_it_is_back(pg_settings, clock):
    console = Console(pg_settings, clock)
    console.run("#投诉 3号楼电梯坏了")  # the pool now holds live connections, which the outage will cut
    url = make_url(PG_URL)
    admin = psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                            dbname="postgres", autocommit=True)
    try:
        admin.execute(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS false')
    except psycopg.errors.InsufficientPrivilege:
        pytest.skip("taking the test database offline needs a superuser")
    try:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                      "AND pid <> pg_backend_pid()", (url.database,))
        sent = console.run("/as 李大爷\n#投诉 3号楼路灯不亮")
        assert console.in_chat("3号楼业主群", sent) == [] and console.app.spool.waiting == 1
        assert "did not go through" in console.out.getvalue()  # and the console session goes on
    finally:
        admin.execute(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS true')
        admin.close()
    assert asyncio.run(console.app.retry_kept()) == 1
    asyncio.run(console.app.drain())
    assert any(text.startswith("收到，已登记为 诉求#2") for text in console.seen_by("李大爷"))
    with console.app.db.engine.connect() as connection:
        assert connection.execute(text("select count(*) from request")).scalar() == 2
    console.app.db.dispose()

