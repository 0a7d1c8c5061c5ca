"""The secretary's digest on a known day: counts, rates, tables, top categories and recurring problems."""
from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

from sqlalchemy import event
from typer.testing import CliRunner

from bot.cli import cli
from bot.scheduler import make_scheduler
from handlers.messages import Inbound
from storage.uow import UnitOfWork
from tests.conftest import PATIENCE, ROOT


def digest_for(console, name="赵书记"):
    return [t for t in console.seen_by(name) if t.startswith("📋")]


# Monday 11-23, from 10:00: four reports, one a repeat; one done and rated, one claimed late, one left unclaimed.
KNOWN_DAY = """
#投诉 3号楼电梯坏了
/as 李大爷
#投诉 3号楼电梯又停了
/as 陈阿姨
/in 5号楼业主群
#投诉 5号楼楼道灯不亮
/as 周叔
/in 3号楼业主群
#投诉 3号楼楼下垃圾没人清运
/as 李建国
/in 私聊
接单 1
办结 1 已修好
/as 王阿姨
满意
/advance 3h
/as 李建国
接单 3
"""


def test_digest_of_a_known_day(console):
    console.run(KNOWN_DAY)
    sent = console.run("/advance 19h")  # Tuesday 08:00: the digest of Monday goes out
    monday, digest = digest_for(console, "赵书记")  # the first tick on Monday caught up on Sunday's
    assert monday.startswith("📋 幸福里社区 日报（2026-11-22）")
    lines = digest.splitlines()
    assert lines[0] == "📋 幸福里社区 日报（2026-11-23）"
    assert lines[1] == "昨日：新增 3，接单 2，办结 1，评价 1，同类反映 1"
    # Response: #1 and #3 were claimed within their windows, #2 (lights, 2 h) was not.
    assert lines[2] == "近30天：响应率 67%，解决率 33%，满意率 100%"
    assert lines[3] == "在办 2 件，其中超时 1 件："
    assert lines[4].startswith("  ⚠️ #2 电力照明·5号楼·待接单")
    assert "按网格（近30天 受理/办结/在办/超时）：" in lines
    assert "  东区网格：2/1/1/0" in lines and "  中区网格：1/0/1/1" in lines
    assert "  李建国：2/1/1/0" in lines and "  张伟：1/0/1/1" in lines
    assert lines[-1] == "高频问题：电梯 2、电力照明 1、环境卫生 1"
    assert digest_for(console, "王强")[-1] == digest
    assert console.seen_by("王阿姨", sent) == [], "residents never get the digest"

    console.run("/advance 1h")
    assert len(digest_for(console)) == 2, "once a day"


def test_building_with_recurring_problem_is_flagged(console):
    for who in ("王阿姨", "李大爷", "周叔"):
        console.run(f"/as {who}\n#投诉 3号楼电梯坏了")
    console.run("/advance 22h")
    digest = digest_for(console)[-1]
    assert digest.splitlines()[-1] == "🔁 每月一题：3号楼 电梯 近30天反映 3 次"


def test_digest_command_prints_without_sending(console, tmp_path):
    console.run("#投诉 3号楼电梯坏了")
    config = tmp_path / "config.yaml"
    db_file = console.settings.database_url.removeprefix("sqlite:///")
    config.write_text((ROOT / "config.yaml").read_text("utf-8").replace("path: doorstep.db", f"path: {db_file}"),
                      "utf-8")
    queued = len(console.channel.sent) + asyncio.run(console.app.drain())
    result = CliRunner().invoke(cli, ["digest", "--config", str(config), "--at", "2026-11-23T10:30"])
    assert result.exit_code == 0 and "📋 幸福里社区 日报（2026-11-22）" in result.output
    assert "在办 1 件，没有超时。" in result.output
    assert asyncio.run(console.app.drain()) == 0 and len(console.channel.sent) == queued, "printing sends nothing"


def test_digest_command_shows_the_day_a_dev_console_moved_to(console, tmp_path):
    console.run("#投诉 3号楼电梯坏了\n/advance 2d")  # Wednesday 10:00 on the console's clock
    config = tmp_path / "config.yaml"
    db_file = console.settings.database_url.removeprefix("sqlite:///")
    config.write_text((ROOT / "config.yaml").read_text("utf-8").replace("path: doorstep.db", f"path: {db_file}"),
                      "utf-8")
    result = CliRunner().invoke(cli, ["digest", "--config", str(config)])
    assert result.exit_code == 0 and "📋 幸福里社区 日报（2026-11-24）" in result.output, result.output
    assert "其中超时 1 件" in result.output
    bad = CliRunner().invoke(cli, ["digest", "--config", str(config), "--at", "yesterday"])
    assert bad.exit_code == 2 and "--at" in bad.output and "Traceback" not in bad.output


def test_a_report_filed_while_the_digest_is_computed_is_handled_at_once(console):
    """The digest reads in a read transaction: on SQLite it takes no write lock, so a report that arrives meanwhile
    is filed straight away instead of waiting out the busy timeout and being spooled as if the database were down."""
    console.run("#投诉 3号楼电梯坏了")
    app, filed = console.app, []
    report = Inbound(channel="console", chat_id="5号楼业主群", chat_kind="group", sender_id="陈阿姨",
                     sender_name="陈阿姨", text="#投诉 5号楼楼道灯不亮", message_id="while-digest")

    def file_meanwhile(*_args) -> None:
        if not filed:  # inside the digest's transaction, after its first query
            filed.append(True)
            app.handle(report)

    event.listen(app.db.engine, "after_cursor_execute", file_meanwhile)
    try:
        assert app.send_digest_if_due()
    finally:
        event.remove(app.db.engine, "after_cursor_execute", file_meanwhile)
    assert filed and app.spool.waiting == 0, "nothing spooled"
    with UnitOfWork(app.db) as uow:
        assert uow.requests.get(2).text == "#投诉 5号楼楼道灯不亮"
    sent = console.run("/advance 1m")
    assert any(text.startswith("📋 幸福里社区 日报（2026-11-22）") for text in console.seen_by("赵书记", sent))


async def test_the_daily_digest_job_runs_in_a_worker_thread_not_the_event_loop(console):
    """The timer hands the digest to a worker thread (with its own session): the loop that polls the channels
    goes on while it is computed."""
    app, ran = console.app, asyncio.Event()
    loop, seen = asyncio.get_running_loop(), {}
    compute = app.send_digest_if_due

    def recorded() -> bool:
        seen["thread"] = threading.current_thread()
        sent = compute()
        loop.call_soon_threadsafe(ran.set)
        return sent

    app.send_digest_if_due = recorded
    scheduler = make_scheduler(app)
    scheduler.start()
    try:
        scheduler.get_job("digest").modify(next_run_time=datetime.now(UTC))
        await asyncio.wait_for(ran.wait(), PATIENCE)
    finally:
        scheduler.shutdown(wait=False)
    assert seen["thread"] is not threading.main_thread()
    with UnitOfWork(app.db) as uow:
        assert uow.ledger.digest_sent("幸福里社区", "2026-11-23"), "it went out from there"


def test_an_emergency_of_the_night_is_in_the_morning_digest(console):
    """The digest counts yesterday; a person trapped at 02:00 today is still the first thing the secretary reads."""
    console.run("/advance 16h")  # Monday 10:00 → Tuesday 02:00
    console.run("#投诉 3号楼2单元电梯困人了\n/as 李建国\n/in 私聊\n接单 1")
    console.run("/advance 6h")  # 08:00: the digest of Monday
    lines = digest_for(console, "赵书记")[-1].splitlines()
    assert lines[1] == "昨日：新增 0，接单 0，办结 0，评价 0，同类反映 0"
    assert lines[3] == "🚨 紧急诉求（昨日至今）1 件：" and lines[4].startswith("  ⚠️紧急 #1 电梯·3号楼2单元·处理中·办结已超时")
